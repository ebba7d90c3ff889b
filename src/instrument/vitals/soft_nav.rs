//! Soft navigations, as the browser measures them (Chromium's
//! `soft-navigation` and `interaction-contentful-paint` entries): each SPA
//! route change the browser recognizes (a user's interaction that changed
//! the URL and painted new content) begins a view with vitals of its own.
//!
//! The page sends `[ENTRY, 9, navigationId, url, startTime, paintTime,
//! interactionCount]` for a soft navigation and `[ENTRY, 10, ...]` for an
//! `interaction-contentful-paint` entry, in the layout of `lcp`'s entries.
//!
//! At a soft navigation the view it ends reports LCP, CLS and INP as it
//! would when hidden; the new view's FCP is reported at once (its start to
//! the paint that showed it), and its LCP, CLS and INP follow as a page
//! load's do (LCP at the next key press or click, or when hidden or left
//! for another view). Its vitals are measured from the navigation's start,
//! carry `browser.web_vital.navigation_type` `soft-navigation` and the
//! view's `url.full`, and are children of the `routeChange` span for that
//! URL. Where the browser has no soft navigations, routeChange spans are
//! what there is, as before.

use alloc::string::String;

use crate::core::vitals::Vital;
use crate::instrument::route_changes::RouteChanges;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

use super::{lcp, Report, Vitals};

/// A `soft-navigation` entry.
pub fn entry(v: &mut Vitals, routes: &RouteChanges, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    let nav = String::from(r.str());
    let url = rt.scrub(r.str());
    let start = r.num();
    let paint = r.num();
    let count = r.num();
    if nav.is_empty() || nav == v.nav {
        return;
    }
    v.report(rt, count);
    let mut view = Vitals::new(rt, start, "soft-navigation", false);
    view.parent = routes.context_for(&url);
    view.url = Some(url);
    view.count_base = count;
    view.early = core::mem::take(&mut v.early);
    view.nav = nav;
    *v = view;
    if paint > start {
        let fcp = Report { vital: Vital::Fcp, value: paint - start, start_ms: start, end_ms: paint, attrs: Default::default() };
        v.emit(rt, fcp);
    }
    if let Some(c) = v.early.take(&v.nav) {
        lcp::candidate(v, c);
    }
}

/// An `interaction-contentful-paint` entry: an LCP candidate of the view
/// it names, which may not have been reported yet.
pub fn paint(v: &mut Vitals, r: &mut Rec<'_, '_>) {
    let (c, nav) = lcp::read(r);
    if nav == v.nav {
        lcp::candidate(v, c);
    } else if !nav.is_empty() {
        v.early.keep(&nav, c);
    }
}
