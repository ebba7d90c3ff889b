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
//! new view's requests made then become its children. Back and forward run
//! in a task of their own: their route change is a child of the span that
//! was current when page code called `history.back()`, `forward()` or
//! `go()` (an in-app Back button), and starts its own trace when the
//! browser's buttons did it. After a fragment
//! navigation it stays current until the `hashchange` that follows, a task
//! later, has been handled, since hash routers load the view then.
//!
//! Traversals (back, forward) and fragment navigations are seen through the
//! Navigation API's `currententrychange` where the browser has it
//! (Chromium), which comes before `popstate` reaches the router. Without it
//! the agent's own `popstate` listener may run after the router's (on
//! `window` listeners run in the order they were added), and requests the
//! router makes in its listener then are not the route change's children.
//! A navigation that begins while a route change is still open ends it
//! (`waggle.end_reason` `superseded`).
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

use super::agent::{with_agent, PageContext, ParentContext};
use super::lib::js;
use super::lib::listener::Listener;
use super::lib::patch::Patch;
use super::settle::{acquire, Kind, Tracker, HOLD_MS};

/// The history hooks and listeners; dropping it restores `pushState`,
/// `replaceState`, `back`, `forward` and `go` and removes the listeners.
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
    /// The hooked history method running now, if any: the URL change seen
    /// inside it is that method's.
    calling: Option<&'static str>,
    /// A traversal page code asked for (`history.back()`), when, and the
    /// span current then: the traversal runs in a task of its own, and its
    /// route change is that span's child.
    asked: Option<(f64, Option<ParentContext>)>,
}

/// What told the agent the URL changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Popstate,
    Hashchange,
    /// The Navigation API's `currententrychange`, with its navigation type.
    Entry(Option<Nav>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Nav {
    Push,
    Replace,
    Traverse,
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
    ///
    /// Where the browser has the Navigation API, `currententrychange` tells
    /// of every same-document URL change right after it happens and before
    /// `popstate`/`hashchange` go to the page's own listeners, which were
    /// most likely added before the agent's (listeners on `window` run in
    /// the order they were added, capture or not). Elsewhere the agent's
    /// `popstate` listener may run after the router's, whose requests made
    /// then are not the route change's children.
    pub fn start() -> Self {
        let tracker = acquire();
        let page = with_agent(|a| a.page.clone());
        let last = Rc::new(RefCell::new(Last { href: href(), page, ..Last::default() }));
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
                let outer = last.borrow_mut().calling.replace(method);
                let result = Reflect::apply(original, this, args);
                last.borrow_mut().calling = outer;
                let result = result?;
                let after = href();
                // Already recorded when currententrychange came first.
                if after != before && last.borrow().href != after {
                    changed(&last, method, from, after, false, None);
                }
                Ok(result)
            }));
            if let Some(p) = patch {
                patches.push(p);
            }
        }
        for method in ["back", "forward", "go"] {
            let last = last.clone();
            let patch = Patch::install(&history, method, Box::new(move |original, this, args| {
                let current = with_agent(|a| a.current()).flatten();
                last.borrow_mut().asked = Some((js::now(), current));
                Reflect::apply(original, this, args)
            }));
            if let Some(p) = patch {
                patches.push(p);
            }
        }
        let mut listeners = Vec::new();
        let navigation = js::get(&js::global(), "navigation");
        if navigation.is_object() {
            let last = last.clone();
            let listener = Listener::new(&navigation, "currententrychange", false, move |event| {
                let nav = match js::string(&event, "navigationType").as_deref() {
                    Some("push") => Some(Nav::Push),
                    Some("replace") => Some(Nav::Replace),
                    Some("traverse") => Some(Nav::Traverse),
                    _ => None,
                };
                observed(&last, Seen::Entry(nav));
            });
            if let Some(l) = listener {
                listeners.push(l);
            }
        }
        for (kind, seen) in [("popstate", Seen::Popstate), ("hashchange", Seen::Hashchange)] {
            let last = last.clone();
            let listener = Listener::new(&js::global(), kind, true, move |_| observed(&last, seen));
            if let Some(l) = listener {
                listeners.push(l);
            }
        }
        RouteChanges { _patches: patches, _listeners: listeners, _tracker: tracker }
    }
}

/// A URL change reported by an event: recorded unless it already was.
fn observed(last: &Rc<RefCell<Last>>, seen: Seen) {
    let now = href();
    let (same, span, from_href, from, calling) = {
        let l = last.borrow();
        (l.href == now, l.span, l.href.clone(), l.page.clone(), l.calling)
    };
    if same {
        if seen == Seen::Hashchange {
            // A hashchange comes in a task of its own after the URL changed,
            // and hash routers render then. Held current since the change
            // (the page's own listeners, added before the agent's, run
            // first), it is let go after this task; otherwise it is made
            // current again for the listeners still to come.
            if let (Some(id), Some(t)) = (span, super::settle::tracker()) {
                if !t.release(id) {
                    t.reenter(id);
                }
            }
        }
        return;
    }
    let kind = match (calling, seen) {
        (Some(method), _) => method,
        _ if without_fragment(&from_href) == without_fragment(&now) => "hashchange",
        (None, Seen::Hashchange) => "hashchange",
        (None, Seen::Entry(Some(Nav::Push))) => "pushState",
        (None, Seen::Entry(Some(Nav::Replace))) => "replaceState",
        (None, Seen::Popstate | Seen::Entry(Some(Nav::Traverse) | None)) => "popstate",
    };
    let fragment_only = without_fragment(&from_href) == without_fragment(&now);
    // Back and forward run in a task of their own: whatever is current
    // then is not what caused them. Their parent is the span that was
    // current when page code asked for them, if it did (moments ago).
    let asked = last.borrow_mut().asked.take().filter(|(at, _)| js::now() - at <= HOLD_MS);
    let traversal = calling.is_none()
        && match seen {
            Seen::Entry(nav) => nav == Some(Nav::Traverse),
            Seen::Popstate => !fragment_only || asked.is_some(),
            Seen::Hashchange => false,
        };
    let parent = traversal.then(|| asked.and_then(|(_, ctx)| ctx));
    // A fragment navigation announces a hashchange, a task later.
    let hold = kind == "hashchange" && seen != Seen::Hashchange;
    changed(last, kind, from, now, hold, parent);
}

/// Records a URL change to `to`; `from` is the page before it, when it
/// was read before the change (else the agent's page at the time). The
/// route change is a child of `parent` when given, else of the current
/// span.
fn changed(
    last: &Rc<RefCell<Last>>,
    kind: &'static str,
    from: Option<PageContext>,
    to: String,
    hold: bool,
    parent: Option<Option<ParentContext>>,
) {
    let Some(tracker) = super::settle::tracker() else { return };
    // The view being left keeps its own page.* on its route change.
    tracker.supersede_route_changes();
    let span = with_agent(|a| {
        let from = from.unwrap_or_else(|| a.page.clone());
        a.refresh_page();
        last.borrow_mut().page = Some(a.page.clone());
        let parent = parent.unwrap_or_else(|| a.current());
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
    match span {
        Some(span) if hold => tracker.open_held(span, Kind::RouteChange),
        Some(span) => tracker.open(span, Kind::RouteChange),
        None => {}
    }
}
