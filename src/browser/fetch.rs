//! `fetch`: one CLIENT span per request, named by its method, and
//! `traceparent` on the requests allowed to carry it.
//!
//! `window.fetch` becomes a `Proxy` of itself (see `lib::patch`) for as
//! long as the instrumentation lives. A call is passed on with the same
//! `this` and arguments, except that a request that carries trace headers
//! gets a new init object (the caller's is never changed); the page gets
//! back a promise chained on the browser's, which settles with the very
//! same `Response` or error object, and stays unhandled when the page does
//! not handle it (an `unhandledrejection` still fires). Bodies and streams
//! are never read or cloned. When anything in the bookkeeping fails, the
//! original arguments go to the browser untouched.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::http::RequestTimes;
use crate::core::span::SpanData;

use super::agent::with_agent;
use super::lib::http::{self, Outcome, TraceHeaders};
use super::lib::js;
use super::lib::patch::{call_original, Patch};
use super::lib::resource_timing::{Done, ResourceTimings, Timings};

/// The `RequestInit` members Chromium, Firefox and Safari read. They are
/// read once, with the caller's object as receiver, and copied onto the new
/// init as own data properties, so the browser never runs a getter twice
/// or with the wrong `this`; members not listed here are still found
/// through the new init's prototype, which is the caller's init.
const INIT_MEMBERS: [&str; 21] = [
    "adAuctionHeaders",
    "attributionReporting",
    "body",
    "browsingTopics",
    "cache",
    "credentials",
    "duplex",
    "headers",
    "integrity",
    "keepalive",
    "method",
    "mode",
    "priority",
    "privateToken",
    "redirect",
    "referrer",
    "referrerPolicy",
    "sharedStorageWritable",
    "signal",
    "targetAddressSpace",
    "window",
];

/// Traces `fetch` while it lives.
pub struct Fetch {
    _patch: Option<Patch>,
    _timings: ResourceTimings,
}

impl Fetch {
    /// Wraps `window.fetch`.
    pub fn start() -> Self {
        let timings = ResourceTimings::start("fetch");
        let t = timings.timings();
        let patch = Patch::install(
            &js::global(),
            "fetch",
            Box::new(move |original, this, args| traced(&t, original, this, args)),
        );
        Fetch { _patch: patch, _timings: timings }
    }
}

/// A call the agent traces.
struct Call {
    span: SpanData,
    url: String,
    cross_origin: bool,
    args: Array,
}

fn traced(timings: &Timings, original: &Function, this: &JsValue, args: &Array) -> Result<JsValue, JsValue> {
    let start = js::now();
    let Some(call) = prepare(args, start) else {
        return call_original(original, this, args);
    };
    timings.begin();
    let result = call_original(original, this, &call.args);
    let Call { mut span, url, cross_origin, .. } = call;
    let done = move |span, end| Done { span, url, times: RequestTimes { start, end, body_done: false }, cross_origin };
    match &result {
        Ok(ret) if js::get(ret, "then").is_function() => {
            let t = timings.clone();
            // Handing the page this chained promise rather than `ret` keeps
            // an unhandled rejection unhandled, as without the agent.
            let chained = js::settle(ret, move |ok, value| {
                let end = js::now();
                if ok {
                    let status = js::num(&value, "status") as u16;
                    // Readable cross-origin only where the server exposes
                    // it; the timing entry's serverTiming is the other way.
                    let link = js::call(&js::get(&value, "headers"), "get", &["server-timing".into()])
                        .as_string()
                        .and_then(|h| http::server_timing_header_link(&h));
                    http::close(&mut span, end, Outcome::Response(status, link));
                    t.finish(done(span, end));
                    Ok(value)
                } else {
                    http::close(&mut span, end, http::failure(&value));
                    t.finish_now(done(span, end));
                    Err(value)
                }
            });
            return Ok(chained);
        }
        other => {
            // A wrong `this` throws rather than rejects; a non-promise means
            // something other than the browser's fetch is underneath.
            let end = js::now();
            let outcome = other.as_ref().err().map_or(Outcome::Unknown, http::failure);
            http::close(&mut span, end, outcome);
            timings.finish_now(done(span, end));
        }
    }
    result
}

/// Reads the call and starts its span; `None` leaves the call alone.
fn prepare(args: &Array, start: f64) -> Option<Call> {
    if args.length() == 0 {
        return None;
    }
    let input = args.get(0);
    let init = args.get(1);
    let has_init = !init.is_undefined() && !init.is_null();
    if has_init && !init.is_object() && !init.is_function() {
        // Not a RequestInit: the browser rejects the call itself.
        return None;
    }
    let mut members: Vec<(&'static str, JsValue)> = Vec::new();
    if has_init {
        for key in INIT_MEMBERS {
            // A throwing getter throws again in the browser's fetch.
            let v = Reflect::get(&init, &JsValue::from_str(key)).ok()?;
            if !v.is_undefined() {
                members.push((key, v));
            }
        }
    }
    let member = |key: &str| members.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
    let request = input.dyn_ref::<web_sys::Request>();
    let url = match request {
        Some(_) => js::string(&input, "url")?,
        None => http::url_of(&input)?,
    };
    let method = match member("method") {
        // Anything else would be stringified by the browser, running page
        // code; such calls are passed on untraced.
        Some(m) => m.as_string()?,
        None if request.is_some() => js::string(&input, "method")?,
        None => "GET".to_owned(),
    };
    let body_size = member("body").and_then(http::body_size);
    let out = with_agent(|a| http::start(a, &url, &method, body_size, start))??;
    let args = match &out.headers {
        None => args.clone(),
        Some(h) => match with_trace_headers(&input, request.is_some(), &init, has_init, &members, h) {
            Ok(Some(new_init)) => Array::of2(&input, &new_init),
            // The page set its own traceparent: it stands.
            Ok(None) => args.clone(),
            Err(()) => {
                // Not counted any more, and never exported.
                let mut span = out.span;
                http::close(&mut span, start, Outcome::Unknown);
                return None;
            }
        },
    };
    Some(Call { span: out.span, url, cross_origin: out.cross_origin, args })
}

/// A new init for the call: the caller's members, and new `Headers` made
/// from the caller's (or the `Request`'s) plus the trace headers. `None`
/// when the caller already set `traceparent`.
fn with_trace_headers(
    input: &JsValue,
    is_request: bool,
    init: &JsValue,
    has_init: bool,
    members: &[(&'static str, JsValue)],
    trace: &TraceHeaders,
) -> Result<Option<JsValue>, ()> {
    let source = members
        .iter()
        .find(|(k, _)| *k == "headers")
        .map(|(_, v)| v.clone())
        .or_else(|| is_request.then(|| js::get(input, "headers")))
        .unwrap_or(JsValue::UNDEFINED);
    let ctor: Function = js::get(&js::global(), "Headers").dyn_into().map_err(|_| ())?;
    let headers: web_sys::Headers = Reflect::construct(&ctor, &Array::of1(&source)).map_err(|_| ())?.unchecked_into();
    if headers.has("traceparent").map_err(|_| ())? {
        return Ok(None);
    }
    headers.set("traceparent", &trace.traceparent).map_err(|_| ())?;
    if let Some(ts) = &trace.tracestate {
        if !headers.has("tracestate").map_err(|_| ())? {
            headers.set("tracestate", ts).map_err(|_| ())?;
        }
    }
    let new_init = if has_init { Object::create(init.unchecked_ref()) } else { Object::new() };
    let own = |key: &str, value: &JsValue| {
        // Defined, not assigned: assigning would run a setter the caller's
        // init (now the prototype) may have.
        let desc = Object::new();
        js::set(&desc, "value", value);
        js::set(&desc, "writable", &JsValue::TRUE);
        js::set(&desc, "enumerable", &JsValue::TRUE);
        js::set(&desc, "configurable", &JsValue::TRUE);
        Reflect::define_property(&new_init, &JsValue::from_str(key), &desc).ok().filter(|ok| *ok).ok_or(())
    };
    for (key, value) in members {
        own(key, value)?;
    }
    own("headers", headers.as_ref())?;
    if is_request && members.is_empty() {
        // A non-empty init resets a Request's referrer and referrer policy
        // to the defaults. The caller's was empty, so the browser would
        // have kept the Request's: keep them through ours too.
        for key in ["referrer", "referrerPolicy"] {
            own(key, &js::get(input, key))?;
        }
    }
    Ok(Some(new_init.into()))
}
