//! Reading Navigation and Resource Timing entries onto spans: the network
//! phases as events, sizes and protocol as attributes, and the server span
//! a `Server-Timing: traceparent` names. Shared by page load and requests.

use wasm_bindgen::{JsCast, JsValue};

use crate::core::span::{Link, SpanData};
use crate::core::tracecontext::parse_traceparent;

use super::super::agent::Agent;
use super::js;

/// Network phases recorded as events on `documentFetch` and `resourceFetch`.
pub const NETWORK_EVENTS: [&str; 10] = [
    "fetchStart",
    "domainLookupStart",
    "domainLookupEnd",
    "connectStart",
    "secureConnectionStart",
    "connectEnd",
    "requestStart",
    "responseStart",
    "responseEnd",
    "workerStart",
];

/// The `traceparent` a server put in `Server-Timing` on a timing entry.
pub fn server_timing_link(entry: &JsValue) -> Option<Link> {
    let list = js::get(entry, "serverTiming");
    let list: js_sys::Array = list.dyn_into().ok()?;
    for item in list.iter() {
        if js::string(&item, "name").is_some_and(|n| n.eq_ignore_ascii_case("traceparent")) {
            // The browser has already unquoted the description.
            let desc = js::string(&item, "description").unwrap_or_default();
            return parse_traceparent(&desc).map(|tp| tp.link());
        }
    }
    None
}

/// Adds the event `field` at the entry's time for it, when the browser set it.
pub fn event_if_set(agent: &Agent, span: &mut SpanData, entry: &JsValue, field: &str) {
    let v = js::num(entry, field);
    if v > 0.0 {
        let t = agent.clock.epoch_ns(v);
        span.add_event(&agent.limits, field, t, Vec::new());
    }
}

/// Body sizes and protocol, where the entry exposes them.
pub fn timing_attributes(agent: &Agent, span: &mut SpanData, entry: &JsValue) {
    let status = js::num(entry, "responseStatus");
    if status > 0.0 {
        agent.attr(span, "http.response.status_code", status as i64);
    }
    let transfer = js::num(entry, "transferSize");
    let encoded = js::num(entry, "encodedBodySize");
    let decoded = js::num(entry, "decodedBodySize");
    if encoded > 0.0 {
        agent.attr(span, "http.response.body.size", encoded as i64);
    }
    if transfer > 0.0 {
        agent.attr(span, "http.response.size", transfer as i64);
    }
    if decoded > 0.0 && decoded != encoded {
        agent.attr(span, "waggle.response.decoded_body_size", decoded as i64);
    }
    if let Some(proto) = js::string(entry, "nextHopProtocol").filter(|p| !p.is_empty()) {
        let (name, version) = match proto.as_str() {
            "h2" => ("http", "2"),
            "h3" => ("http", "3"),
            "http/1.1" => ("http", "1.1"),
            "http/1.0" => ("http", "1.0"),
            other => (other, ""),
        };
        agent.attr(span, "network.protocol.name", name.to_owned());
        if !version.is_empty() {
            agent.attr(span, "network.protocol.version", version.to_owned());
        }
    }
}

/// Adds the network phase events of a timing entry.
pub fn network_events(agent: &Agent, span: &mut SpanData, entry: &JsValue) {
    for field in NETWORK_EVENTS {
        event_if_set(agent, span, entry, field);
    }
}
