//! Ships finished spans to the Collector as OTLP/JSON over `fetch`,
//! gzipped with `CompressionStream` where the browser has it.
//!
//! One batch is under way at a time, so batches arrive in the order their
//! spans ended and an outage costs one failing request per retry; each
//! request is `keepalive` when it fits the browser's budget, so one under
//! way survives the page going away. When the page is hidden, what fits the
//! budget is sent and the rest is kept in storage for the next page of the
//! origin (see `spill`).
//!
//! Uses the `fetch` the page had before Waggle wrapped it, so its own
//! requests are never traced. Batches by size and delay, retries by the
//! policy in `core::export`, and sends what is queued with `keepalive`
//! when the page is hidden, in bodies that fit the browser's 64 KiB budget.

use std::cell::RefCell;
use std::rc::Rc;

use super::lib::guard::Timeout;
use js_sys::{Array, Function, Object, Promise, Reflect};
use opentelemetry::KeyValue;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::config::BatchConfig;
use crate::core::context::Contexts;
use crate::core::export::{classify, encode_chunks, estimated_size, partial_success, retry_after_seconds, Backoff, Outcome, SpanQueue};
use crate::core::otlp::{encode_grouped, Scope};
use crate::core::span::SpanData;

use super::agent::{with_agent, Agent};
use super::app_spans::{self, waiting};
use super::lib::js;

/// The scope reported with every span.
pub const SCOPE: Scope = Scope { name: "waggle-rum", version: env!("CARGO_PKG_VERSION") };

/// Bytes per body for `keepalive` requests, under the browser's 64 KiB.
const KEEPALIVE_BUDGET: usize = 60_000;

/// Bytes per body otherwise: a quarter of the bundled relay's 4 MiB limit.
const MAX_BODY: usize = 1_000_000;

/// Marks a request whose body the hide flush took while it was being
/// compressed.
const TAKEN: &str = "waggle: sent by the hide flush";

/// About the most bytes encoded for one request when bodies cannot be
/// gzipped: small enough that the request can be `keepalive`.
const BATCH_BYTES: usize = 56_000;

/// The browser's budget for `keepalive` bodies in flight at once, per page.
const KEEPALIVE_QUOTA: usize = 65_536;

#[derive(Clone, Copy, PartialEq, Eq)]
enum GzipState {
    Unknown,
    Works,
    Probing,
    Refused,
}

/// Queue and transport.
pub struct Exporter {
    url: String,
    fetch: Function,
    resource: Vec<KeyValue>,
    batch: BatchConfig,
    queue: SpanQueue<SpanData>,
    timer: Option<Timeout>,
    backoff: Backoff,
    retry_attempt: u32,
    retry_timer: Option<Timeout>,
    /// Requests under way, by id, so `flush` can wait for them.
    pending: Rc<RefCell<Vec<(u32, Promise)>>>,
    /// Requests of ordinary sending under way: one batch at a time, so
    /// only that batch is held as spans (for a retry) while the rest
    /// waits, smaller, as the app's JS records.
    busy: u32,
    /// Loss counts carried by requests under way, by request id: a count
    /// whose request fails goes back to be reported again.
    reported: Vec<(u32, u64)>,
    /// Body sizes of `keepalive` requests under way, by request id.
    keepalive: Vec<(u32, usize)>,
    /// `pagehide` has fired and no `visibilitychange` to visible since.
    leaving: bool,
    /// Requests still being compressed, with their plain bodies: a page
    /// hidden meanwhile may be gone before compression ends, so the hide
    /// flush sends (or keeps) these instead.
    compressing: Vec<(u32, JsValue)>,
    warned_partial: bool,
    next_id: u32,
    /// A zero-delay send is scheduled.
    soon: bool,
    /// Bodies are gzipped (the browser has `CompressionStream`).
    gzip: bool,
    /// Whether the endpoint takes gzip: a Collector whose CORS does not
    /// allow `Content-Encoding` fails every gzipped request as a network
    /// error, so after such a failure the next request goes plain, and if
    /// that one is answered, bodies stay plain.
    gzip_state: GzipState,
    debug: bool,
    warned_drop: bool,
}

impl Exporter {
    /// An exporter posting to `url` with the page's original `fetch`.
    pub fn new(url: String, fetch: Function, resource: Vec<KeyValue>, batch: BatchConfig, debug: bool) -> Self {
        Exporter {
            url,
            fetch,
            resource,
            queue: SpanQueue::new(batch.max_queue_size),
            batch,
            timer: None,
            backoff: Backoff::default(),
            retry_attempt: 0,
            retry_timer: None,
            pending: Rc::new(RefCell::new(Vec::new())),
            busy: 0,
            reported: Vec::new(),
            keepalive: Vec::new(),
            leaving: false,
            compressing: Vec::new(),
            warned_partial: false,
            next_id: 0,
            soon: false,
            gzip: js::get(&js::global(), "CompressionStream").is_function(),
            gzip_state: GzipState::Unknown,
            debug,
            warned_drop: false,
        }
    }

    /// Queues a finished span and schedules a send.
    pub fn push(&mut self, span: SpanData) {
        self.queue.push(span);
        self.schedule(0);
    }

    /// Schedules a send for what is queued here plus `waiting` spans on
    /// the JS side: at once for a full batch, else after the delay.
    pub fn schedule(&mut self, waiting: usize) {
        if self.retry_timer.is_some() {
            return;
        }
        if self.queue.len() + waiting >= self.batch.max_export_batch_size {
            self.send_soon();
        } else if self.timer.is_none() {
            self.timer = Some(Timeout::new(self.batch.scheduled_delay_ms, || {
                with_agent(|a| {
                    a.exporter.timer = None;
                    if a.exporter.retry_timer.is_none() {
                        send_one_batch(a);
                    }
                });
            }));
        }
    }

    /// Sends a full batch in a task of its own, never inside the app's
    /// call that ended the span, and one batch per task, so a burst of
    /// spans does not become one long task of encoding.
    fn send_soon(&mut self) {
        if self.soon {
            return;
        }
        self.soon = true;
        self.timer = Some(Timeout::new(0, || {
            with_agent(|a| {
                a.exporter.timer = None;
                a.exporter.soon = false;
                if a.exporter.retry_timer.is_none() {
                    send_one_batch(a);
                }
            });
        }));
    }

    /// Counts spans lost before they reached the queue.
    pub fn add_dropped(&mut self, n: u64) {
        self.queue.add_dropped(n);
    }

    /// Sends a batch as one request (or, past the body limit, several),
    /// counted as ordinary sending.
    fn send(&mut self, mut spans: Vec<SpanData>, contexts: &Contexts) {
        let dropped = self.queue.take_dropped();
        let body = encode_grouped(&self.resource, &SCOPE, contexts, &spans, dropped);
        if body.len() <= MAX_BODY || spans.len() <= 1 {
            return self.post_counted(body, spans, dropped);
        }
        // A Collector refuses a body over its limit with 400, which is not
        // retried; bodies are kept well under the usual limits instead.
        // The loss count rides on the first body only.
        let mut report = dropped;
        for (body, n) in encode_chunks(&self.resource, &SCOPE, contexts, &spans, dropped, MAX_BODY) {
            let rest = spans.split_off(n.min(spans.len()));
            let chunk = core::mem::replace(&mut spans, rest);
            self.post_counted(body, chunk, core::mem::take(&mut report));
        }
    }

    /// Posts a batch whose body reports `dropped` earlier losses; if the
    /// batch is not delivered, the count goes back to be reported again.
    fn post_counted(&mut self, body: String, spans: Vec<SpanData>, dropped: u64) {
        self.busy += 1;
        self.reported.push((self.next_id, dropped));
        self.post(body, false, spans);
    }

    /// Whether a body of `len` bytes can go as `keepalive` now, claiming
    /// its share of the browser's budget if so.
    fn claim_keepalive(&mut self, id: u32, len: usize) -> bool {
        let in_flight: usize = self.keepalive.iter().map(|(_, n)| n).sum();
        let ok = len <= KEEPALIVE_BUDGET && in_flight + len <= KEEPALIVE_QUOTA;
        if ok {
            self.keepalive.push((id, len));
        }
        ok
    }

    /// Posts `body`; `leaving` marks a request of the hide flush (always
    /// `keepalive`, never gzipped: the page cannot wait for compression).
    fn post(&mut self, body: String, leaving: bool, spans: Vec<SpanData>) {
        // Copied out as the UTF-8 bytes it already is: no JS string to
        // build, and nothing for the browser to encode again.
        let bytes: JsValue = js_sys::Uint8Array::from(body.as_bytes()).into();
        self.post_bytes(bytes, body.len(), leaving, spans);
    }

    /// Posts `body`, UTF-8 bytes of length `plain_len` already in the JS
    /// heap, as [`Exporter::post`] does.
    fn post_bytes(&mut self, body: JsValue, plain_len: usize, leaving: bool, spans: Vec<SpanData>) {
        let init = Object::new();
        js::set(&init, "method", &"POST".into());
        let headers = Object::new();
        js::set(&headers, "Content-Type", &"application/json".into());
        js::set(&init, "headers", &headers);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        js::set(&init, "body", &body);
        let count = spans.len();
        let debug = self.debug;
        let pending = self.pending.clone();
        let fetch = self.fetch.clone();
        let url = JsValue::from(self.url.as_str());
        let send = move |init: &Object| match fetch.call2(&js::global(), &url, init) {
            Ok(p) => p,
            Err(e) => Promise::reject(&e).into(),
        };
        // Gzipped where the browser can (about a tenth of the bytes), or
        // sent as it is when compressing fails.
        let try_gzip = self.gzip && matches!(self.gzip_state, GzipState::Unknown | GzipState::Works);
        let compressed = if leaving || !try_gzip { None } else { gzip(&body) };
        let zipped = compressed.is_some();
        if zipped {
            self.compressing.push((id, body.clone()));
        }
        let sent = match compressed {
            None => {
                if leaving {
                    self.keepalive.push((id, plain_len));
                }
                if leaving || self.claim_keepalive(id, plain_len) {
                    js::set(&init, "keepalive", &JsValue::TRUE);
                }
                send(&init)
            }
            Some(zipped) => js::settle(&zipped, move |ok, bytes| {
                // After shutdown there is no agent to ask, and the request
                // still goes: it is the final flush's.
                if with_agent(|a| a.exporter.compressed(id)) == Some(false) {
                    return Ok(JsValue::from_str(TAKEN));
                }
                let len = if ok {
                    js::set(&headers, "Content-Encoding", &"gzip".into());
                    js::set(&init, "body", &bytes);
                    js::num(&bytes, "byteLength") as usize
                } else {
                    plain_len
                };
                if with_agent(|a| a.exporter.claim_keepalive(id, len)) == Some(true) {
                    js::set(&init, "keepalive", &JsValue::TRUE);
                }
                Ok(send(&init))
            }),
        };
        // Settles either way, so flush() never rejects and nothing of the
        // agent's shows up as an unhandled rejection.
        let settled_promise = js::settle(&sent, move |ok, answer| {
            pending.borrow_mut().retain(|(i, _)| *i != id);
            if ok && answer.as_string().as_deref() == Some(TAKEN) {
                with_agent(|a| a.exporter.taken(id));
            } else if ok {
                let status = js::num(&answer, "status") as u16;
                let retry_after = js::call(&js::get(&answer, "headers"), "get", &["retry-after".into()])
                    .as_string()
                    .and_then(|v| retry_after_seconds(&v).or_else(|| http_date_delay_ms(&v)));
                js::debug(debug, &format!("export of {count} spans answered {status}"));
                // The request is over (and its share of the keepalive
                // budget free again) once the answer's body is in; the body
                // may also hold a partialSuccess.
                let text = js::call(&answer, "text", &[]);
                if js::get(&text, "then").is_function() {
                    return Ok(js::settle(&text, move |ok, body| {
                        if let Some((n, message)) = body.as_string().filter(|_| ok && (200..300).contains(&status)).and_then(|b| partial_success(&b)) {
                            with_agent(|a| a.exporter.partial(n, &message));
                        }
                        with_agent(|a| settled(a, id, zipped, Some(status), retry_after, spans));
                        Ok(JsValue::UNDEFINED)
                    }));
                }
                with_agent(|a| settled(a, id, zipped, Some(status), retry_after, spans));
            } else {
                js::debug(debug, &format!("export of {count} spans failed: {}", super::agent::describe(&answer)));
                with_agent(|a| settled(a, id, zipped, None, None, spans));
            }
            Ok(JsValue::UNDEFINED)
        });
        self.pending.borrow_mut().push((id, settled_promise.unchecked_into()));
    }

    /// Compression of request `id` ended: whether it is still this
    /// request's to send (the hide flush has not taken it).
    fn compressed(&mut self, id: u32) -> bool {
        let before = self.compressing.len();
        self.compressing.retain(|(i, _)| *i != id);
        self.compressing.len() != before
    }

    /// Request `id` was sent by the hide flush instead.
    fn taken(&mut self, id: u32) {
        if let Some(i) = self.reported.iter().position(|(r, _)| *r == id) {
            self.reported.swap_remove(i);
            self.busy = self.busy.saturating_sub(1);
        }
    }

    /// The page is going away (`pagehide`): a request under way that fails
    /// from now on is not retried. The browser cancels it as the page goes,
    /// often after the Collector has it, and sending it again would deliver
    /// its spans twice.
    pub fn leave(&mut self) {
        self.leaving = true;
    }

    /// The page is shown (again, from the back-forward cache, or a new
    /// page): sends what a page of this origin kept in storage for this
    /// endpoint.
    pub fn shown(&mut self) {
        self.leaving = false;
        for body in super::spill::take(&self.url) {
            self.post_counted(body, Vec::new(), 0);
        }
    }

    /// The browser is back online: what waited goes now, and a retry
    /// waiting out its backoff goes at once.
    pub fn online(&mut self) {
        self.retry_timer = None;
        self.retry_attempt = 0;
        self.send_soon();
    }

    fn partial(&mut self, rejected: u64, message: &str) {
        if !self.warned_partial {
            self.warned_partial = true;
            js::warn(&format!("the Collector rejected {rejected} spans: {message}"));
        }
    }

    fn gzip_answered(&mut self, zipped: bool, answered: bool) {
        self.gzip_state = match (self.gzip_state, zipped, answered) {
            (_, true, true) => GzipState::Works,
            (GzipState::Unknown, true, false) => GzipState::Probing,
            (GzipState::Probing, false, true) => {
                js::warn(&format!(
                    "{} does not accept gzipped requests from this page (allow the Content-Encoding header in its CORS settings); sending uncompressed",
                    self.url
                ));
                GzipState::Refused
            }
            (GzipState::Probing, false, false) => GzipState::Unknown,
            (state, _, _) => state,
        };
    }

    fn lost(&mut self, n: usize, why: &str) {
        if n == 0 {
            return;
        }
        self.queue.add_dropped(n as u64);
        if !self.warned_drop {
            self.warned_drop = true;
            js::warn(&format!(
                "{n} spans could not be delivered to {}: {why}. Further losses are counted in the waggle.dropped_spans resource attribute.",
                self.url
            ));
        }
    }
}

/// `body` (bytes) gzipped by the browser: a promise of an `ArrayBuffer`,
/// or `None` when the browser cannot.
fn gzip(body: &JsValue) -> Option<JsValue> {
    let g = js::global();
    let make = |name: &str, arg: &JsValue| -> Option<JsValue> {
        let ctor: Function = js::get(&g, name).dyn_into().ok()?;
        Reflect::construct(&ctor, &Array::of1(arg)).ok()
    };
    let stream = make("CompressionStream", &"gzip".into())?;
    let writer = js::call(&js::get(&stream, "writable"), "getWriter", &[]);
    // Their promises settle with the readable side's; errors surface there.
    for p in [js::call(&writer, "write", &[body.clone()]), js::call(&writer, "close", &[])] {
        js::call(&p, "catch", &[js::noop()]);
    }
    let response = make("Response", &js::get(&stream, "readable"))?;
    let bytes = js::call(&response, "arrayBuffer", &[]);
    bytes.is_object().then_some(bytes)
}

/// The next batch: spans the agent made, then the app's from the JS side.
fn next_batch(a: &mut Agent) -> Vec<SpanData> {
    let n = a.exporter.batch.max_export_batch_size;
    let bytes = if a.exporter.gzip { MAX_BODY } else { BATCH_BYTES };
    let mut spans = a.exporter.queue.take_within(n, bytes, estimated_size);
    // Unsampled app spans are dropped as they are taken: keep taking
    // until the batch is full or nothing waits.
    while spans.len() < n && waiting(a) > 0 {
        let more = app_spans::take(a, n - spans.len());
        spans.extend(more);
    }
    spans
}

fn anything_waiting(a: &Agent) -> bool {
    !a.exporter.queue.is_empty() || waiting(a) > 0
}

/// Whether the browser says it has no network.
fn offline() -> bool {
    js::get(&js::get(&js::global(), "navigator"), "onLine").as_bool() == Some(false)
}

fn send_one_batch(a: &mut Agent) {
    // One batch at a time (the answer to it sends the next). Offline, a
    // request would only fail and use up a retry: spans wait (bounded by
    // the queue) for the `online` event.
    if a.exporter.busy > 0 || offline() {
        return;
    }
    let spans = next_batch(a);
    if !spans.is_empty() {
        a.exporter.send(spans, &a.contexts);
    }
    if a.exporter.busy == 0 && anything_waiting(a) {
        a.exporter.send_soon();
    }
}

/// Sends everything queued now, returning a promise that settles when
/// every request under way has been answered.
pub fn flush(a: &mut Agent) -> Promise {
    a.exporter.timer = None;
    a.exporter.soon = false;
    a.exporter.retry_timer = None;
    loop {
        let spans = next_batch(a);
        if spans.is_empty() {
            break;
        }
        a.exporter.send(spans, &a.contexts);
    }
    let all: Array = a.exporter.pending.borrow().iter().map(|(_, p)| p.clone()).collect();
    js::settle(&Promise::all(&all), |_, _| Ok(JsValue::UNDEFINED)).unchecked_into()
}

/// The page is hidden or going away: sends what the browser's `keepalive`
/// budget lets through now, and keeps the rest in storage for the next
/// page (see `spill`), rather than losing it.
pub fn hide(a: &mut Agent) {
    a.exporter.timer = None;
    a.exporter.soon = false;
    a.exporter.retry_timer = None;
    let mut spans = a.exporter.queue.take(usize::MAX);
    let rest = waiting(a);
    spans.extend(app_spans::take(a, rest));
    let e = &mut a.exporter;
    let mut budget = KEEPALIVE_QUOTA.saturating_sub(e.keepalive.iter().map(|(_, n)| n).sum());
    let mut kept = Vec::new();
    // A batch still being compressed may never be sent if the page goes:
    // its plain body goes now, or is kept.
    for (_, bytes) in core::mem::take(&mut e.compressing) {
        let len = js::num(&bytes, "byteLength") as usize;
        if len <= KEEPALIVE_BUDGET && len <= budget {
            budget -= len;
            e.post_bytes(bytes, len, true, Vec::new());
        } else if let Some(text) = utf8(&bytes) {
            kept.push((text, 0));
        }
    }
    if spans.is_empty() && kept.is_empty() {
        return;
    }
    let dropped = e.queue.take_dropped();
    for (body, n) in encode_chunks(&e.resource, &SCOPE, &a.contexts, &spans, dropped, KEEPALIVE_BUDGET) {
        if body.len() <= budget {
            budget -= body.len();
            // Nothing may be there to retry: these spans are not kept.
            e.post(body, true, Vec::new());
        } else {
            kept.push((body, n));
        }
    }
    let lost = super::spill::save(&e.url, kept);
    e.queue.add_dropped(lost as u64);
}

/// The text of UTF-8 `bytes`.
fn utf8(bytes: &JsValue) -> Option<String> {
    let ctor: Function = js::get(&js::global(), "TextDecoder").dyn_into().ok()?;
    let decoder = Reflect::construct(&ctor, &Array::new()).ok()?;
    js::call(&decoder, "decode", &[bytes.clone()]).as_string()
}

/// An answer (or a failure) for request `id`: the policy decides, then
/// the next batch goes if nothing else is under way.
fn settled(a: &mut Agent, id: u32, zipped: bool, status: Option<u16>, retry_after_ms: Option<f64>, spans: Vec<SpanData>) {
    let e = &mut a.exporter;
    e.gzip_answered(zipped, status.is_some());
    e.keepalive.retain(|(k, _)| *k != id);
    // Requests of the hide flush are not counted: nothing waits on them.
    let counted = e.reported.iter().position(|(r, _)| *r == id).map(|i| e.reported.swap_remove(i));
    if let Some((_, dropped)) = counted {
        if !matches!(classify(status), Outcome::Done) {
            e.queue.add_dropped(dropped);
        }
        e.busy = e.busy.saturating_sub(1);
    }
    answered(a, status, retry_after_ms, spans);
    if a.exporter.busy == 0 && a.exporter.retry_timer.is_none() && anything_waiting(a) {
        a.exporter.send_soon();
    }
}

fn answered(a: &mut Agent, status: Option<u16>, retry_after_ms: Option<f64>, mut spans: Vec<SpanData>) {
    let e = &mut a.exporter;
    match classify(status) {
        Outcome::Done => e.retry_attempt = 0,
        Outcome::Retry if spans.is_empty() || e.leaving => {}
        Outcome::Retry => {
            e.retry_attempt += 1;
            let jitter = js_sys::Math::random();
            match e.backoff.delay_ms(e.retry_attempt, retry_after_ms, jitter) {
                Some(ms) => {
                    e.queue.requeue(spans);
                    e.timer = None;
                    e.soon = false;
                    e.retry_timer = Some(Timeout::new(ms as u32, || {
                        with_agent(|a| {
                            a.exporter.retry_timer = None;
                            send_one_batch(a);
                        });
                    }));
                }
                None => {
                    e.retry_attempt = 0;
                    e.lost(spans.len(), "the Collector did not accept them after several retries");
                }
            }
        }
        Outcome::Split if spans.len() > 1 => {
            let rest = spans.split_off(spans.len() / 2);
            e.send(spans, &a.contexts);
            e.send(rest, &a.contexts);
        }
        Outcome::Split | Outcome::Drop => {
            let why = match status {
                Some(413) => "the Collector answered 413: a single span is larger than its body limit".to_string(),
                Some(s) => format!("the Collector answered {s}"),
                None => "the request failed".to_string(),
            };
            e.lost(spans.len(), &why);
        }
    }
}

fn http_date_delay_ms(value: &str) -> Option<f64> {
    let at = js_sys::Date::parse(value);
    if at.is_nan() {
        return None;
    }
    Some((at - js_sys::Date::now()).max(0.0))
}

/// Sends what is queued when the page is hidden or unloaded, the last
/// moment a page is sure to run code.
pub struct PageHide {
    _visibility: Option<super::lib::listener::Listener>,
    _pagehide: Option<super::lib::listener::Listener>,
    _online: Option<super::lib::listener::Listener>,
    _pageshow: Option<super::lib::listener::Listener>,
}

impl PageHide {
    /// Listens for `visibilitychange` to hidden and for `pagehide`.
    pub fn start() -> Self {
        let document = js::get(&js::global(), "document");
        let doc2 = document.clone();
        let visibility = super::lib::listener::Listener::new(&document, "visibilitychange", false, move |_| {
            if js::string(&doc2, "visibilityState").as_deref() == Some("hidden") {
                with_agent(hide);
            } else {
                // Shown again: what was kept for later can go now.
                with_agent(|a| a.exporter.shown());
            }
        });
        let pagehide = super::lib::listener::Listener::new(&js::global(), "pagehide", false, |_| {
            with_agent(|a| {
                a.exporter.leave();
                hide(a);
            });
        });
        with_agent(|a| a.exporter.shown());
        let online = super::lib::listener::Listener::new(&js::global(), "online", false, |_| {
            with_agent(|a| a.exporter.online());
        });
        // Restored from the back-forward cache: the page lives again.
        let pageshow = super::lib::listener::Listener::new(&js::global(), "pageshow", false, |e| {
            if js::get(&e, "persisted").as_bool() == Some(true) {
                with_agent(|a| a.exporter.shown());
            }
        });
        PageHide { _visibility: visibility, _pagehide: pagehide, _online: online, _pageshow: pageshow }
    }
}
