//! Ships finished spans to the Collector as OTLP/JSON over `fetch`,
//! gzipped with `CompressionStream` where the browser has it.
//!
//! Uses the `fetch` the page had before Waggle wrapped it, so its own
//! requests are never traced. Batches by size and delay, retries by the
//! policy in `core::export`, and sends what is queued with `keepalive`
//! when the page is hidden, in bodies that fit the browser's 64 KiB budget.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Object, Promise, Reflect};
use opentelemetry::KeyValue;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::config::BatchConfig;
use crate::core::context::Contexts;
use crate::core::export::{classify, encode_chunks, retry_after_seconds, Backoff, Outcome, SpanQueue};
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

/// Requests under way at once outside a flush: a burst of spans goes out
/// a batch at a time, so only that batch is held as spans (for a retry)
/// while the rest waits, smaller, as the app's JS records.
const MAX_IN_FLIGHT: u32 = 1;

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
    /// Requests under way that were not sent by a flush.
    in_flight: u32,
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
            in_flight: 0,
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

    fn send(&mut self, mut spans: Vec<SpanData>, contexts: &Contexts, counted: bool) {
        let dropped = self.queue.take_dropped();
        let body = encode_grouped(&self.resource, &SCOPE, contexts, &spans, dropped);
        if body.len() <= MAX_BODY || spans.len() <= 1 {
            return self.post(body, false, spans, counted);
        }
        // A Collector refuses a body over its limit with 400, which is not
        // retried; bodies are kept well under the usual limits instead.
        for (body, n) in encode_chunks(&self.resource, &SCOPE, contexts, &spans, dropped, MAX_BODY) {
            let rest = spans.split_off(n.min(spans.len()));
            let chunk = core::mem::replace(&mut spans, rest);
            self.post(body, false, chunk, counted);
        }
    }

    fn post(&mut self, body: String, keepalive: bool, spans: Vec<SpanData>, counted: bool) {
        let init = Object::new();
        js::set(&init, "method", &"POST".into());
        let headers = Object::new();
        js::set(&headers, "Content-Type", &"application/json".into());
        js::set(&init, "headers", &headers);
        // Copied out as the UTF-8 bytes it already is: no JS string to
        // build, and nothing for the browser to encode again.
        let body: JsValue = js_sys::Uint8Array::from(body.as_bytes()).into();
        js::set(&init, "body", &body);
        if keepalive {
            js::set(&init, "keepalive", &JsValue::TRUE);
        }
        let count = spans.len();
        let debug = self.debug;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        if counted {
            self.in_flight += 1;
        }
        let pending = self.pending.clone();
        let fetch = self.fetch.clone();
        let url = JsValue::from(self.url.as_str());
        let send = move |init: &Object| match fetch.call2(&js::global(), &url, init) {
            Ok(p) => p,
            Err(e) => Promise::reject(&e).into(),
        };
        // A page being left cannot wait for compression; others are
        // gzipped (about a tenth of the bytes), or sent as they are when
        // compressing fails.
        let try_gzip = self.gzip && matches!(self.gzip_state, GzipState::Unknown | GzipState::Works);
        let compressed = if keepalive || !try_gzip { None } else { gzip(&body) };
        let zipped = compressed.is_some();
        let sent = match compressed {
            None => send(&init),
            Some(zipped) => js::settle(&zipped, move |ok, bytes| {
                if ok {
                    js::set(&headers, "Content-Encoding", &"gzip".into());
                    js::set(&init, "body", &bytes);
                }
                Ok(send(&init))
            }),
        };
        // Settles either way, so flush() never rejects and nothing of the
        // agent's shows up as an unhandled rejection.
        let settled = js::settle(&sent, move |ok, answer| {
            pending.borrow_mut().retain(|(i, _)| *i != id);
            if ok {
                let status = js::num(&answer, "status") as u16;
                let retry_after = js::call(&js::get(&answer, "headers"), "get", &["retry-after".into()])
                    .as_string()
                    .and_then(|v| retry_after_seconds(&v).or_else(|| http_date_delay_ms(&v)));
                js::debug(debug, &format!("export of {count} spans answered {status}"));
                with_agent(|a| {
                    a.exporter.gzip_answered(zipped, true);
                    answered(a, Some(status), retry_after, spans, counted)
                });
            } else {
                js::debug(debug, &format!("export of {count} spans failed: {}", super::agent::describe(&answer)));
                with_agent(|a| {
                    a.exporter.gzip_answered(zipped, false);
                    answered(a, None, None, spans, counted)
                });
            }
            Ok(JsValue::UNDEFINED)
        });
        self.pending.borrow_mut().push((id, settled.unchecked_into()));
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
    let mut spans = a.exporter.queue.take(n);
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

fn send_one_batch(a: &mut Agent) {
    if a.exporter.in_flight >= MAX_IN_FLIGHT {
        // The answer to one of them sends the next.
        return;
    }
    let spans = next_batch(a);
    if !spans.is_empty() {
        a.exporter.send(spans, &a.contexts, true);
    }
    if anything_waiting(a) {
        a.exporter.send_soon();
    }
}

/// Sends everything queued now, returning a promise that settles when
/// every request under way has been answered. With `keepalive` (the page
/// is being hidden or left) bodies fit the browser's keepalive budget.
pub fn flush(a: &mut Agent, keepalive: bool) -> Promise {
    a.exporter.timer = None;
    a.exporter.soon = false;
    a.exporter.retry_timer = None;
    loop {
        let spans = next_batch(a);
        if spans.is_empty() {
            break;
        }
        if keepalive {
            let dropped = a.exporter.queue.take_dropped();
            for (body, _) in encode_chunks(&a.exporter.resource, &SCOPE, &a.contexts, &spans, dropped, KEEPALIVE_BUDGET) {
                // The page is going away: nothing will be there to
                // retry, so these spans are not kept for it.
                a.exporter.post(body, true, Vec::new(), false);
            }
        } else {
            a.exporter.send(spans, &a.contexts, false);
        }
    }
    let all: Array = a.exporter.pending.borrow().iter().map(|(_, p)| p.clone()).collect();
    js::settle(&Promise::all(&all), |_, _| Ok(JsValue::UNDEFINED)).unchecked_into()
}

fn answered(a: &mut Agent, status: Option<u16>, retry_after_ms: Option<f64>, mut spans: Vec<SpanData>, counted: bool) {
    if counted {
        a.exporter.in_flight = a.exporter.in_flight.saturating_sub(1);
    }
    let e = &mut a.exporter;
    match classify(status) {
        Outcome::Done => e.retry_attempt = 0,
        Outcome::Retry if spans.is_empty() => {}
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
            e.send(spans, &a.contexts, counted);
            e.send(rest, &a.contexts, counted);
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
    if a.exporter.retry_timer.is_none() && anything_waiting(a) {
        a.exporter.send_soon();
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
}

impl PageHide {
    /// Listens for `visibilitychange` to hidden and for `pagehide`.
    pub fn start() -> Self {
        let document = js::get(&js::global(), "document");
        let doc2 = document.clone();
        let visibility = super::lib::listener::Listener::new(&document, "visibilitychange", false, move |_| {
            if js::string(&doc2, "visibilityState").as_deref() == Some("hidden") {
                with_agent(|a| flush(a, true));
            }
        });
        let pagehide = super::lib::listener::Listener::new(&js::global(), "pagehide", false, |_| {
            with_agent(|a| flush(a, true));
        });
        PageHide { _visibility: visibility, _pagehide: pagehide }
    }
}
