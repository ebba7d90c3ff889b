//! Page load: `documentLoad`, `documentFetch` and one `resourceFetch` per
//! Resource Timing entry, shaped as OpenTelemetry's web instrumentation
//! shapes them, from the Navigation Timing and Resource Timing entries.

use super::lib::guard::Timeout;
use opentelemetry::trace::{SpanKind, TraceFlags};
use wasm_bindgen::JsValue;

use crate::core::tracecontext::{parse_traceparent, parse_tracestate};

use super::agent::{with_agent, Agent, ParentContext};
use super::lib::js;
use super::lib::listener::Listener;
use super::lib::timing::{event_if_set, network_events, server_timing_link, timing_attributes};

/// Navigation Timing fields recorded as events on `documentLoad`.
const NAVIGATION_EVENTS: [&str; 10] = [
    "fetchStart",
    "unloadEventStart",
    "unloadEventEnd",
    "domInteractive",
    "domContentLoadedEventStart",
    "domContentLoadedEventEnd",
    "domComplete",
    "loadEventStart",
    "loadEventEnd",
    "redirectEnd",
];

/// Watches for the end of page load and records it once.
pub struct DocumentLoad {
    _load: Option<Listener>,
    _wait: Option<Timeout>,
}

impl DocumentLoad {
    /// Starts watching; if the page has already loaded, records at once.
    pub fn start() -> Self {
        let document = js::get(&js::global(), "document");
        if js::string(&document, "readyState").as_deref() == Some("complete") {
            return DocumentLoad { _load: None, _wait: Some(Timeout::new(0, || collect_when_ready(0))) };
        }
        let load = Listener::new(&js::global(), "load", false, |_| {
            // loadEventEnd is set only after every load handler returned.
            Timeout::new(0, || collect_when_ready(0)).forget();
        });
        DocumentLoad { _load: load, _wait: None }
    }
}

fn collect_when_ready(tries: u32) {
    let Some(perf) = js::performance() else { return };
    let entries = perf.get_entries_by_type("navigation");
    let nav = entries.get(0);
    if nav.is_undefined() {
        return;
    }
    if js::num(&nav, "loadEventEnd") <= 0.0 && tries < 50 {
        Timeout::new(20, move || collect_when_ready(tries + 1)).forget();
        return;
    }
    with_agent(|agent| record(agent, &perf, &nav));
}

/// The server's span from `<meta name="traceparent" content="00-...">`.
pub fn meta_parent() -> Option<ParentContext> {
    let document = js::get(&js::global(), "document");
    let read = |name: &str| {
        let el = js::call(&document, "querySelector", &[format!("meta[name=\"{name}\"]").into()]);
        if el.is_null() || el.is_undefined() {
            None
        } else {
            js::call(&el, "getAttribute", &["content".into()]).as_string()
        }
    };
    let tp = parse_traceparent(&read("traceparent")?)?;
    let trace_state = read("tracestate").and_then(|s| parse_tracestate(&s)).unwrap_or_default();
    Some(ParentContext { trace_id: tp.trace_id, span_id: tp.span_id, flags: tp.flags, trace_state })
}

fn record(agent: &mut Agent, perf: &web_sys::Performance, nav: &JsValue) {
    let parent = meta_parent();
    let start = agent.clock.epoch_ns(js::num(nav, "startTime"));
    let end = agent.clock.epoch_ns(js::num(nav, "loadEventEnd"));
    let mut root = agent.start_span("documentLoad", SpanKind::Internal, parent.as_ref(), start);
    root.end(end);
    if !root.flags.is_sampled() {
        return;
    }
    let href = js::string(&js::get(&js::global(), "location"), "href").unwrap_or_default();
    agent.url_attributes(&mut root, &href);
    if let Some(kind) = js::string(nav, "type") {
        agent.attr(&mut root, "waggle.navigation_type", kind);
    }
    for field in NAVIGATION_EVENTS {
        event_if_set(agent, &mut root, nav, field);
    }
    let paints = perf.get_entries_by_type("paint");
    for p in paints.iter() {
        let name = match js::string(&p, "name").as_deref() {
            Some("first-paint") => "firstPaint",
            Some("first-contentful-paint") => "firstContentfulPaint",
            _ => continue,
        };
        let t = agent.clock.epoch_ns(js::num(&p, "startTime"));
        root.add_event(&agent.limits, name, t, Vec::new());
    }
    let link = server_timing_link(nav);
    if let Some(link) = link.clone() {
        root.add_link(&agent.limits, link);
    }
    let ctx = ParentContext { trace_id: root.trace_id, span_id: root.span_id, flags: TraceFlags::SAMPLED, trace_state: root.trace_state.clone() };

    let fetch_start = agent.clock.epoch_ns(js::num(nav, "fetchStart"));
    let mut doc = agent.start_span("documentFetch", SpanKind::Internal, Some(&ctx), fetch_start);
    doc.end(agent.clock.epoch_ns(js::num(nav, "responseEnd")));
    agent.url_attributes(&mut doc, &href);
    timing_attributes(agent, &mut doc, nav);
    network_events(agent, &mut doc, nav);
    if let Some(link) = link {
        doc.add_link(&agent.limits, link);
    }

    agent.finish(root);
    agent.finish(doc);
    record_resources(agent, perf.get_entries_by_type("resource"), ctx, 0);
}

/// Resources recorded per task: a page of a thousand resources is then
/// ten short tasks rather than one long one.
const RESOURCES_PER_TASK: u32 = 100;

/// Records `resources[from..]` as `resourceFetch` children of `ctx`, a
/// slice per task.
fn record_resources(agent: &mut Agent, resources: js_sys::Array, ctx: ParentContext, from: u32) {
    let to = resources.length().min(from + RESOURCES_PER_TASK);
    for i in from..to {
        let entry = resources.get(i);
        let Some(url) = js::string(&entry, "name") else { continue };
        if agent.ignored(&url) {
            continue;
        }
        let s = agent.clock.epoch_ns(js::num(&entry, "startTime"));
        let mut span = agent.start_span("resourceFetch", SpanKind::Internal, Some(&ctx), s);
        span.end(agent.clock.epoch_ns(js::num(&entry, "responseEnd")));
        agent.url_attributes(&mut span, &url);
        if let Some(t) = js::string(&entry, "initiatorType") {
            agent.attr(&mut span, "waggle.initiator_type", t);
        }
        timing_attributes(agent, &mut span, &entry);
        network_events(agent, &mut span, &entry);
        agent.finish(span);
    }
    if to < resources.length() {
        super::lib::http::after(0, move || {
            with_agent(|a| record_resources(a, resources, ctx, to));
        });
    }
}
