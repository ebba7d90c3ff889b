//! `XMLHttpRequest`: one CLIENT span per request, named by its method, and
//! `traceparent` on the requests allowed to carry it.
//!
//! `open`, `send` and `setRequestHeader` on `XMLHttpRequest.prototype`
//! become `Proxy`s of themselves (see `lib::patch`) that call the originals
//! with the same `this` and arguments and return or throw what they did.
//! `open` notes the method and URL, `setRequestHeader` notes whether the
//! page set `traceparent`/`tracestate` itself, and `send` starts the span,
//! adds the trace headers through the original `setRequestHeader`, and
//! listens on the request until `loadend`, when the listeners go again.
//! Events, `readyState`, synchronous mode, `abort()` and `timeout` are the
//! browser's own, untouched.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Reflect, WeakMap};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::http::RequestTimes;
use crate::core::span::SpanData;

use super::agent::with_agent;
use super::lib::http::{self, Outcome};
use super::lib::js;
use super::lib::listener::Listener;
use super::lib::patch::{call_original, Patch};
use super::lib::resource_timing::{Done, ResourceTimings, Timings};

/// Traces `XMLHttpRequest` while it lives.
pub struct Xhr {
    _open: Option<Patch>,
    _send: Option<Patch>,
    _set_header: Option<Patch>,
    _timings: ResourceTimings,
    shared: Rc<Shared>,
}

/// A request between `send` and `loadend`.
struct InFlight {
    id: u32,
    xhr: JsValue,
    span: SpanData,
    url: String,
    cross_origin: bool,
    start: f64,
    /// `abort`, `timeout` or `error`, when one of them fired.
    cause: Rc<Cell<Option<&'static str>>>,
    _listeners: Vec<Listener>,
}

/// How a request ended.
enum Ending {
    /// `loadend` fired, or a synchronous `send` returned.
    Loaded,
    /// `send` threw (a synchronous request's network error).
    Threw(JsValue),
    /// `open` was called again while the request was under way, which
    /// cancels it without events.
    Reopened,
}

struct Shared {
    /// Per request object: `{m: method, u: absolute URL, t: page set
    /// traceparent, s: page set tracestate, i: in-flight id}`. A WeakMap,
    /// so a request object the page drops takes its record with it.
    records: WeakMap,
    in_flight: RefCell<Vec<InFlight>>,
    next_id: Cell<u32>,
    set_header: Option<Function>,
    all_headers: Option<Function>,
    timings: Timings,
}

impl Xhr {
    /// Wraps `XMLHttpRequest.prototype.open`, `send` and `setRequestHeader`.
    pub fn start() -> Self {
        let timings = ResourceTimings::start("xmlhttprequest");
        let proto = js::get(&js::get(&js::global(), "XMLHttpRequest"), "prototype");
        let shared = Rc::new(Shared {
            records: WeakMap::new(),
            in_flight: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
            set_header: js::get(&proto, "setRequestHeader").dyn_into().ok(),
            all_headers: js::get(&proto, "getAllResponseHeaders").dyn_into().ok(),
            timings: timings.timings(),
        });
        if !proto.is_object() || shared.set_header.is_none() {
            return Xhr { _open: None, _send: None, _set_header: None, _timings: timings, shared };
        }
        let s = Rc::downgrade(&shared);
        let open = Patch::install(
            &proto,
            "open",
            Box::new(move |original, this, args| {
                if let Some(s) = s.upgrade() {
                    s.opening(this);
                }
                let result = call_original(original, this, args)?;
                if let Some(s) = s.upgrade() {
                    s.opened(this, args);
                }
                Ok(result)
            }),
        );
        let s = Rc::downgrade(&shared);
        let set_header = Patch::install(
            &proto,
            "setRequestHeader",
            Box::new(move |original, this, args| {
                let result = call_original(original, this, args)?;
                if let Some(s) = s.upgrade() {
                    s.header_set(this, &args.get(0));
                }
                Ok(result)
            }),
        );
        let s = Rc::downgrade(&shared);
        let send = Patch::install(
            &proto,
            "send",
            Box::new(move |original, this, args| {
                let start = js::now();
                let id = s.upgrade().and_then(|s| s.sending(&s, this, args, start));
                let result = call_original(original, this, args);
                if let (Some(id), Some(s)) = (id, s.upgrade()) {
                    match &result {
                        Err(e) => s.end(id, Ending::Threw(e.clone())),
                        // A synchronous request is over when send returns.
                        Ok(_) if js::num(this, "readyState") == 4.0 => s.end(id, Ending::Loaded),
                        Ok(_) => {}
                    }
                }
                result
            }),
        );
        Xhr { _open: open, _send: send, _set_header: set_header, _timings: timings, shared }
    }
}

impl Drop for Xhr {
    fn drop(&mut self) {
        // Removes the listeners of requests still under way.
        let gone = self.shared.in_flight.try_borrow_mut().map(|mut l| std::mem::take(&mut *l));
        drop(gone);
    }
}

impl Shared {
    fn record(&self, xhr: &JsValue) -> Option<JsValue> {
        let r = self.records.get(xhr.unchecked_ref());
        r.is_object().then_some(r)
    }

    /// A request that is done but whose `loadend` has not reached our
    /// listener yet (the page reopens from its own, earlier listener) ends
    /// now, while its status is still there to read.
    fn opening(&self, xhr: &JsValue) {
        if js::num(xhr, "readyState") == 4.0 {
            if let Some(id) = self.record(xhr).and_then(|r| js::get(&r, "i").as_f64()) {
                self.end(id as u32, Ending::Loaded);
            }
        }
    }

    fn opened(&self, xhr: &JsValue, args: &Array) {
        if let Some(id) = self.record(xhr).and_then(|r| js::get(&r, "i").as_f64()) {
            self.end(id as u32, Ending::Reopened);
        }
        let key: &Object = xhr.unchecked_ref();
        match (args.get(0).as_string(), http::url_of(&args.get(1))) {
            (Some(method), Some(url)) => {
                let r = Object::new();
                js::set(&r, "m", &method.into());
                js::set(&r, "u", &url.into());
                self.records.set(key, &r);
            }
            _ => {
                self.records.delete(key);
            }
        }
    }

    fn header_set(&self, xhr: &JsValue, name: &JsValue) {
        let (Some(r), Some(name)) = (self.record(xhr), name.as_string()) else { return };
        let name = name.trim_matches(|c| c == ' ' || c == '\t');
        if name.eq_ignore_ascii_case("traceparent") {
            js::set(&r, "t", &JsValue::TRUE);
        } else if name.eq_ignore_ascii_case("tracestate") {
            js::set(&r, "s", &JsValue::TRUE);
        }
    }

    /// Starts the span of a request about to be sent; `None` when it is not
    /// traced or `send` is about to throw.
    fn sending(&self, this: &Rc<Shared>, xhr: &JsValue, args: &Array, start: f64) -> Option<u32> {
        let r = self.record(xhr)?;
        // Already sent, or not open: the browser's send throws.
        if !js::get(&r, "i").is_undefined() || js::num(xhr, "readyState") != 1.0 {
            return None;
        }
        let method = js::string(&r, "m")?;
        let url = js::string(&r, "u")?;
        // The browser ignores the body of a GET or HEAD.
        let body_size = if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            None
        } else {
            http::body_size(&args.get(0))
        };
        let out = with_agent(|a| http::start(a, &url, &method, body_size, start))??;
        if let (Some(h), Some(set)) = (&out.headers, &self.set_header) {
            if !js::get(&r, "t").is_truthy() {
                let _ = Reflect::apply(set, xhr, &Array::of2(&"traceparent".into(), &h.traceparent.as_str().into()));
                if let (Some(ts), false) = (&h.tracestate, js::get(&r, "s").is_truthy()) {
                    let _ = Reflect::apply(set, xhr, &Array::of2(&"tracestate".into(), &ts.as_str().into()));
                }
            }
        }
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        js::set(&r, "i", &JsValue::from(id));
        let cause = Rc::new(Cell::new(None));
        let mut listeners = Vec::with_capacity(4);
        for kind in ["abort", "timeout", "error"] {
            let c = cause.clone();
            listeners.extend(Listener::new(xhr, kind, false, move |_| c.set(Some(kind))));
        }
        let weak: Weak<Shared> = Rc::downgrade(this);
        listeners.extend(Listener::new(xhr, "loadend", false, move |_| {
            if let Some(s) = weak.upgrade() {
                s.end(id, Ending::Loaded);
            }
        }));
        self.timings.begin();
        self.in_flight.borrow_mut().push(InFlight {
            id,
            xhr: xhr.clone(),
            span: out.span,
            url,
            cross_origin: out.cross_origin,
            start,
            cause,
            _listeners: listeners,
        });
        Some(id)
    }

    fn end(&self, id: u32, how: Ending) {
        let Some(req) = ({
            let mut list = self.in_flight.borrow_mut();
            list.iter().position(|r| r.id == id).map(|i| list.remove(i))
        }) else {
            return;
        };
        let end = js::now();
        let InFlight { xhr, mut span, url, cross_origin, start, cause, _listeners, .. } = req;
        drop(_listeners);
        if let Some(r) = self.record(&xhr) {
            if js::get(&r, "i").as_f64() == Some(f64::from(id)) {
                let _ = Reflect::delete_property(r.unchecked_ref::<Object>(), &"i".into());
            }
        }
        let outcome = match (&how, cause.get()) {
            (Ending::Threw(e), _) => http::failure(e),
            (Ending::Reopened, _) => Outcome::Failed("abort".into(), String::new()),
            (Ending::Loaded, Some(kind)) => Outcome::Failed(kind.into(), String::new()),
            (Ending::Loaded, None) => {
                let status = js::num(&xhr, "status") as u16;
                Outcome::Response(status, self.server_timing(&xhr).and_then(|h| http::server_timing_header_link(&h)))
            }
        };
        let responded = matches!(outcome, Outcome::Response(..));
        http::close(&mut span, end, outcome);
        let done = Done { span, url, times: RequestTimes { start, end, body_done: true }, cross_origin };
        if responded {
            self.timings.finish(done);
        } else {
            self.timings.finish_now(done);
        }
    }

    /// The response's `Server-Timing`, from `getAllResponseHeaders()`,
    /// which lists only the headers the page may read; asking
    /// `getResponseHeader` for a hidden one logs a console error.
    fn server_timing(&self, xhr: &JsValue) -> Option<String> {
        let all = Reflect::apply(self.all_headers.as_ref()?, xhr, &Array::new()).ok()?.as_string()?;
        let values: Vec<&str> = all
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("server-timing"))
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}
