//! Page load: `documentLoad`, `documentFetch` and one `resourceFetch` per
//! Resource Timing entry, shaped as OpenTelemetry's web instrumentation
//! shapes them, once per page view.
//!
//! The page reports `[LOADED, navigation, paints, metaTraceparent,
//! metaTracestate, href, resources]` once its `load` handlers are done:
//! the navigation entry (the resource fields of [`Entry`], then `type`
//! and the [`NAVIGATION_EVENTS`] fields), the `paint` entries as
//! `[name, startTime]`, `<meta name="traceparent">` and
//! `<meta name="tracestate">` as the server rendered them, and every
//! resource entry (each followed by the bits of the options' regular
//! expressions its URL matches).

use alloc::vec::Vec;

use crate::core::span::{kind, Attrs};
use crate::platform::wire::Rec;
use crate::runtime::{once, Ctx, Runtime};

use super::timing::Entry;

/// Navigation Timing fields recorded as events on `documentLoad`, in the
/// order the page sends them after `type`.
pub const NAVIGATION_EVENTS: [&str; 10] = [
    "unloadEventStart",
    "unloadEventEnd",
    "domInteractive",
    "domContentLoadedEventStart",
    "domContentLoadedEventEnd",
    "domComplete",
    "loadEventStart",
    "loadEventEnd",
    "redirectEnd",
    "fetchStart",
];

/// The navigation entry: the resource fields, `type`, the
/// [`NAVIGATION_EVENTS`] fields but `fetchStart`, and `activationStart`.
pub struct Nav {
    /// The resource fields.
    pub entry: Entry,
    /// `type`: `navigate`, `reload`, `back_forward`, `prerender`.
    pub kind: alloc::string::String,
    /// The [`NAVIGATION_EVENTS`] times.
    pub marks: [f64; 10],
    /// `activationStart` (prerendered pages).
    pub activation: f64,
}

impl Nav {
    /// Reads the entry.
    pub fn read(r: &mut Rec<'_, '_>) -> Nav {
        let mut n = r.arr();
        let entry = Entry::read(&mut n);
        let kind = alloc::string::String::from(n.str());
        let mut marks = [0f64; 10];
        for m in marks.iter_mut().take(9) {
            *m = n.num();
        }
        marks[9] = entry.phases[0];
        let activation = n.num();
        Nav { entry, kind, marks, activation: if activation > 0.0 { activation } else { 0.0 } }
    }
}

/// Records the page load, once per page view; `r` is past the navigation
/// entry.
pub fn loaded(rt: &mut Runtime, nav: &Nav, r: &mut Rec<'_, '_>) {
    if rt.sent & once::DOCUMENT_LOAD != 0 {
        return;
    }
    rt.sent |= once::DOCUMENT_LOAD;
    let (nav_type, marks, activation) = (&nav.kind, nav.marks, nav.activation);
    let nav = &nav.entry;
    let mut paints = Vec::new();
    {
        let mut list = r.arr();
        while list.left() > 0 {
            let mut p = list.arr();
            let name = match p.str() {
                "first-paint" => "firstPaint",
                "first-contentful-paint" => "firstContentfulPaint",
                _ => continue,
            };
            paints.push((name, p.num()));
        }
    }
    let meta_tp = r.str();
    let meta_ts = r.str();
    let parent = if meta_tp.is_empty() {
        None
    } else {
        let mut t = alloc::string::String::from(meta_tp);
        if !meta_ts.is_empty() {
            t.push('\n');
            t.push_str(meta_ts);
        }
        Ctx::parse(&t)
    };
    let href = r.str();
    let load_end = marks[7];
    let mut root = rt.start_span("documentLoad", kind::INTERNAL, parent.as_ref(), rt.ns(nav.start.max(0.0)));
    root.end(rt.ns(load_end));
    if !root.sampled() {
        return;
    }
    rt.url_attrs(&mut root, href);
    if !nav_type.is_empty() {
        root.set("browser.web_vital.navigation_type", crate::core::vitals::navigation_type(Some(nav_type), activation > 0.0, false));
    }
    for (name, t) in NAVIGATION_EVENTS.iter().zip(marks) {
        if t > 0.0 {
            root.event(name, rt.ns(t), &Attrs::EMPTY);
        }
    }
    for (name, t) in paints {
        root.event(name, rt.ns(t), &Attrs::EMPTY);
    }
    if let Some(tp) = crate::core::tracecontext::parse_traceparent(&nav.server_timing) {
        root.link(tp.trace_id, tp.span_id, tp.flags, &Attrs::EMPTY);
    }
    rt.view_loaded(&mut root);
    let ctx = Ctx::of(&root);

    let mut doc = rt.start_span("documentFetch", kind::INTERNAL, Some(&ctx), rt.ns(nav.phases[0]));
    doc.end(rt.ns(nav.response_end));
    rt.url_attrs(&mut doc, href);
    nav.apply(rt, &mut doc, true);
    rt.finish(root);
    rt.finish(doc);
    resources(rt, &ctx, r);
}

/// `resourceFetch` spans, children of `documentLoad` (`ctx`).
fn resources(rt: &mut Runtime, ctx: &Ctx, r: &mut Rec<'_, '_>) {
    let mut list = r.arr();
    while list.left() > 0 {
        let mut item = list.arr();
        let e = Entry::read(&mut item);
        let rx = item.u32();
        if e.name.is_empty() || rt.ignored(&e.name, rx) {
            continue;
        }
        let mut span = rt.start_span("resourceFetch", kind::INTERNAL, Some(ctx), rt.ns(e.start));
        span.end(rt.ns(e.response_end));
        rt.url_attrs(&mut span, &e.name);
        if !e.initiator.is_empty() {
            span.set("waggle.initiator_type", e.initiator.as_str());
        }
        e.apply(rt, &mut span, true);
        rt.finish(span);
    }
}
