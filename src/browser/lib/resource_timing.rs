//! Pairs each fetch/XHR span with its Resource Timing entry, for the
//! network phases, body sizes and the server's `Server-Timing`.
//!
//! Entries come from a `PerformanceObserver` rather than from
//! `performance.getEntriesByType`: the browser's buffer stops at 250
//! entries (150 in Safari) and a long-lived page would silently lose its
//! timings, while an observer sees every entry. Entries are kept only while
//! a request is under way or waiting, at most [`KEEP`] of them, and an
//! entry given to one span is never given to another. A span whose entry
//! has not appeared waits for it up to [`WAIT_MS`], because the browser
//! adds the entry only once the body is in (after a fetch's `Response`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::http::{match_timing, without_fragment, EntryTimes, RequestTimes};
use crate::core::span::SpanData;

use super::super::agent::{with_agent, Agent};
use super::timing::{network_events, server_timing_link, timing_attributes};
use super::http::after;
use super::js;

/// How long a finished request waits for its entry, in ms.
pub const WAIT_MS: u32 = 300;

/// Most entries held at once: enough for the requests of a busy page that
/// finish together, small enough that an idle page holds nothing much.
pub const KEEP: usize = 64;

/// A finished request on its way to the exporter.
pub struct Done {
    /// The span, ended.
    pub span: SpanData,
    /// The absolute request URL.
    pub url: String,
    /// The request's own times.
    pub times: RequestTimes,
    /// Whether it went to another origin.
    pub cross_origin: bool,
}

struct Seen {
    entry: JsValue,
    url: String,
    times: EntryTimes,
}

struct Waiting {
    id: u32,
    done: Done,
}

struct State {
    initiator: &'static str,
    seen: Vec<Seen>,
    waiting: Vec<Waiting>,
    in_flight: u32,
    next_id: u32,
}

impl State {
    /// Takes the entries of a request out of the pool, if they are there.
    fn take_match(&mut self, url: &str, req: &RequestTimes, cross_origin: bool) -> Option<(JsValue, Option<JsValue>)> {
        let url = without_fragment(url);
        let idx: Vec<usize> = (0..self.seen.len()).filter(|&i| self.seen[i].url == url).collect();
        let times: Vec<EntryTimes> = idx.iter().map(|&i| self.seen[i].times).collect();
        let m = match_timing(&times, req, cross_origin)?;
        let (main, pre) = (idx[m.main], m.preflight.map(|p| idx[p]));
        let entry = self.seen[main].entry.clone();
        let preflight = pre.map(|p| self.seen[p].entry.clone());
        // The later index first, so the earlier stays valid.
        let (hi, lo) = match pre {
            Some(p) if p > main => (p, Some(main)),
            Some(p) => (main, Some(p)),
            None => (main, None),
        };
        self.seen.remove(hi);
        if let Some(lo) = lo {
            self.seen.remove(lo);
        }
        Some((entry, preflight))
    }
}

/// The shared half, handed to request callbacks.
#[derive(Clone)]
pub struct Timings(Rc<RefCell<State>>);

impl Timings {
    /// A request of this kind has started: entries from now on are kept.
    pub fn begin(&self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.in_flight += 1;
        }
    }

    /// A request ended without a response (network error, abort): it has
    /// no entry to wait for.
    pub fn finish_now(&self, done: Done) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        export(done, None);
    }

    /// A request has its response: exports it with its entry, now if the
    /// entry is there, else when it appears or after [`WAIT_MS`].
    pub fn finish(&self, done: Done) {
        let Ok(mut s) = self.0.try_borrow_mut() else {
            export(done, None);
            return;
        };
        s.in_flight = s.in_flight.saturating_sub(1);
        if !done.span.flags.is_sampled() {
            drop(s);
            export(done, None);
            return;
        }
        if let Some(found) = s.take_match(&done.url, &done.times, done.cross_origin) {
            drop(s);
            export(done, Some(found));
            return;
        }
        let id = s.next_id;
        s.next_id = s.next_id.wrapping_add(1);
        s.waiting.push(Waiting { id, done });
        drop(s);
        let state = self.0.clone();
        after(WAIT_MS, move || {
            let waited = state.try_borrow_mut().ok().and_then(|mut s| {
                let i = s.waiting.iter().position(|w| w.id == id)?;
                let w = s.waiting.remove(i);
                if s.in_flight == 0 && s.waiting.is_empty() {
                    s.seen.clear();
                }
                Some(w)
            });
            if let Some(w) = waited {
                export(w.done, None);
            }
        });
    }

    fn observed(&self, list: &JsValue) {
        let entries: Array = match js::call(list, "getEntries", &[]).dyn_into() {
            Ok(a) => a,
            Err(_) => return,
        };
        let ready = {
            let Ok(mut s) = self.0.try_borrow_mut() else { return };
            if s.in_flight == 0 && s.waiting.is_empty() {
                return;
            }
            for entry in entries.iter() {
                if js::string(&entry, "initiatorType").as_deref() != Some(s.initiator) {
                    continue;
                }
                let Some(name) = js::string(&entry, "name") else { continue };
                let times =
                    EntryTimes { start: js::num(&entry, "startTime"), response_end: js::num(&entry, "responseEnd") };
                if s.seen.len() >= KEEP {
                    s.seen.remove(0);
                }
                s.seen.push(Seen { entry, url: without_fragment(&name).to_owned(), times });
            }
            let mut ready = Vec::new();
            let mut i = 0;
            while i < s.waiting.len() {
                let (url, times, cross_origin) = {
                    let d = &s.waiting[i].done;
                    (d.url.clone(), d.times, d.cross_origin)
                };
                let found = s.take_match(&url, &times, cross_origin);
                match found {
                    Some(f) => ready.push((s.waiting.remove(i).done, f)),
                    None => i += 1,
                }
            }
            ready
        };
        for (done, found) in ready {
            export(done, Some(found));
        }
    }
}

/// Watches the Resource Timing entries of one initiator type (`fetch`,
/// `xmlhttprequest`) while it lives.
pub struct ResourceTimings {
    timings: Timings,
    observer: Option<JsValue>,
    _callback: Option<Closure<dyn FnMut(JsValue)>>,
}

impl ResourceTimings {
    /// Starts observing `resource` entries of `initiator` type. Without
    /// `PerformanceObserver`, spans go out without timings.
    pub fn start(initiator: &'static str) -> Self {
        let timings = Timings(Rc::new(RefCell::new(State {
            initiator,
            seen: Vec::new(),
            waiting: Vec::new(),
            in_flight: 0,
            next_id: 0,
        })));
        let t = timings.clone();
        let callback = Closure::wrap(Box::new(move |list: JsValue| t.observed(&list)) as Box<dyn FnMut(JsValue)>);
        let observer = js::get(&js::global(), "PerformanceObserver")
            .dyn_into::<Function>()
            .ok()
            .and_then(|ctor| Reflect::construct(&ctor, &Array::of1(&super::guard::callback(callback.as_ref()))).ok());
        let Some(observer) = observer else {
            return ResourceTimings { timings, observer: None, _callback: None };
        };
        let opts = js_sys::Object::new();
        js::set(&opts, "type", &"resource".into());
        // `observe` throws for an unknown type; js::call swallows that.
        js::call(&observer, "observe", &[opts.into()]);
        ResourceTimings { timings, observer: Some(observer), _callback: Some(callback) }
    }

    /// The half request callbacks keep.
    pub fn timings(&self) -> Timings {
        self.timings.clone()
    }
}

impl Drop for ResourceTimings {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            js::call(o, "disconnect", &[]);
        }
        // Shutdown drops instrumentations while the agent still runs: the
        // spans still waiting for an entry go out as they are, in the
        // flush that follows, rather than never.
        let waiting = self.timings.0.try_borrow_mut().map(|mut s| std::mem::take(&mut s.waiting)).unwrap_or_default();
        for w in waiting {
            export(w.done, None);
        }
    }
}

/// Adds what the entry says to the span and hands it to the exporter.
fn export(done: Done, found: Option<(JsValue, Option<JsValue>)>) {
    with_agent(|agent| {
        let mut span = done.span;
        if let Some((entry, preflight)) = &found {
            apply(agent, &mut span, entry, preflight.as_ref());
        }
        agent.finish(span);
    });
}

/// The entry's network phases (as events), sizes and protocol, its
/// `Server-Timing` link when the response header gave none, and the
/// preflight as the events `waggle.cors_preflight.start` and
/// `waggle.cors_preflight.end` (no convention exists for it; two events
/// keep it on the request's span rather than in a span of its own).
fn apply(agent: &Agent, span: &mut SpanData, entry: &JsValue, preflight: Option<&JsValue>) {
    // The status seen by the wrapper is the one the page saw; the entry's
    // may be missing (cross-origin) and never disagrees otherwise.
    let status = span.attribute("http.response.status_code").cloned();
    network_events(agent, span, entry);
    timing_attributes(agent, span, entry);
    if let Some(s) = status {
        span.set_attribute(&agent.limits, "http.response.status_code", s);
    }
    if span.links.is_empty() {
        if let Some(link) = server_timing_link(entry) {
            span.add_link(&agent.limits, link);
        }
    }
    if let Some(p) = preflight {
        let start = agent.clock.epoch_ns(js::num(p, "startTime"));
        let end = agent.clock.epoch_ns(js::num(p, "responseEnd"));
        span.add_event(&agent.limits, "waggle.cors_preflight.start", start, Vec::new());
        span.add_event(&agent.limits, "waggle.cors_preflight.end", end, Vec::new());
    }
}
