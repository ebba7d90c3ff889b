//! `fetch` and `XMLHttpRequest`: one CLIENT span per request, named by its
//! method, `traceparent` for the requests allowed to carry it, and each
//! span's network phases from its own Resource Timing entry.
//!
//! The page's wrappers (see `js/recorder.js`) report a request about to be
//! sent, `[REQUEST, id, t, kind, url, method, bodySize, rx, pageSet]`
//! (kind 0 fetch, 1 XHR; `rx` the bits of the options' regular
//! expressions the URL matches; `pageSet` when the page set
//! `traceparent` itself), and answer with the headers this decides; then
//! its end, `[RESPONSE, id, t, status, errorName, errorMessage,
//! serverTiming]`.
//!
//! Entries are matched by initiator type, URL, time window and first use
//! (`core::http::match_timing`); they come from a `PerformanceObserver`, so
//! the browser's 250-entry buffer never hides one. A span whose entry has
//! not appeared waits for it up to [`WAIT_MS`]: the browser adds the entry
//! only once the body is in, after a fetch's `Response`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::config::inst;
use crate::core::http::{browser_method, match_timing, propagates, status_error_type, EntryTimes, Method, RequestTimes};
use crate::core::span::{kind, Attrs, Span};
use crate::core::tracecontext::server_timing_traceparent;
use crate::core::url::{is_http, same_origin, without_fragment};
use crate::platform::io::timer;
use crate::platform::protocol::cmd;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

use super::timing::Entry;

/// How long a finished request waits for its entry, ms.
pub const WAIT_MS: f64 = 300.0;
/// Most entries held at once.
pub const KEEP: usize = 64;

struct InFlight {
    id: u32,
    span: Span,
    url: String,
    cross_origin: bool,
    xhr: bool,
    start: f64,
}

struct Waiting {
    req: InFlight,
    end: f64,
    until: f64,
}

/// Requests under way and the entries they may need.
#[derive(Default)]
pub struct Requests {
    in_flight: Vec<InFlight>,
    waiting: Vec<Waiting>,
    entries: Vec<Entry>,
}

impl Requests {
    /// A request is about to be sent: answers with its trace headers.
    pub fn start(&mut self, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
        let id = r.u32();
        let t = r.num();
        let xhr = r.u32() == 1;
        let url = r.str();
        let method = r.str();
        let body = r.opt_num();
        let rx = r.u32();
        let page_set = r.bool();
        let bit = if xhr { inst::XHR } else { inst::FETCH };
        if !rt.config.on(bit) || !is_http(url) || rt.ignored(url, rx) {
            let w = rt.io.cmd(cmd::HEADERS, 2);
            w.null();
            w.null();
            return;
        }
        let m = Method::parse(&browser_method(method));
        let parent = rt.current();
        let mut span = rt.start_span(m.span_name(), kind::CLIENT, parent.as_ref(), rt.ns(t));
        span.set("http.request.method", m.value);
        if let Some(original) = m.original {
            span.set("http.request.method_original", original);
        }
        rt.url_attrs(&mut span, url);
        if let Some(size) = body.filter(|s| *s >= 0.0) {
            span.set("http.request.body.size", size as i64);
        }
        let cross_origin = !same_origin(url, &rt.origin);
        let propagate = !page_set && propagates(url, &rt.origin, || rt.matches(url, rx, &rt.config.propagate_urls));
        let w = rt.io.cmd(cmd::HEADERS, 2);
        if propagate {
            // Unsampled spans propagate too (flags 00), so the services
            // downstream follow the same decision.
            w.str(&crate::core::tracecontext::format_traceparent(span.trace_id, span.span_id, span.flags));
            w.opt_str((!span.trace_state.is_empty()).then_some(span.trace_state.as_str()));
        } else {
            w.null();
            w.null();
        }
        rt.pending_requests += 1;
        rt.page_changed();
        self.in_flight.push(InFlight { id, span, url: String::from(url), cross_origin, xhr, start: t });
    }

    /// A request ended.
    pub fn end(&mut self, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
        let id = r.u32();
        let Some(i) = self.in_flight.iter().position(|q| q.id == id) else { return };
        let mut req = self.in_flight.swap_remove(i);
        rt.pending_requests = rt.pending_requests.saturating_sub(1);
        let t = r.num();
        let status = r.opt_num();
        let error = r.str();
        let message = r.str();
        let server_timing = r.str();
        let span = &mut req.span;
        match status {
            Some(s) if error.is_empty() => {
                let s = s as u16;
                // An opaque response (no-cors, a manual redirect) has
                // status 0: the page cannot see it, and neither can the
                // agent.
                if s > 0 {
                    span.set("http.response.status_code", i64::from(s));
                    if let Some(t) = status_error_type(s) {
                        span.set("error.type", t);
                        span.error("");
                    }
                }
                if let Some(tp) = server_timing_traceparent(server_timing) {
                    span.link(tp.trace_id, tp.span_id, tp.flags, &Attrs::EMPTY);
                }
            }
            _ => {
                span.set("error.type", if error.is_empty() { "_OTHER" } else { error });
                span.error(message);
            }
        }
        span.end(rt.ns(t));
        let responded = status.is_some() && error.is_empty();
        if !responded || !span.sampled() {
            rt.finish(req.span);
            return;
        }
        if let Some(e) = self.take_entry(&req, t) {
            finish(rt, req, Some(e));
            return;
        }
        let until = rt.io.now + WAIT_MS;
        self.waiting.push(Waiting { req, end: t, until });
        rt.io.timer(timer::TIMINGS, WAIT_MS);
    }

    fn take_entry(&mut self, req: &InFlight, end: f64) -> Option<(Entry, Option<Entry>)> {
        let url = without_fragment(&req.url);
        let initiator = if req.xhr { "xmlhttprequest" } else { "fetch" };
        let idx: Vec<usize> = (0..self.entries.len()).filter(|&i| self.entries[i].initiator == initiator && without_fragment(&self.entries[i].name) == url).collect();
        let times: Vec<EntryTimes> = idx.iter().map(|&i| EntryTimes { start: self.entries[i].start, response_end: self.entries[i].response_end }).collect();
        let m = match_timing(&times, &RequestTimes { start: req.start, end, body_done: req.xhr }, req.cross_origin)?;
        let (main, pre) = (idx[m.main], m.preflight.map(|p| idx[p]));
        let found = (self.entries[main].clone(), pre.map(|p| self.entries[p].clone()));
        // The later index first, so the earlier stays valid.
        let (hi, lo) = match pre {
            Some(p) => (p.max(main), Some(p.min(main))),
            None => (main, None),
        };
        self.entries.remove(hi);
        if let Some(lo) = lo {
            self.entries.remove(lo);
        }
        Some(found)
    }

    /// A Resource Timing entry of any type.
    pub fn entry(&mut self, rt: &mut Runtime, e: &Entry) {
        if e.initiator != "fetch" && e.initiator != "xmlhttprequest" {
            return;
        }
        if self.in_flight.is_empty() && self.waiting.is_empty() {
            return;
        }
        if self.entries.len() >= KEEP {
            self.entries.remove(0);
        }
        self.entries.push(e.clone());
        let mut still = Vec::new();
        for w in core::mem::take(&mut self.waiting) {
            match self.take_entry(&w.req, w.end) {
                Some(f) => finish(rt, w.req, Some(f)),
                None => still.push(w),
            }
        }
        self.waiting = still;
    }

    /// The wait timer fired: requests whose entry never came go as they are.
    pub fn tick(&mut self, rt: &mut Runtime) {
        let now = rt.io.now;
        let mut i = 0;
        while i < self.waiting.len() {
            if self.waiting[i].until <= now {
                let w = self.waiting.remove(i);
                finish(rt, w.req, None);
            } else {
                i += 1;
            }
        }
        if let Some(next) = self.waiting.iter().map(|w| w.until).reduce(f64::min) {
            rt.io.timer_at(timer::TIMINGS, next);
        }
        if self.in_flight.is_empty() && self.waiting.is_empty() {
            self.entries.clear();
        }
    }

    /// Everything still waiting goes now (the page is hidden, or the agent
    /// stops); requests still under way are ended unfinished on stop.
    pub fn flush(&mut self, rt: &mut Runtime, stopping: bool) {
        for w in core::mem::take(&mut self.waiting) {
            finish(rt, w.req, None);
        }
        if stopping {
            for q in core::mem::take(&mut self.in_flight) {
                rt.finish(q.span);
            }
        }
    }
}

/// Adds the entry (and the preflight's as `waggle.cors_preflight.start`
/// and `.end` events) and hands the span on.
fn finish(rt: &mut Runtime, req: InFlight, found: Option<(Entry, Option<Entry>)>) {
    let mut span = req.span;
    if let Some((e, pre)) = found {
        let mut e = e;
        // The status the wrapper saw is the one the page saw and is set
        // already; the entry's may be missing (cross-origin) and never
        // disagrees otherwise.
        e.status = 0.0;
        e.apply(rt, &mut span, true);
        if let Some(p) = pre {
            span.event("waggle.cors_preflight.start", rt.ns(p.start), &Attrs::EMPTY);
            span.event("waggle.cors_preflight.end", rt.ns(p.response_end), &Attrs::EMPTY);
        }
    }
    rt.finish(span);
}
