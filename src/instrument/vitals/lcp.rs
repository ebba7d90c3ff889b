//! Largest Contentful Paint: navigation start to the last
//! `largest-contentful-paint` entry before the first trusted key press or
//! click, or before the page was hidden, reported then, once per page
//! view. The page sends `[ENTRY, 4, startTime, renderTime, loadTime,
//! size, url, elementPath, navigationId]`. A soft navigation's view
//! (`soft_nav`) takes its candidates from `interaction-contentful-paint`
//! entries, in the same layout, and measures from the navigation's start.
//!
//! Attribution: `waggle.web_vital.lcp.element` (the `web-vitals`
//! selector), `.url` (scrubbed), `.render_time`, `.load_time`, `.size`.

use alloc::string::String;

use crate::core::span::{Attrs, Value};
use crate::core::vitals::{since_activation, Vital};
use crate::instrument::path;
use crate::platform::wire::Rec;
use crate::runtime::{once, Runtime};

use super::{Report, Vitals};

/// The candidate so far.
#[derive(Default)]
pub struct Lcp {
    candidate: Option<Candidate>,
    done: bool,
}

/// An LCP candidate.
pub struct Candidate {
    start: f64,
    render: f64,
    load: f64,
    size: f64,
    url: String,
    element: Option<String>,
}

/// Reads a candidate and the id of the view it belongs to.
pub fn read(r: &mut Rec<'_, '_>) -> (Candidate, String) {
    let start = r.num();
    let render = r.num();
    let load = r.num();
    let size = r.num();
    let url = String::from(r.str());
    let element = path::vitals_selector(&path::read(r));
    (Candidate { start, render, load, size, url, element }, String::from(r.str()))
}

/// A `largest-contentful-paint` entry.
pub fn entry(v: &mut Vitals, r: &mut Rec<'_, '_>) {
    let (c, nav) = read(r);
    if v.mine(&nav) {
        candidate(v, c);
    }
}

/// A candidate of this view's.
pub fn candidate(v: &mut Vitals, c: Candidate) {
    if v.lcp.done || c.start >= v.first_hidden {
        return;
    }
    v.lcp.candidate = Some(c);
}

/// LCP is final (input, or the page hidden): reports it.
pub fn finalize(v: &mut Vitals, rt: &mut Runtime) {
    if v.lcp.done {
        return;
    }
    v.lcp.done = true;
    let Some(c) = v.lcp.candidate.take() else { return };
    if v.nav.is_empty() {
        if rt.sent & once::LCP != 0 {
            return;
        }
        rt.sent |= once::LCP;
    }
    let a = v.activation;
    let value = since_activation(c.start, a);
    let mut attrs = Attrs::default();
    if let Some(el) = c.element {
        attrs.put("waggle.web_vital.lcp.element", el);
    }
    if c.render > 0.0 {
        attrs.put("waggle.web_vital.lcp.render_time", since_activation(c.render, a));
    }
    if c.load > 0.0 {
        attrs.put("waggle.web_vital.lcp.load_time", since_activation(c.load, a));
    }
    if c.size > 0.0 {
        attrs.put("waggle.web_vital.lcp.size", Value::Int(c.size as i64));
    }
    if !c.url.is_empty() {
        attrs.put("waggle.web_vital.lcp.url", rt.scrub(&c.url));
    }
    v.emit(rt, Report { vital: Vital::Lcp, value, start_ms: a, end_ms: a + value, attrs });
}
