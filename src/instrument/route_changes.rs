//! SPA navigations: one `routeChange` span per URL change made by
//! `history.pushState`, `history.replaceState`, a traversal (`popstate`)
//! or a fragment change (`hashchange`), as Splunk's agent names them.
//!
//! The page reports `[URL, source, t, href, title, detail, view]`: source
//! 0 and 1 before and after a hooked `pushState`/`replaceState` (detail:
//! the method), 2 the Navigation API's `currententrychange` (detail: its
//! navigation type), 3 `popstate`, 4 `hashchange`, 5 a hooked
//! `history.back`/`forward`/`go`; `view` is what storage holds under
//! `waggle.view` then. What each means is decided in `core::route`.
//!
//! A route change is a page view: its span links to the session's view
//! before it, as `core::page_view` decides, read as storage holds it at
//! the change so a view another tab began in between counts.
//!
//! The span starts when the URL changes and stays open until the new view
//! settles (bounded at 5 s), a child of the span current when the URL
//! changed (a click on a router link), and current itself for the rest of
//! that task. A navigation that begins while a route change is still open
//! ends it (`waggle.end_reason` `superseded`).
//!
//! Attributes (no semantic convention covers page views, hence the
//! `waggle.` prefix): `waggle.route.change_type` (`pushState`,
//! `replaceState`, `popstate`, `hashchange`), `waggle.route.from`,
//! `waggle.route.to`, `waggle.url.from` (scrubbed like `url.full`), and
//! the new view's `browser.document.url.full`, `waggle.page.route`. A
//! route is the template the app named for the view (`setRoute`, which a
//! router calls right after it changed the URL: the route change is open
//! until the view settles, so it carries the name), else the path.

use alloc::string::String;

use crate::core::config::inst;
use crate::core::route::{Decision, Nav, Parent, Route, Seen};
use crate::core::span::kind;
use crate::platform::wire::Rec;
use crate::runtime::{Ctx, Runtime};

/// What the hooks and listeners tell, by source number.
pub mod source {
    /// Before a hooked `pushState`/`replaceState`.
    pub const CALLING: u32 = 0;
    /// After it.
    pub const CALLED: u32 = 1;
    /// `currententrychange`.
    pub const ENTRY: u32 = 2;
    /// `popstate`.
    pub const POPSTATE: u32 = 3;
    /// `hashchange`.
    pub const HASHCHANGE: u32 = 4;
    /// `history.back`, `forward` or `go` called.
    pub const ASKED: u32 = 5;
}

/// Route changes kept for soft navigations to find by URL.
const RECENT: usize = 4;

/// The URL as last recorded.
pub struct RouteChanges {
    route: Route<Ctx>,
    recent: alloc::vec::Vec<(String, Ctx)>,
}

impl RouteChanges {
    /// Starts at the page's URL.
    pub fn new(href: &str) -> Self {
        RouteChanges { route: Route::new(href), recent: alloc::vec::Vec::new() }
    }

    /// The latest route change to `url` (scrubbed), if one of the last few.
    pub fn context_for(&self, url: &str) -> Option<Ctx> {
        self.recent.iter().rev().find(|r| r.0 == url).map(|r| r.1.clone())
    }

    /// A URL observation.
    pub fn observed(&mut self, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
        let src = r.u32();
        let t = r.num();
        let href = String::from(r.str());
        let title = String::from(r.str());
        let detail = r.str();
        let view = r.opt_str();
        let d = match src {
            source::CALLING => {
                self.route.calling(detail);
                return;
            }
            source::CALLED => self.route.called(detail, &href),
            source::ASKED => {
                let cur = rt.current();
                self.route.asked(t, cur);
                return;
            }
            source::ENTRY => self.route.observed(t, Seen::Entry(Nav::parse(detail)), &href),
            source::POPSTATE => self.route.observed(t, Seen::Popstate, &href),
            _ => self.route.observed(t, Seen::Hashchange, &href),
        };
        match d {
            Decision::Nothing => {}
            Decision::Hashchange(id) => {
                // Held current since the change (the page's own listeners,
                // added before the agent's, run first), it is let go after
                // this task; otherwise it is made current again for the
                // listeners still to come.
                if !rt.release(id) {
                    rt.reenter(id);
                }
            }
            Decision::Change { kind: nav, to, parent, hold } => {
                let from = rt.page.clone();
                rt.page_changed();
                rt.supersede_routes();
                rt.set_page(&to, &title);
                if !rt.config.on(inst::ROUTE_CHANGES) {
                    self.route.changed(&to, None);
                    return;
                }
                let parent = match parent {
                    Parent::Current => rt.current(),
                    Parent::Given(c) => c,
                };
                let start = rt.io.now_ns();
                let mut span = rt.start_span("routeChange", kind::INTERNAL, parent.as_ref(), start);
                span.set("waggle.route.change_type", nav);
                span.set("waggle.route.from", from.route);
                span.set("waggle.url.from", from.url);
                span.set("browser.document.url.full", rt.page.url.as_str());
                rt.view_changed(&mut span, view);
                // `waggle.route.to` and the new view's `waggle.page.route`
                // are set when it ends, once the app has named the route.
                if self.recent.len() >= RECENT {
                    self.recent.remove(0);
                }
                self.recent.push((rt.page.url.clone(), Ctx::of(&span)));
                let id = rt.open_tracked(span, true, hold);
                self.route.changed(&to, Some(id));
            }
        }
    }
}
