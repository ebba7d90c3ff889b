//! User interactions: one span per `click` (and per event of the other
//! types in `interactionEvents`, such as `submit`), named for the event.
//!
//! The span starts at the event's `timeStamp` (when the browser received the
//! input) and is current while the page handles the event: requests the
//! handlers start, synchronously, in promise callbacks they chain and in
//! timers they set, become its children, as does a route change they make.
//! It ends when the page settles after it (see `settle.rs`). What is and is
//! not followed is listed in `settle.rs` and `timers.rs`; in short, work
//! that resumes after a network response (code after `await fetch(...)`) is
//! not.
//!
//! Attributes (no semantic convention exists for interactions, hence the
//! `waggle.` prefix; OpenTelemetry JS's `event_type`/`target_element`/
//! `target_xpath` carry the same facts without a namespace):
//! - `waggle.event.type`: the event's type, as in the span name.
//! - `waggle.target.tag`: the target element's tag, lower case.
//! - `waggle.target.id`: its `id`, when it has one.
//! - `waggle.target.selector`: a CSS selector for it built from unique ids,
//!   tags and `:nth-of-type` (no class names, no text), at most 200 bytes.
//! - `page.url`, `page.route`, `page.title`: the page it happened on, even
//!   when the interaction navigates elsewhere.
//!
//! Events whose target is not an element (the window, the document) are not
//! recorded. The element's text and values are never read.

use std::rc::Rc;

use opentelemetry::trace::SpanKind;
use wasm_bindgen::JsValue;

use crate::core::selector::{css_selector, Step, MAX_SELECTOR_DEPTH};

use super::agent::with_agent;
use super::lib::js;
use super::lib::listener::Listener;
use super::settle::{acquire, Kind, Tracker};

/// The event listeners; dropping it removes them.
pub struct Interactions {
    _listeners: Vec<Listener>,
    _tracker: Rc<Tracker>,
}

impl Interactions {
    /// Listens, in the capture phase on `window` (before any handler on the
    /// page can stop the event), for each of the configured event types.
    pub fn start() -> Self {
        let tracker = acquire();
        let events = with_agent(|a| a.config.interaction_events.clone()).unwrap_or_default();
        let mut listeners = Vec::new();
        for kind in events {
            let listener = Listener::named(&js::global(), kind, true, |event| on_event(event.as_ref()));
            if let Some(l) = listener {
                listeners.push(l);
            }
        }
        Interactions { _listeners: listeners, _tracker: tracker }
    }
}

const ELEMENT_NODE: f64 = 1.0;

fn on_event(event: &JsValue) {
    let target = js::get(event, "target");
    if js::num(&target, "nodeType") != ELEMENT_NODE {
        return;
    }
    let Some(kind) = js::string(event, "type") else { return };
    let tag = js::string(&target, "localName").unwrap_or_default();
    let id = js::string(&target, "id").filter(|s| !s.is_empty());
    let selector = css_selector(&steps(&target));
    let stamp = js::num(event, "timeStamp");
    let span = with_agent(|a| {
        let now = js::now();
        // timeStamp is on the page's clock; an odd value (an old browser's
        // epoch ms, a synthetic event) falls back to now.
        let start = if stamp > 0.0 && stamp <= now { stamp } else { now };
        let start = a.clock.epoch_ns(start);
        let parent = a.current();
        let mut span = a.start_span(&kind, SpanKind::Internal, parent.as_ref(), start);
        a.attr(&mut span, "waggle.event.type", kind.clone());
        a.attr(&mut span, "waggle.target.tag", tag);
        if let Some(id) = id {
            a.attr(&mut span, "waggle.target.id", id);
        }
        if !selector.is_empty() {
            a.attr(&mut span, "waggle.target.selector", selector);
        }
        a.attr(&mut span, "page.url", a.page.url.clone());
        a.attr(&mut span, "page.route", a.page.route.clone());
        a.attr(&mut span, "page.title", a.page.title.clone());
        span
    });
    if let (Some(span), Some(tracker)) = (span, super::settle::tracker()) {
        tracker.open(span, Kind::Interaction);
    }
}

/// The path from `el` up to `body`, for [`css_selector`].
fn steps(el: &JsValue) -> Vec<Step> {
    let document = js::get(&js::global(), "document");
    let mut out = Vec::new();
    let mut cur = el.clone();
    while js::num(&cur, "nodeType") == ELEMENT_NODE && out.len() < MAX_SELECTOR_DEPTH {
        let tag = js::string(&cur, "localName").unwrap_or_default();
        if tag == "html" {
            break;
        }
        let id = js::string(&cur, "id").filter(|s| !s.is_empty());
        let unique_id = id.filter(|id| js::call(&document, "getElementById", &[id.into()]) == cur);
        let (mut nth, mut of_type) = (1, 1);
        if unique_id.is_none() {
            let mut sib = js::get(&cur, "previousElementSibling");
            while sib.is_object() {
                if js::string(&sib, "localName").as_deref() == Some(&tag) {
                    nth += 1;
                    of_type += 1;
                }
                sib = js::get(&sib, "previousElementSibling");
            }
            let mut sib = js::get(&cur, "nextElementSibling");
            while sib.is_object() {
                if js::string(&sib, "localName").as_deref() == Some(&tag) {
                    of_type += 1;
                }
                sib = js::get(&sib, "nextElementSibling");
            }
        }
        let done = unique_id.is_some() || tag == "body";
        out.push(Step { tag, unique_id, nth_of_type: nth, of_type });
        if done {
            break;
        }
        cur = js::get(&cur, "parentElement");
    }
    out
}
