//! User interactions: one span per `click` (and per event of the other
//! types in `interactionEvents`, such as `submit`), named for the event.
//!
//! The page reports `[EVENT, timeStamp, type, path, actionable, name]` from a
//! capture listener on `window`, before any handler on the page can stop
//! the event. The span starts at the event's `timeStamp` (when the browser
//! received the input) and is current while the page handles it:
//! requests the handlers start, synchronously, in promise callbacks they
//! chain and in timers they set, become its children, as does a route
//! change they make. It ends when the page settles after it
//! (`core::settle`). Work that resumes after a network response (code
//! after `await fetch(...)`) is not followed.
//!
//! Attributes (no semantic convention covers interactions, hence the
//! `waggle.` prefix): `waggle.event.type`, `waggle.target.tag`,
//! `waggle.target.id`, `waggle.target.selector` (unique ids, tags and
//! `:nth-of-type`, at most 200 bytes: no class names, no text),
//! `waggle.target.name` (the `data-waggle-name` of the target or its
//! nearest ancestor that has one: the app's own name for it), and the
//! page it happened on (`browser.document.url.full`, `waggle.page.route`,
//! `waggle.page.title`), even when the interaction navigates elsewhere.
//! Events whose target is not an element are not recorded; the element's
//! text and values are never read. Clicks carry the frustration signals
//! of [`crate::core::frustration`] when they end.

use alloc::string::String;

use crate::core::config::inst;
use crate::core::span::kind;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

use super::path;

/// An interaction event.
pub fn event(rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    let stamp = r.num();
    let event_type = String::from(r.str());
    let path = path::read(r);
    // Whether the target or an ancestor matches frustration::ACTIONABLE.
    let actionable = r.bool();
    let name = r.str();
    if !rt.config.on(inst::INTERACTIONS) || !rt.config.interaction_events.iter().any(|e| *e == event_type) {
        return;
    }
    let Some(target) = path.first().filter(|n| n.node_type == 1) else { return };
    let now = rt.io.now;
    // timeStamp is on the page's clock; an odd value (an old browser's
    // epoch ms, a synthetic event) falls back to now.
    let start = if stamp > 0.0 && stamp <= now { stamp } else { now };
    let parent = rt.current();
    let mut span = rt.start_span(event_type.clone(), kind::INTERNAL, parent.as_ref(), rt.ns(start));
    span.set("waggle.event.type", event_type.as_str());
    span.set("waggle.target.tag", target.name.as_str());
    if !target.id.is_empty() {
        span.set("waggle.target.id", target.id.as_str());
    }
    if !name.is_empty() {
        span.set("waggle.target.name", name);
    }
    let selector = path::interaction_selector(&path);
    if !selector.is_empty() {
        span.set("waggle.target.selector", selector.as_str());
    }
    span.set("browser.document.url.full", rt.page.url.as_str());
    span.set("waggle.page.route", rt.page.route.as_str());
    span.set("waggle.page.title", rt.page.title.as_str());
    if event_type == "click" {
        rt.open_click(span, start, &selector, actionable);
    } else {
        rt.open_tracked(span, false, false);
    }
}
