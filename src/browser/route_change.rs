//! SPA navigations: one `routeChange` span per URL change made by
//! `history.pushState`, `history.replaceState`, a history traversal
//! (`popstate`) or a fragment change (`hashchange`), as Splunk's agent names
//! them.
//!
//! The span starts when the URL changes and stays open until the new view
//! settles (see `settle.rs`: no requests, DOM mutations or resource loads
//! for 100 ms, bounded at 5 s). It is a child of the interaction current
//! when the URL changed (a click on a router link), and is current itself
//! for the rest of that task, its microtasks and the timers they set, so the
//! new view's requests made then become its children.
//!
//! Attributes (no semantic convention exists for page views, hence the
//! `waggle.` prefix):
//! - `waggle.navigation.type`: `pushState`, `replaceState`, `popstate`, or
//!   `hashchange`. A change of the fragment alone is `hashchange` however
//!   it was made (link, `location.hash`, traversal), since browsers report
//!   it with both a `popstate` and a `hashchange`.
//! - `waggle.route.from`, `waggle.route.to`: the routes, as `page.route`
//!   gives them (path, plus the fragment for `#/` hash routes).
//! - `waggle.url.from`: the previous `page.url` (scrubbed like `url.full`).
//! - `page.url`, `page.route`, `page.title`: the new view (the title as the
//!   view set it, read when the span ends). Every span started after the
//!   change carries the new page too.
//!
//! A call that leaves the URL as it was (`replaceState` to store state, a
//! `pushState` of the current URL) is not a route change.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Reflect;
use opentelemetry::trace::{SpanId, SpanKind};

use super::agent::{with_agent, PageContext};
use super::lib::js;
use super::lib::listener::Listener;
use super::lib::patch::Patch;
use super::settle::{acquire, Kind, Tracker};

/// The history hooks and listeners; dropping it restores `pushState` and
/// `replaceState` and removes the listeners.
pub struct RouteChanges {
    _patches: Vec<Patch>,
    _listeners: Vec<Listener>,
    _tracker: Rc<Tracker>,
}

/// The URL as the agent last recorded it. A traversal has changed the URL
/// before its `popstate` arrives, and the agent's page context may have
/// been re-read since (a DOM mutation refreshes the title), so the page
/// being left is kept here.
#[derive(Default)]
struct Last {
    href: String,
    page: Option<PageContext>,
    span: Option<SpanId>,
}

fn href() -> String {
    js::string(&js::get(&js::global(), "location"), "href").unwrap_or_default()
}

fn without_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

impl RouteChanges {
    /// Hooks the history API and listens for traversals and fragment
    /// changes.
    pub fn start() -> Self {
        let tracker = acquire();
        let page = with_agent(|a| a.page.clone());
        let last = Rc::new(RefCell::new(Last { href: href(), page, span: None }));
        let history = js::get(&js::global(), "history");
        let mut patches = Vec::new();
        for method in ["pushState", "replaceState"] {
            let last = last.clone();
            let patch = Patch::install(&history, method, Box::new(move |original, this, args| {
                let before = href();
                let from = with_agent(|a| {
                    let redact = a.config.redact_query_params.clone();
                    PageContext::read(|u| crate::core::url::scrub(u, &redact))
                });
                let result = Reflect::apply(original, this, args)?;
                let after = href();
                if after != before {
                    changed(&last, method, from, after);
                }
                Ok(result)
            }));
            patches.extend(patch);
        }
        let mut listeners = Vec::new();
        for kind in ["popstate", "hashchange"] {
            let last = last.clone();
            // Capture on window: at the target, capture listeners run before
            // the router's own, so its work happens with the span current.
            let listener = Listener::new(&js::global(), kind, true, move |_| {
                let now = href();
                let (same, span) = {
                    let l = last.borrow();
                    (l.href == now, l.span)
                };
                if same {
                    // The hashchange after the popstate of one fragment
                    // navigation: hash routers render now, so the span is
                    // current again for this task.
                    if let (Some(id), Some(t)) = (span, super::settle::tracker()) {
                        t.reenter(id);
                    }
                    return;
                }
                let (from_href, from) = {
                    let l = last.borrow();
                    (l.href.clone(), l.page.clone())
                };
                let kind = if without_fragment(&from_href) == without_fragment(&now) { "hashchange" } else { kind };
                changed(&last, kind, from, now);
            });
            listeners.extend(listener);
        }
        RouteChanges { _patches: patches, _listeners: listeners, _tracker: tracker }
    }
}

/// Records a URL change to `to`; `from` is the page before it.
fn changed(last: &Rc<RefCell<Last>>, kind: &'static str, from: Option<PageContext>, to: String) {
    let Some(tracker) = super::settle::tracker() else { return };
    // The view being left keeps its own page.* on its route change.
    tracker.supersede_route_changes();
    let span = with_agent(|a| {
        let from = from.unwrap_or_else(|| a.page.clone());
        a.refresh_page();
        last.borrow_mut().page = Some(a.page.clone());
        let parent = a.current();
        let now = a.now_ns();
        let mut span = a.start_span("routeChange", SpanKind::Internal, parent.as_ref(), now);
        a.attr(&mut span, "waggle.navigation.type", kind);
        a.attr(&mut span, "waggle.route.from", from.route);
        a.attr(&mut span, "waggle.route.to", a.page.route.clone());
        a.attr(&mut span, "waggle.url.from", from.url);
        a.attr(&mut span, "page.url", a.page.url.clone());
        a.attr(&mut span, "page.route", a.page.route.clone());
        span
    });
    let mut l = last.borrow_mut();
    l.href = to;
    l.span = span.as_ref().map(|s| s.span_id);
    drop(l);
    if let Some(span) = span {
        tracker.open(span, Kind::RouteChange);
    }
}
