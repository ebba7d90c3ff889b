//! Ships finished spans to the Collector as OTLP/JSON over `fetch`.
//!
//! Uses the `fetch` the page had before Waggle wrapped it, so its own
//! requests are never traced. Batches by size and delay, retries by the
//! policy in `core::export`, and sends what is queued with `keepalive`
//! when the page is hidden, in bodies that fit the browser's 64 KiB budget.

use std::cell::RefCell;
use std::rc::Rc;

use super::lib::guard::Timeout;
use js_sys::{Array, Function, Object, Promise};
use opentelemetry::KeyValue;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::config::BatchConfig;
use crate::core::export::{classify, encode_chunks, estimated_size, partial_success, retry_after_seconds, Backoff, Outcome, SpanQueue};
use crate::core::otlp::{encode_request, Scope};
use crate::core::span::SpanData;

use super::agent::with_agent;
use super::lib::js;

/// The scope reported with every span.
pub const SCOPE: Scope = Scope { name: "waggle-rum", version: env!("CARGO_PKG_VERSION") };

/// Bytes per body for `keepalive` requests, under the browser's 64 KiB.
const KEEPALIVE_BUDGET: usize = 60_000;

/// Bytes per body otherwise: a quarter of the bundled relay's 4 MiB limit.
const MAX_BODY: usize = 1_000_000;

/// About the most bytes encoded for one request. Small enough that the
/// request can be `keepalive` and so survive the page going away while it
/// is under way (one at a time fits the browser's budget), and that
/// encoding a batch, done in one task, stays far from a long task even for
/// spans with a dozen timing events each.
const BATCH_BYTES: usize = 56_000;

/// The browser's budget for `keepalive` bodies in flight at once, per page.
const KEEPALIVE_QUOTA: usize = 65_536;

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
    next_id: u32,
    /// A zero-delay send is scheduled.
    soon: bool,
    debug: bool,
    warned_drop: bool,
    /// Requests of ordinary sending under way: one batch at a time,
    /// so batches arrive in the order their spans ended, and an outage
    /// costs one failing request per retry rather than one per batch.
    busy: u32,
    /// Loss counts carried by requests under way, by request id.
    reported: Vec<(u32, u64)>,
    /// Body sizes of `keepalive` requests under way, by request id.
    keepalive: Vec<(u32, usize)>,
    /// `pagehide` has fired and no `visibilitychange` to visible since.
    leaving: bool,
    warned_partial: bool,
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
            next_id: 0,
            soon: false,
            debug,
            warned_drop: false,
            busy: 0,
            reported: Vec::new(),
            keepalive: Vec::new(),
            leaving: false,
            warned_partial: false,
        }
    }

    /// Queues a finished span and schedules a send.
    pub fn push(&mut self, span: SpanData) {
        self.queue.push(span);
        if self.retry_timer.is_some() {
            return;
        }
        if self.queue.len() >= self.batch.max_export_batch_size {
            self.send_soon();
        } else if self.timer.is_none() {
            self.timer = Some(Timeout::new(self.batch.scheduled_delay_ms, || {
                with_agent(|a| {
                    a.exporter.timer = None;
                    if a.exporter.retry_timer.is_none() {
                        a.exporter.send_one_batch();
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
                    a.exporter.send_one_batch();
                }
            });
        }));
    }

    fn send_one_batch(&mut self) {
        // Offline, a request would only fail and use up a retry: spans wait
        // (bounded by the queue) for the `online` event.
        if self.queue.is_empty() || self.busy > 0 || offline() {
            return;
        }
        let spans = self.queue.take_within(self.batch.max_export_batch_size, BATCH_BYTES, estimated_size);
        self.send(spans);
        if !self.queue.is_empty() {
            self.send_soon();
        }
    }

    /// Sends everything queued now, returning a promise that settles when
    /// every request under way has been answered.
    pub fn flush(&mut self, keepalive: bool) -> Promise {
        self.timer = None;
        self.soon = false;
        self.retry_timer = None;
        self.send_batches(keepalive);
        let all: Array = self.pending.borrow().iter().map(|(_, p)| p.clone()).collect();
        js::settle(&Promise::all(&all), |_, _| Ok(JsValue::UNDEFINED)).unchecked_into()
    }

    fn send_batches(&mut self, keepalive: bool) {
        while !self.queue.is_empty() {
            let spans = self.queue.take(self.batch.max_export_batch_size);
            if keepalive {
                let dropped = self.queue.take_dropped();
                let resource = self.resource_with(dropped);
                for (body, _) in encode_chunks(&resource, &SCOPE, &spans, KEEPALIVE_BUDGET) {
                    // The page is going away: nothing will be there to
                    // retry, so these spans are not kept for it.
                    self.post(body, true, Vec::new());
                }
            } else {
                self.send(spans);
            }
        }
    }

    fn resource_with(&self, dropped: u64) -> Vec<KeyValue> {
        let mut resource = self.resource.clone();
        if dropped > 0 {
            // Loss is reported where a user can query it: on every span of
            // the next request.
            resource.push(KeyValue::new("waggle.dropped_spans", dropped as i64));
        }
        resource
    }

    fn send(&mut self, mut spans: Vec<SpanData>) {
        let dropped = self.queue.take_dropped();
        let resource = self.resource_with(dropped);
        let body = encode_request(&resource, &SCOPE, &spans);
        if body.len() <= MAX_BODY || spans.len() <= 1 {
            return self.post_counted(body, spans, dropped);
        }
        // A Collector refuses a body over its limit with 400, which is not
        // retried; bodies are kept well under the usual limits instead.
        // The loss count rides on the first body only, so the counts of
        // all requests add up.
        let mut report = dropped;
        for (body, n) in encode_chunks(&self.resource, &SCOPE, &spans, MAX_BODY) {
            let rest = spans.split_off(n.min(spans.len()));
            let chunk = core::mem::replace(&mut spans, rest);
            let body = if report > 0 { encode_request(&resource, &SCOPE, &chunk) } else { body };
            self.post_counted(body, chunk, core::mem::take(&mut report));
        }
    }

    /// The page is hidden or going away: sends what the browser's
    /// `keepalive` budget lets through now, and keeps the rest in storage
    /// for the next page (see `spill`), rather than losing it.
    pub fn hide(&mut self) {
        self.timer = None;
        self.soon = false;
        self.retry_timer = None;
        if self.queue.is_empty() {
            return;
        }
        let mut spans = self.queue.take(usize::MAX);
        let dropped = self.queue.take_dropped();
        let mut budget = KEEPALIVE_QUOTA.saturating_sub(self.keepalive.iter().map(|(_, n)| n).sum());
        let mut report = dropped;
        let mut kept = Vec::new();
        for (body, n) in encode_chunks(&self.resource, &SCOPE, &spans, KEEPALIVE_BUDGET) {
            let rest = spans.split_off(n.min(spans.len()));
            let chunk = core::mem::replace(&mut spans, rest);
            let body = if report > 0 { encode_request(&self.resource_with(report), &SCOPE, &chunk) } else { body };
            report = 0;
            if body.len() <= budget {
                budget -= body.len();
                // Nothing may be there to retry: these spans are not kept.
                self.post(body, true, Vec::new());
            } else {
                kept.push((body, chunk.len()));
            }
        }
        let lost = super::spill::save(&self.url, kept);
        self.queue.add_dropped(lost as u64);
    }

    /// The page is going away (`pagehide`): as [`Exporter::hide`], and a
    /// request under way that fails from now on is not retried. The
    /// browser cancels it as the page goes, often after the Collector has
    /// it, and sending it again would deliver its spans twice.
    pub fn leave(&mut self) {
        self.leaving = true;
        self.hide();
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

    /// Posts a batch whose body reports `dropped` earlier losses; if the
    /// batch is not delivered, the count goes back to be reported again.
    fn post_counted(&mut self, body: String, spans: Vec<SpanData>, dropped: u64) {
        self.busy += 1;
        let in_flight: usize = self.keepalive.iter().map(|(_, n)| n).sum();
        let keepalive = body.len() <= KEEPALIVE_BUDGET && in_flight + body.len() <= KEEPALIVE_QUOTA;
        self.post(body, keepalive, spans);
        self.reported.push((self.next_id.wrapping_sub(1), dropped));
    }

    fn post(&mut self, body: String, keepalive: bool, spans: Vec<SpanData>) {
        let body_len = body.len();
        let init = Object::new();
        js::set(&init, "method", &"POST".into());
        let headers = Object::new();
        js::set(&headers, "Content-Type", &"application/json".into());
        js::set(&init, "headers", &headers);
        js::set(&init, "body", &body.into());
        if keepalive {
            js::set(&init, "keepalive", &JsValue::TRUE);
            self.keepalive.push((self.next_id, body_len));
        }
        let count = spans.len();
        let debug = self.debug;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let pending = self.pending.clone();
        let sent = match self.fetch.call2(&js::global(), &self.url.as_str().into(), &init) {
            Ok(p) => p.dyn_into::<Promise>().unwrap_or_else(|v| Promise::resolve(&v)),
            Err(e) => Promise::reject(&e),
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
                // The request is over (and its share of the keepalive
                // budget free again) once the answer's body is in; the body
                // may also hold a partialSuccess.
                let text = js::call(&answer, "text", &[]);
                if js::get(&text, "then").is_function() {
                    return Ok(js::settle(&text, move |ok, body| {
                        if let Some((n, message)) = body.as_string().filter(|_| ok && (200..300).contains(&status)).and_then(|b| partial_success(&b)) {
                            with_agent(|a| a.exporter.partial(n, &message));
                        }
                        with_agent(|a| a.exporter.settled(id, Some(status), retry_after, spans));
                        Ok(JsValue::UNDEFINED)
                    }));
                }
                with_agent(|a| a.exporter.settled(id, Some(status), retry_after, spans));
            } else {
                js::debug(debug, &format!("export of {count} spans failed: {}", super::agent::describe(&answer)));
                with_agent(|a| a.exporter.settled(id, None, None, spans));
            }
            Ok(JsValue::UNDEFINED)
        });
        self.pending.borrow_mut().push((id, settled.unchecked_into()));
    }

    fn answered(&mut self, status: Option<u16>, retry_after_ms: Option<f64>, mut spans: Vec<SpanData>) {
        match classify(status) {
            Outcome::Done => self.retry_attempt = 0,
            Outcome::Retry if spans.is_empty() || self.leaving => {}
            Outcome::Retry => {
                self.retry_attempt += 1;
                let jitter = js_sys::Math::random();
                match self.backoff.delay_ms(self.retry_attempt, retry_after_ms, jitter) {
                    Some(ms) => {
                        self.queue.requeue(spans);
                        self.timer = None;
                        self.soon = false;
                        self.retry_timer = Some(Timeout::new(ms as u32, || {
                            with_agent(|a| {
                                a.exporter.retry_timer = None;
                                a.exporter.send_one_batch();
                            });
                        }));
                    }
                    None => {
                        self.retry_attempt = 0;
                        self.lost(spans.len(), "the Collector did not accept them after several retries");
                    }
                }
            }
            Outcome::Split if spans.len() > 1 => {
                let rest = spans.split_off(spans.len() / 2);
                self.send(spans);
                self.send(rest);
            }
            Outcome::Split | Outcome::Drop => {
                let why = match status {
                    Some(413) => "the Collector answered 413: a single span is larger than its body limit".to_string(),
                    Some(s) => format!("the Collector answered {s}"),
                    None => "the request failed".to_string(),
                };
                self.lost(spans.len(), &why);
            }
        }
    }

    /// An answer (or a failure) for request `id`: the policy decides, then
    /// the next batch goes if nothing else is under way.
    fn settled(&mut self, id: u32, status: Option<u16>, retry_after_ms: Option<f64>, spans: Vec<SpanData>) {
        self.keepalive.retain(|(k, _)| *k != id);
        // Requests of the hide flush are not counted: nothing waits on them.
        let counted = self.reported.iter().position(|(r, _)| *r == id).map(|i| self.reported.swap_remove(i));
        if let Some((_, dropped)) = counted {
            if !matches!(classify(status), Outcome::Done) {
                self.queue.add_dropped(dropped);
            }
        }
        self.answered(status, retry_after_ms, spans);
        if counted.is_some() {
            self.busy = self.busy.saturating_sub(1);
        }
        if self.busy == 0 && self.retry_timer.is_none() && !self.queue.is_empty() {
            self.send_soon();
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

/// Whether the browser says it has no network.
fn offline() -> bool {
    js::get(&js::get(&js::global(), "navigator"), "onLine").as_bool() == Some(false)
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
                with_agent(|a| a.exporter.hide());
            } else {
                // Shown again: what was kept for later can go now.
                with_agent(|a| a.exporter.shown());
            }
        });
        let pagehide = super::lib::listener::Listener::new(&js::global(), "pagehide", false, |_| {
            with_agent(|a| a.exporter.leave());
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
