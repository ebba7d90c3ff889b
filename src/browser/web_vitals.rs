//! Web vitals from the browser's own Performance entries, computed as the
//! `web-vitals` library computes them (`core::vitals`), each reported once
//! it is final:
//!
//! - TTFB (`navigation` entry) and FCP (`paint` entry) as soon as known;
//! - LCP (`largest-contentful-paint`) at the first trusted key press or
//!   click, or when the page is hidden, whichever comes first;
//! - CLS (`layout-shift`) and INP (`event` with `durationThreshold` 40, and
//!   `first-input`) when the page is hidden (`visibilitychange` to hidden,
//!   or `pagehide`), and again at a later hide if the value changed.
//!
//! Each report is a root span named by the vital's acronym (`LCP`, `CLS`,
//! `INP`, `FCP`, `TTFB`) spanning what it measures: navigation start to the
//! paint (LCP, FCP) or first byte (TTFB); the interaction's input to its
//! next paint (INP); the first to the last shift of the window that makes
//! CLS (or the moment of the report for a CLS of 0). The span carries the
//! semantic conventions' `browser.web_vital` event (`name`, `value`,
//! `delta`, `id`, `rating`, `navigation_type`) and the same fields as span
//! attributes under `browser.web_vital.*`, so span queries need no event
//! join. Attribution, which no convention covers yet, sits under the same
//! prefix: `browser.web_vital.lcp.element|url|render_time|load_time|size`,
//! `browser.web_vital.cls.largest_shift_target|largest_shift_value|largest_shift_time`,
//! `browser.web_vital.inp.target|event_type|input_delay|processing_duration|presentation_delay`.
//! Times in attributes are milliseconds; `*_time` ones are measured from
//! navigation start like the values.
//!
//! The hide listeners are capture listeners on `window`, which run before
//! the exporter's own hide listeners (on `document`, and at target on
//! `window`), so the reports go out in the same final `keepalive` flush.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::lib::guard::Timeout;
use js_sys::{Array, Function, Object, Reflect};
use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::vitals::{
    navigation_type, selector, since_activation, Cls, EventEntry, Inp, LayoutShift, Reporter, SelectorPart, Vital,
};

use super::agent::with_agent;
use super::lib::js;
use super::lib::listener::Listener;

/// `web-vitals`' default: events faster than this cannot be the INP.
const DURATION_THRESHOLD_MS: f64 = 40.0;
/// Longest selector reported, as `web-vitals` bounds it.
const MAX_SELECTOR_LEN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Lcp,
    Shift,
    Event,
    FirstInput,
    Paint,
}

impl Kind {
    fn entry_type(self) -> &'static str {
        match self {
            Kind::Lcp => "largest-contentful-paint",
            Kind::Shift => "layout-shift",
            Kind::Event => "event",
            Kind::FirstInput => "first-input",
            Kind::Paint => "paint",
        }
    }
}

/// The LCP candidate: the latest `largest-contentful-paint` entry.
#[derive(Clone, Debug)]
struct LcpCandidate {
    start_time: f64,
    render_time: f64,
    load_time: f64,
    size: f64,
    element: Option<String>,
    url: String,
}

struct State {
    activation_start: f64,
    navigation_type: String,
    /// When the page was first hidden (ms); paints after it do not count.
    first_hidden: f64,
    observers: Vec<(Kind, JsValue)>,
    lcp: Option<LcpCandidate>,
    lcp_done: bool,
    cls: Cls,
    inp: Inp,
    reporters: [Reporter; 5],
    ids: [String; 5],
}

/// One value ready to become a span.
struct Report {
    vital: Vital,
    value: f64,
    delta: f64,
    id: String,
    navigation_type: String,
    start_ms: f64,
    end_ms: f64,
    /// Start and end at the moment of the report (a CLS of 0 has no shift
    /// to point at).
    at_report_time: bool,
    attrs: Vec<(&'static str, Value)>,
    url: Option<String>,
}

fn index(v: Vital) -> usize {
    match v {
        Vital::Lcp => 0,
        Vital::Cls => 1,
        Vital::Inp => 2,
        Vital::Fcp => 3,
        Vital::Ttfb => 4,
    }
}

/// `web-vitals`-style metric id: unique per vital and page view, kept
/// across a vital's reports so their deltas can be summed.
fn metric_id() -> String {
    let random = (js_sys::Math::random() * 8_999_999_999_999.0) as u64 + 1_000_000_000_000;
    format!("w1-{}-{}", js_sys::Date::now() as u64, random)
}

impl State {
    fn report(&mut self, vital: Vital, value: f64, start_ms: f64, end_ms: f64) -> Option<Report> {
        let delta = self.reporters[index(vital)].report(value)?;
        Some(Report {
            vital,
            value,
            delta,
            id: self.ids[index(vital)].clone(),
            navigation_type: self.navigation_type.clone(),
            start_ms,
            end_ms,
            at_report_time: false,
            attrs: Vec::new(),
            url: None,
        })
    }

    fn observer(&self, kind: Kind) -> Option<&JsValue> {
        self.observers.iter().find(|(k, _)| *k == kind).map(|(_, po)| po)
    }
}

/// A PerformanceObserver, disconnected when dropped.
struct Observer {
    po: JsValue,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Observer {
    fn drop(&mut self) {
        js::call(&self.po, "disconnect", &[]);
    }
}

fn supported(kind: Kind) -> bool {
    let types = js::get(&js::get(&js::global(), "PerformanceObserver"), "supportedEntryTypes");
    types.dyn_ref::<Array>().is_some_and(|a| a.includes(&kind.entry_type().into(), 0))
}

fn observe(kind: Kind, state: Weak<RefCell<State>>) -> Option<Observer> {
    if !supported(kind) {
        return None;
    }
    let callback = Closure::wrap(Box::new(move |list: JsValue| {
        let entries = js::call(&list, "getEntries", &[]);
        if let Some(state) = state.upgrade() {
            handle(&state, kind, &entries);
        }
    }) as Box<dyn FnMut(JsValue)>);
    let ctor: Function = js::get(&js::global(), "PerformanceObserver").dyn_into().ok()?;
    let po = Reflect::construct(&ctor, &Array::of1(&super::lib::guard::callback(callback.as_ref()))).ok()?;
    let opts = Object::new();
    js::set(&opts, "type", &kind.entry_type().into());
    js::set(&opts, "buffered", &JsValue::TRUE);
    if kind == Kind::Event {
        js::set(&opts, "durationThreshold", &DURATION_THRESHOLD_MS.into());
    }
    js::call(&po, "observe", &[opts.into()]);
    Some(Observer { po, _callback: callback })
}

/// The `web-vitals` selector of a DOM node.
pub fn selector_of(node: &JsValue) -> Option<String> {
    let mut owned: Vec<(String, String, String)> = Vec::new();
    let mut n = node.clone();
    while n.is_object() && owned.len() < 32 {
        let node_type = js::num(&n, "nodeType");
        if node_type == 9.0 || node_type == 0.0 {
            break;
        }
        let raw = js::string(&n, "nodeName").unwrap_or_default();
        let (name, id, classes) = if node_type == 1.0 {
            let classes = js::string(&js::get(&n, "classList"), "value").unwrap_or_default();
            (raw.to_ascii_lowercase(), js::string(&n, "id").unwrap_or_default(), classes)
        } else {
            (raw.trim_start_matches('#').to_ascii_uppercase(), String::new(), String::new())
        };
        let has_id = !id.is_empty();
        owned.push((name, id, classes));
        if has_id {
            break;
        }
        n = js::get(&n, "parentNode");
    }
    let parts: Vec<SelectorPart<'_>> =
        owned.iter().map(|(name, id, classes)| SelectorPart { name, id, classes }).collect();
    let s = selector(&parts, MAX_SELECTOR_LEN);
    (!s.is_empty()).then_some(s)
}

/// Which of a shift's sources `web-vitals` names: the first element.
fn shift_target(entry: &JsValue) -> Option<String> {
    let sources: Array = js::get(entry, "sources").dyn_into().ok()?;
    let chosen = sources.iter().find(|s| js::num(&js::get(s, "node"), "nodeType") == 1.0).or_else(|| {
        let first = sources.get(0);
        (!first.is_undefined()).then_some(first)
    })?;
    selector_of(&js::get(&chosen, "node"))
}

fn event_entry(e: &JsValue, first_input: bool) -> EventEntry {
    let interaction_id = js::num(e, "interactionId").max(0.0) as u64;
    let target =
        if interaction_id > 0 || first_input { selector_of(&js::get(e, "target")) } else { None };
    EventEntry {
        interaction_id,
        name: js::string(e, "name").unwrap_or_default(),
        start_time: js::num(e, "startTime"),
        duration: js::num(e, "duration"),
        processing_start: js::num(e, "processingStart"),
        processing_end: js::num(e, "processingEnd"),
        target,
        first_input,
    }
}

fn process(s: &mut State, kind: Kind, entries: &JsValue, out: &mut Vec<Report>) {
    let Some(entries) = entries.dyn_ref::<Array>() else { return };
    for e in entries.iter() {
        match kind {
            Kind::Lcp => {
                let start_time = js::num(&e, "startTime");
                if s.lcp_done || start_time >= s.first_hidden {
                    continue;
                }
                s.lcp = Some(LcpCandidate {
                    start_time,
                    render_time: js::num(&e, "renderTime"),
                    load_time: js::num(&e, "loadTime"),
                    size: js::num(&e, "size"),
                    element: selector_of(&js::get(&e, "element")),
                    url: js::string(&e, "url").unwrap_or_default(),
                });
            }
            Kind::Shift => {
                let had_recent_input = js::get(&e, "hadRecentInput").as_bool().unwrap_or(false);
                let target = if had_recent_input { None } else { shift_target(&e) };
                s.cls.add(LayoutShift { start_time: js::num(&e, "startTime"), value: js::num(&e, "value"), had_recent_input, target });
            }
            Kind::Event | Kind::FirstInput => s.inp.add(event_entry(&e, kind == Kind::FirstInput)),
            Kind::Paint => {
                let start_time = js::num(&e, "startTime");
                if js::string(&e, "name").as_deref() == Some("first-contentful-paint") && start_time < s.first_hidden {
                    let value = since_activation(start_time, s.activation_start);
                    let a = s.activation_start;
                    out.extend(s.report(Vital::Fcp, value, a, a + value));
                }
            }
        }
    }
}

fn handle(state: &Rc<RefCell<State>>, kind: Kind, entries: &JsValue) {
    let mut out = Vec::new();
    if let Ok(mut s) = state.try_borrow_mut() {
        process(&mut s, kind, entries, &mut out);
    }
    emit(out);
}

/// Feeds what the observers have queued but not yet delivered.
fn drain(s: &mut State, only: Option<Kind>, out: &mut Vec<Report>) {
    let observers: Vec<(Kind, JsValue)> =
        s.observers.iter().filter(|(k, _)| only.map_or(true, |o| o == *k)).cloned().collect();
    for (kind, po) in observers {
        let records = js::call(&po, "takeRecords", &[]);
        process(s, kind, &records, out);
    }
}

fn finalize_lcp(s: &mut State, out: &mut Vec<Report>) {
    if s.lcp_done {
        return;
    }
    drain(s, Some(Kind::Lcp), out);
    s.lcp_done = true;
    if let Some(po) = s.observer(Kind::Lcp) {
        js::call(po, "disconnect", &[]);
    }
    let Some(c) = s.lcp.clone() else { return };
    let value = since_activation(c.start_time, s.activation_start);
    let a = s.activation_start;
    let Some(mut r) = s.report(Vital::Lcp, value, a, a + value) else { return };
    if let Some(el) = c.element {
        r.attrs.push(("browser.web_vital.lcp.element", el.into()));
    }
    if c.render_time > 0.0 {
        r.attrs.push(("browser.web_vital.lcp.render_time", since_activation(c.render_time, a).into()));
    }
    if c.load_time > 0.0 {
        r.attrs.push(("browser.web_vital.lcp.load_time", since_activation(c.load_time, a).into()));
    }
    if c.size > 0.0 {
        r.attrs.push(("browser.web_vital.lcp.size", (c.size as i64).into()));
    }
    if !c.url.is_empty() {
        r.url = Some(c.url);
    }
    out.push(r);
}

fn report_cls(s: &mut State, out: &mut Vec<Report>) {
    // As `web-vitals` does: a page hidden before it painted anything has
    // no CLS to speak of.
    if !s.reporters[index(Vital::Fcp)].reported() {
        return;
    }
    let value = s.cls.value();
    let window = s.cls.window().cloned();
    let (start, end) = window.as_ref().map_or((0.0, 0.0), |w| (w.first, w.last));
    let Some(mut r) = s.report(Vital::Cls, value, start, end) else { return };
    match window {
        Some(w) => {
            if let Some(t) = w.largest_shift.target {
                r.attrs.push(("browser.web_vital.cls.largest_shift_target", t.into()));
            }
            r.attrs.push(("browser.web_vital.cls.largest_shift_value", w.largest_shift.value.into()));
            r.attrs.push((
                "browser.web_vital.cls.largest_shift_time",
                since_activation(w.largest_shift.start_time, s.activation_start).into(),
            ));
        }
        None => r.at_report_time = true,
    }
    out.push(r);
}

fn report_inp(s: &mut State, out: &mut Vec<Report>) {
    let count = js::num(&js::get(&js::global(), "performance"), "interactionCount").max(0.0) as u64;
    let Some(i) = s.inp.estimate(count) else { return };
    let latency = i.latency;
    let a = i.attribution();
    let Some(mut r) = s.report(Vital::Inp, latency, a.interaction_time, a.interaction_time + latency) else { return };
    if let Some(t) = a.target {
        r.attrs.push(("browser.web_vital.inp.target", t.into()));
    }
    r.attrs.push(("browser.web_vital.inp.event_type", a.event_type.into()));
    r.attrs.push(("browser.web_vital.inp.input_delay", a.input_delay.into()));
    r.attrs.push(("browser.web_vital.inp.processing_duration", a.processing_duration.into()));
    r.attrs.push(("browser.web_vital.inp.presentation_delay", a.presentation_delay.into()));
    out.push(r);
}

fn on_hidden(state: &Rc<RefCell<State>>, time_stamp: f64) {
    let mut out = Vec::new();
    if let Ok(mut s) = state.try_borrow_mut() {
        s.first_hidden = s.first_hidden.min(time_stamp);
        drain(&mut s, None, &mut out);
        finalize_lcp(&mut s, &mut out);
        report_cls(&mut s, &mut out);
        report_inp(&mut s, &mut out);
    }
    emit(out);
}

fn report_ttfb(state: &Rc<RefCell<State>>) {
    let nav = js::performance().map(|p| p.get_entries_by_type("navigation").get(0)).unwrap_or(JsValue::UNDEFINED);
    let response_start = js::num(&nav, "responseStart");
    if response_start <= 0.0 || response_start > js::now() {
        return;
    }
    let mut out = Vec::new();
    if let Ok(mut s) = state.try_borrow_mut() {
        let a = s.activation_start;
        let value = since_activation(response_start, a);
        out.extend(s.report(Vital::Ttfb, value, a, a + value));
    }
    emit(out);
}

fn emit(reports: Vec<Report>) {
    if reports.is_empty() {
        return;
    }
    with_agent(|agent| {
        for r in reports {
            let now = agent.now_ns();
            let (start, end) = if r.at_report_time {
                (now, now)
            } else {
                (agent.clock.epoch_ns(r.start_ms), agent.clock.epoch_ns(r.end_ms))
            };
            let mut span = agent.start_span(r.vital.span_name(), SpanKind::Internal, None, start);
            span.end(end);
            if !span.flags.is_sampled() {
                continue;
            }
            let rating = r.vital.rating(r.value).as_str();
            // The semantic conventions' event fields, and the span attribute
            // each is also recorded as.
            let fields = [
                ("name", "browser.web_vital.name", Value::from(r.vital.name())),
                ("value", "browser.web_vital.value", Value::F64(r.value)),
                ("delta", "browser.web_vital.delta", Value::F64(r.delta)),
                ("id", "browser.web_vital.id", Value::from(r.id)),
                ("rating", "browser.web_vital.rating", Value::from(rating)),
                ("navigation_type", "browser.web_vital.navigation_type", Value::from(r.navigation_type)),
            ];
            for (_, key, v) in &fields {
                agent.attr(&mut span, key, v.clone());
            }
            for (k, v) in r.attrs {
                agent.attr(&mut span, k, v);
            }
            if let Some(url) = r.url {
                let scrubbed = agent.scrub_url(&url);
                agent.attr(&mut span, "browser.web_vital.lcp.url", scrubbed);
            }
            let event = fields.into_iter().map(|(k, _, v)| KeyValue::new(k, v)).collect();
            span.add_event(&agent.limits, "browser.web_vital", now, event);
            agent.finish(span);
        }
    });
}

/// When the page was first hidden before the agent started, from the
/// `visibility-state` entries where the browser keeps them.
fn initial_hidden_time(document: &JsValue, prerendering: bool) -> f64 {
    if let Some(perf) = js::performance() {
        let entries = perf.get_entries_by_type("visibility-state");
        if let Some(e) = entries.iter().find(|e| js::string(e, "name").as_deref() == Some("hidden")) {
            return js::num(&e, "startTime");
        }
    }
    if !prerendering && js::string(document, "visibilityState").as_deref() == Some("hidden") {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Observes the vitals and reports each once final.
pub struct WebVitals {
    _state: Rc<RefCell<State>>,
    _observers: Vec<Observer>,
    _listeners: Vec<Listener>,
    _ttfb: Timeout,
}

impl WebVitals {
    /// Starts observing, including entries buffered before the agent ran.
    pub fn start() -> Self {
        let document = js::get(&js::global(), "document");
        let nav = js::performance().map(|p| p.get_entries_by_type("navigation").get(0)).unwrap_or(JsValue::UNDEFINED);
        let prerendering = js::get(&document, "prerendering").as_bool().unwrap_or(false);
        let activation_start = js::num(&nav, "activationStart");
        let nav_type = navigation_type(
            js::string(&nav, "type").as_deref(),
            prerendering || activation_start > 0.0,
            js::get(&document, "wasDiscarded").as_bool().unwrap_or(false),
        );
        let state = Rc::new(RefCell::new(State {
            activation_start,
            navigation_type: nav_type,
            first_hidden: initial_hidden_time(&document, prerendering),
            observers: Vec::new(),
            lcp: None,
            lcp_done: false,
            cls: Cls::default(),
            inp: Inp::default(),
            reporters: Default::default(),
            ids: std::array::from_fn(|_| metric_id()),
        }));
        let observers: Vec<Observer> = [Kind::Paint, Kind::Lcp, Kind::Shift, Kind::Event, Kind::FirstInput]
            .into_iter()
            .filter_map(|k| observe(k, Rc::downgrade(&state)).map(|o| (k, o)))
            .map(|(k, o)| {
                state.borrow_mut().observers.push((k, o.po.clone()));
                o
            })
            .collect();

        let mut listeners = Vec::new();
        let window = js::global();
        for kind in ["visibilitychange", "pagehide"] {
            let weak = Rc::downgrade(&state);
            let doc = document.clone();
            listeners.extend(Listener::new(&window, kind, true, move |ev| {
                if kind == "visibilitychange" && js::string(&doc, "visibilityState").as_deref() != Some("hidden") {
                    return;
                }
                if let Some(state) = weak.upgrade() {
                    on_hidden(&state, ev.time_stamp());
                }
            }));
        }
        // Chromium stops looking for a larger paint at the first input; the
        // value is final then. Reported after the input's own handlers so
        // it adds nothing to the interaction's latency.
        for kind in ["keydown", "click"] {
            let weak = Rc::downgrade(&state);
            listeners.extend(Listener::new(&window, kind, true, move |ev| {
                if !ev.is_trusted() || weak.upgrade().map_or(true, |s| s.try_borrow().map_or(true, |s| s.lcp_done)) {
                    return;
                }
                let weak = weak.clone();
                Timeout::new(0, move || {
                    let Some(state) = weak.upgrade() else { return };
                    let mut out = Vec::new();
                    if let Ok(mut s) = state.try_borrow_mut() {
                        finalize_lcp(&mut s, &mut out);
                    }
                    emit(out);
                })
                .forget();
            }));
        }
        // A prerendered page is measured from its activation.
        if prerendering {
            let weak = Rc::downgrade(&state);
            listeners.extend(Listener::new(&document, "prerenderingchange", false, move |_| {
                let Some(state) = weak.upgrade() else { return };
                let nav = js::performance().map(|p| p.get_entries_by_type("navigation").get(0)).unwrap_or(JsValue::UNDEFINED);
                if let Ok(mut s) = state.try_borrow_mut() {
                    s.activation_start = js::num(&nav, "activationStart");
                }
                report_ttfb(&state);
            }));
        }
        let weak = Rc::downgrade(&state);
        let ttfb = Timeout::new(0, move || {
            let Some(state) = weak.upgrade() else { return };
            let prerendering = js::get(&js::get(&js::global(), "document"), "prerendering").as_bool().unwrap_or(false);
            if !prerendering {
                report_ttfb(&state);
            }
        });
        WebVitals { _state: state, _observers: observers, _listeners: listeners, _ttfb: ttfb }
    }
}
