//! What fetch and XHR spans share: the client span and its attributes,
//! the decision to propagate, and reading request values without ever
//! touching a body or running more page code than the browser would.

use js_sys::{Array, Function, Reflect};
use opentelemetry::trace::{SpanKind, Status};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::http::{browser_method, is_http, propagates, same_origin, status_error_type, Method};
use crate::core::span::{Link, SpanData};
use crate::core::tracecontext::{format_traceparent, server_timing_traceparent};

use super::super::agent::{with_agent, Agent};
use super::js;

/// The `traceparent` (and `tracestate`) a request carries.
pub struct TraceHeaders {
    /// `traceparent` value.
    pub traceparent: String,
    /// `tracestate` value, when the trace has one.
    pub tracestate: Option<String>,
}

/// A request the agent traces, from its start.
pub struct Outgoing {
    /// Its CLIENT span, open.
    pub span: SpanData,
    /// Whether it goes to another origin (its timing may have a preflight).
    pub cross_origin: bool,
    /// What to add to its headers; `None` when it must not carry them.
    pub headers: Option<TraceHeaders>,
}

/// Starts the CLIENT span for a request to the absolute `url`, counting it
/// in `pending_requests`; `None` for requests the agent leaves alone (not
/// HTTP, the exporter's own, `ignoreUrls`), which get no span and no header.
pub fn start(agent: &mut Agent, url: &str, method: &str, body_size: Option<f64>, start_rel: f64) -> Option<Outgoing> {
    if !is_http(url) || agent.ignored(url) {
        return None;
    }
    let method = Method::parse(&browser_method(method));
    let parent = agent.current();
    let start_ns = agent.clock.epoch_ns(start_rel);
    let mut span = agent.start_span(method.span_name(), SpanKind::Client, parent.as_ref(), start_ns);
    agent.attr(&mut span, "http.request.method", method.value);
    if let Some(original) = method.original {
        agent.attr(&mut span, "http.request.method_original", original);
    }
    agent.url_attributes(&mut span, url);
    if let Some(size) = body_size {
        agent.attr(&mut span, "http.request.body.size", size as i64);
    }
    let cross_origin = !same_origin(url, &agent.origin);
    let propagate =
        propagates(url, &agent.origin, || agent.matches(url, &agent.config.propagate_trace_header_cors_urls));
    // Unsampled spans propagate too (flags 00), so the services downstream
    // follow the same decision.
    let headers = propagate.then(|| TraceHeaders {
        traceparent: format_traceparent(span.trace_id, span.span_id, span.flags),
        tracestate: (!span.trace_state.is_empty()).then(|| span.trace_state.clone()),
    });
    agent.pending_requests += 1;
    Some(Outgoing { span, cross_origin, headers })
}

/// How a request ended.
pub enum Outcome {
    /// A response arrived, with this status (0 when opaque) and maybe a
    /// `Server-Timing` link.
    Response(u16, Option<Link>),
    /// No response: `error.type` and the status message.
    Failed(String, String),
    /// Nothing known (the call never reached the browser).
    Unknown,
}

/// Ends `span` at `end_rel` (ms) with what `outcome` says, and stops
/// counting the request in `pending_requests`.
///
/// A response records `http.response.status_code`, and from 400 up
/// `error.type` and an error status without a description (the code says
/// it). An opaque response (no-cors, or a manual redirect) has status 0:
/// the page cannot see the status, and neither can the agent.
pub fn close(span: &mut SpanData, end_rel: f64, outcome: Outcome) {
    with_agent(|a| {
        match outcome {
            Outcome::Response(status, link) => {
                if status > 0 {
                    a.attr(span, "http.response.status_code", i64::from(status));
                    if let Some(t) = status_error_type(status) {
                        a.attr(span, "error.type", t);
                        span.status = Status::error("");
                    }
                }
                if let Some(link) = link {
                    span.add_link(&a.limits, link);
                }
            }
            Outcome::Failed(error_type, message) => {
                a.attr(span, "error.type", error_type);
                span.status = Status::error(message);
            }
            Outcome::Unknown => {}
        }
        span.end(a.clock.epoch_ns(end_rel));
        a.pending_requests = a.pending_requests.saturating_sub(1);
    });
}

/// The outcome of a thrown or rejected `err`.
pub fn failure(err: &JsValue) -> Outcome {
    Outcome::Failed(error_name(err), error_message(err))
}

/// `error.type` for a thrown or rejected value: its `name` (`TypeError`,
/// `AbortError`, `NetworkError`), or `_OTHER` for a value without one (a
/// fetch aborted with a string reason rejects with that string).
pub fn error_name(err: &JsValue) -> String {
    if !err.is_object() {
        return "_OTHER".into();
    }
    js::string(err, "name").filter(|n| !n.is_empty()).unwrap_or_else(|| "_OTHER".into())
}

/// The message of a thrown value, for the span status.
pub fn error_message(err: &JsValue) -> String {
    if err.is_object() {
        js::string(err, "message").unwrap_or_default()
    } else {
        err.as_string().unwrap_or_default()
    }
}

/// `input` resolved against the document's base URL, as fetch and XHR
/// resolve it; `None` when it is not a URL.
pub fn absolute_url(input: &str) -> Option<String> {
    let base = js::string(&js::get(&js::global(), "document"), "baseURI")?;
    let ctor: Function = js::get(&js::global(), "URL").dyn_into().ok()?;
    let args: Array = [JsValue::from_str(input), JsValue::from_str(&base)].iter().collect();
    let url = Reflect::construct(&ctor, &args).ok()?;
    js::string(&url, "href")
}

/// The absolute URL a string or `URL` names. Other objects are left alone:
/// the browser would call their `toString()`, and calling page code a
/// second time is not the agent's to do.
pub fn url_of(value: &JsValue) -> Option<String> {
    if let Some(s) = value.as_string() {
        absolute_url(&s)
    } else if value.is_instance_of::<web_sys::Url>() {
        js::string(value, "href")
    } else {
        None
    }
}

/// The size in bytes of a request body whose size is known without reading
/// it: a string (sent as UTF-8), an `ArrayBuffer` or view, a `Blob`, or
/// `URLSearchParams`. `FormData` (its multipart boundary is the browser's)
/// and streams have no size until sent.
pub fn body_size(body: &JsValue) -> Option<f64> {
    if let Some(s) = body.as_string() {
        // Lone surrogates become U+FFFD in both conversions, 3 bytes each.
        return Some(s.len() as f64);
    }
    if !body.is_object() {
        return None;
    }
    if body.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(body) {
        return Some(js::num(body, "byteLength"));
    }
    if body.is_instance_of::<web_sys::Blob>() {
        return Some(js::num(body, "size"));
    }
    if body.is_instance_of::<web_sys::UrlSearchParams>() {
        // Sent as its form-urlencoded serialisation, which is what
        // toString() gives.
        return js::call(body, "toString", &[]).as_string().map(|t| t.len() as f64);
    }
    None
}

/// The server's span named by a `Server-Timing` header value, as a link.
pub fn server_timing_header_link(value: &str) -> Option<Link> {
    server_timing_traceparent(value).map(|tp| tp.link())
}

/// Runs `f` once after `ms` milliseconds; the callback frees itself.
pub fn after(ms: u32, f: impl FnOnce() + 'static) {
    let cb = super::guard::callback(&Closure::once_into_js(f)).into();
    js::call(&js::global(), "setTimeout", &[cb, JsValue::from(ms)]);
}
