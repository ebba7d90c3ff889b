//! Page views linked: each view's span (`documentLoad`, `routeChange`)
//! links to the span of the view before it in the same session, so a
//! session can be walked view by view without making it one giant trace.
//!
//! "The view before" is the newest kept view any tab of the session began:
//! the shell keeps it under [`STORAGE_KEY`], beside the session and in the
//! same storage, and reads it as a page starts and as its URL changes. Only
//! sampled views are left there, so a link always points at a span that
//! was sent; with per-trace sampling a dropped view is passed over, and
//! the next view links to the last one kept. A view links only to one of
//! its own session: a new session's first view links to nothing.

use alloc::string::String;

use super::ids::{SpanId, TraceId};
use super::span::{Attrs, Span};
use super::tracecontext::{format_traceparent, parse_traceparent};

/// Where the newest view is kept: in `localStorage`, or `sessionStorage`
/// when the session is kept per tab.
pub const STORAGE_KEY: &str = "waggle.view";

/// `waggle.link.type` of a link to the view before.
pub const PREVIOUS: &str = "previous_page_view";

/// A page view as the next one links to it, borrowed from the page's
/// state or from what storage holds.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::page_view::PageView;
/// let v = PageView {
///     session: "a".repeat(32).leak(),
///     trace_id: TraceId([1; 16]),
///     span_id: SpanId([2; 8]),
///     flags: 3,
///     url: "https://shop.test/cart?x=|",
///     route: "/cart\n(odd)",
/// };
/// assert_eq!(PageView::parse(&v.serialize()), Some(v));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageView<'a> {
    /// The session it happened in.
    pub session: &'a str,
    /// Its span's trace.
    pub trace_id: TraceId,
    /// Its span.
    pub span_id: SpanId,
    /// Its span's W3C trace flags.
    pub flags: u8,
    /// The page's URL, scrubbed.
    pub url: &'a str,
    /// The page's route, as `waggle.page.route`.
    pub route: &'a str,
}

impl<'a> PageView<'a> {
    /// The view `span` begins, in `session`, on the page at `url` with
    /// `route`.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::PageView;
    /// use waggle_rum::core::span::{kind, Span};
    /// let s = Span::new("routeChange", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 0);
    /// let v = PageView::of(&s, "s", "https://shop.test/cart", "/cart");
    /// assert_eq!((v.span_id, v.route), (SpanId([2; 8]), "/cart"));
    /// ```
    pub fn of(span: &Span, session: &'a str, url: &'a str, route: &'a str) -> PageView<'a> {
        PageView { session, trace_id: span.trace_id, span_id: span.span_id, flags: span.flags, url, route }
    }

    /// The session id, the span's `traceparent`, the URL and the route, a
    /// line each: a URL holds no line break, so the route, last, may.
    pub fn serialize(&self) -> String {
        let mut s = String::from(self.session);
        for part in [&format_traceparent(self.trace_id, self.span_id, self.flags), self.url, self.route] {
            s.push('\n');
            s.push_str(part);
        }
        s
    }

    /// Reads what [`PageView::serialize`] wrote; `None` for anything else.
    pub fn parse(s: &'a str) -> Option<PageView<'a>> {
        let (session, rest) = s.split_once('\n')?;
        let (tp, rest) = rest.split_once('\n')?;
        let (url, route) = rest.split_once('\n')?;
        let tp = parse_traceparent(tp)?;
        Some(PageView { session, trace_id: tp.trace_id, span_id: tp.span_id, flags: tp.flags, url, route })
    }

    /// Links `span` to this view, saying why and where from.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::PageView;
    /// use waggle_rum::core::span::{kind, Span};
    /// let a = Span::new("documentLoad", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 0);
    /// let mut b = Span::new("documentLoad", kind::INTERNAL, TraceId([3; 16]), SpanId([4; 8]), None, 9);
    /// PageView::of(&a, "s", "https://shop.test/", "/").link(&mut b);
    /// assert!(b.has_links());
    /// ```
    pub fn link(&self, span: &mut Span) {
        let mut attrs = Attrs::default();
        attrs.put("waggle.link.type", PREVIOUS);
        attrs.put("waggle.link.page.url", self.url);
        attrs.put("waggle.link.page.route", self.route);
        span.link(self.trace_id, self.span_id, self.flags, &attrs);
    }
}

/// One page's part in the chain of views, each view held as stored.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::page_view::{PageView, Views};
/// use waggle_rum::core::span::{kind, Span};
/// let span = |n: u8| Span::new("documentLoad", kind::INTERNAL, TraceId([n; 16]), SpanId([n; 8]), None, 0);
/// let mut page = Views::default();
/// page.started(None);
/// let mut load = span(1);
/// let kept = page.loaded(&mut load, "s", "https://shop.test/", "/");
/// assert!(kept.is_some() && !load.has_links());
/// let mut change = span(2);
/// page.changed(kept.as_deref(), &mut change, "s", "https://shop.test/cart", "/cart");
/// assert!(change.has_links());
/// ```
#[derive(Debug, Default)]
pub struct Views {
    /// What storage held when the page started: the view its own load
    /// follows.
    before: Option<String>,
    /// The newest kept view this page began, as stored.
    mine: Option<String>,
    /// Hidden into the back-forward cache.
    cached: bool,
}

impl Views {
    /// The page started (`init`) with `stored` under [`STORAGE_KEY`].
    pub fn started(&mut self, stored: Option<&str>) {
        self.before = stored.map(String::from);
    }

    /// The page's own load begins a view with `span` (`documentLoad`), in
    /// `session`, at `url` and `route`: it follows the view before the page
    /// started, not a route change made while it loaded (a router's first
    /// `replaceState`), since it began first. Links `span`; returns what
    /// to store under [`STORAGE_KEY`] (nothing for a span not sampled).
    pub fn loaded(&mut self, span: &mut Span, session: &str, url: &str, route: &str) -> Option<String> {
        let before = self.before.take();
        self.begin(before, span, session, url, route)
    }

    /// A route change begins a view with `span` (`routeChange`): it
    /// follows the newest view as storage holds it now (`stored`), else
    /// this page's own newest (storage off, or emptied). As
    /// [`Views::loaded`] otherwise.
    pub fn changed(&mut self, stored: Option<&str>, span: &mut Span, session: &str, url: &str, route: &str) -> Option<String> {
        let before = stored.map(String::from).or_else(|| self.mine.clone());
        self.begin(before, span, session, url, route)
    }

    #[inline(never)]
    fn begin(&mut self, before: Option<String>, span: &mut Span, session: &str, url: &str, route: &str) -> Option<String> {
        if let Some(b) = before.as_deref().and_then(PageView::parse).filter(|b| b.session == session) {
            b.link(span);
        }
        if !span.sampled() {
            return None;
        }
        let s = PageView::of(span, session, url, route).serialize();
        self.mine = Some(s.clone());
        Some(s)
    }

    /// `setRoute` named the route of the view shown: this page's newest
    /// view is kept again with that name (the next view's link says it),
    /// as the route change span ends with it. Unread, storage may hold
    /// another tab's view begun since, which this replaces; a router names
    /// the route right after it changed the URL, so that is a moment's
    /// window. Returns what to store.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::{PageView, Views};
    /// use waggle_rum::core::span::{kind, Span};
    /// let mut span = Span::new("routeChange", kind::INTERNAL, TraceId([1; 16]), SpanId([1; 8]), None, 0);
    /// let mut page = Views::default();
    /// page.changed(None, &mut span, "s", "https://shop.test/p/7", "/p/7");
    /// let kept = page.renamed("/p/:id").unwrap();
    /// assert_eq!(PageView::parse(&kept).unwrap().route, "/p/:id");
    /// ```
    pub fn renamed(&mut self, route: &str) -> Option<String> {
        let mine = self.mine.as_deref()?;
        let v = PageView::parse(mine)?;
        if v.route == route {
            return None;
        }
        let s = PageView { route, ..v }.serialize();
        self.mine = Some(s.clone());
        Some(s)
    }

    /// The page was hidden; `persisted` when bound for the back-forward
    /// cache.
    pub fn hidden(&mut self, persisted: bool) {
        self.cached |= persisted;
    }

    /// The page is shown again. Back from the back-forward cache, its
    /// newest view is the one the user sees, so the next view follows it
    /// (its document did not load again, so no span is made for it).
    /// Returns what to store.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::Views;
    /// use waggle_rum::core::span::{kind, Span};
    /// let mut span = Span::new("documentLoad", kind::INTERNAL, TraceId([1; 16]), SpanId([1; 8]), None, 0);
    /// let mut page = Views::default();
    /// page.loaded(&mut span, "s", "https://shop.test/", "/");
    /// page.hidden(true);
    /// assert!(page.shown().is_some());
    /// ```
    pub fn shown(&mut self) -> Option<String> {
        if !core::mem::take(&mut self.cached) {
            return None;
        }
        self.mine.clone()
    }

    /// This page's newest view as it would be stored, if it has one (to
    /// write once storage may be written: consent granted).
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::Views;
    /// use waggle_rum::core::span::{kind, Span};
    /// let mut page = Views::default();
    /// assert!(page.newest().is_none());
    /// let mut span = Span::new("documentLoad", kind::INTERNAL, TraceId([1; 16]), SpanId([1; 8]), None, 0);
    /// page.loaded(&mut span, "s", "https://shop.test/", "/");
    /// assert!(page.newest().is_some());
    /// ```
    pub fn newest(&self) -> Option<String> {
        self.mine.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::span::kind;

    const S1: &str = "11111111111111111111111111111111";
    const S2: &str = "22222222222222222222222222222222";

    fn span(n: u8, sampled: bool) -> Span {
        let mut s = Span::new("view", kind::INTERNAL, TraceId([n; 16]), SpanId([n; 8]), None, 0);
        s.flags = 2 | u8::from(sampled);
        s
    }

    /// The view `span` links to, if any, and what that link says.
    fn linked(span: &Span) -> Option<(SpanId, String)> {
        let json = {
            let mut out = Vec::new();
            span.encode(&mut out);
            String::from_utf8(out).unwrap()
        };
        let at = json.find("\"links\":[{")?;
        let l = &json[at..];
        let id = l.split("\"spanId\":\"").nth(1)?.get(..16)?;
        let route = l.split("\"waggle.link.page.route\",\"value\":{\"stringValue\":\"").nth(1)?.split('"').next()?;
        Some((SpanId::from_hex(id)?, String::from(route)))
    }

    /// Page after page in one tab, as the shell's storage would carry them.
    #[test]
    fn each_page_follows_the_one_before() {
        let mut stored: Option<String> = None;
        let mut links = Vec::new();
        for n in 1..=3 {
            let mut page = Views::default();
            page.started(stored.as_deref());
            let mut s = span(n, true);
            stored = page.loaded(&mut s, S1, "https://shop.test/", &format!("/{n}"));
            links.push(linked(&s));
        }
        assert_eq!(links, [None, Some((SpanId([1; 8]), "/1".into())), Some((SpanId([2; 8]), "/2".into()))]);
    }

    #[test]
    fn a_new_session_starts_without_a_link() {
        let mut page = Views::default();
        let mut old = span(1, true);
        page.started(Some(&PageView::of(&old, S1, "u", "/").serialize()));
        let stored = page.loaded(&mut old, S2, "u", "/");
        assert_eq!(linked(&old), None);
        assert!(stored.is_some(), "the new session's first view is the next one's before");
    }

    #[test]
    fn route_changes_follow_the_newest_view_of_any_tab() {
        let mut page = Views::default();
        page.started(None);
        let mut load = span(1, true);
        page.loaded(&mut load, S1, "u", "/1");
        // Nothing readable in storage: what this page knew.
        let mut change = span(2, true);
        page.changed(None, &mut change, S1, "u", "/2");
        assert_eq!(linked(&change), Some((SpanId([1; 8]), "/1".into())));
        // Another tab began a view since.
        let other = PageView::of(&span(9, true), S1, "u", "/9").serialize();
        let mut after = span(3, true);
        page.changed(Some(&other), &mut after, S1, "u", "/3");
        assert_eq!(linked(&after), Some((SpanId([9; 8]), "/9".into())));
    }

    #[test]
    fn the_load_follows_the_view_before_the_page_not_its_own_early_route_change() {
        let mut page = Views::default();
        let before = PageView::of(&span(1, true), S1, "u", "/1").serialize();
        page.started(Some(&before));
        // The router's first replaceState, while the page loads.
        let mut early = span(2, true);
        page.changed(Some(&before), &mut early, S1, "u", "/2");
        assert_eq!(linked(&early), Some((SpanId([1; 8]), "/1".into())));
        let mut load = span(3, true);
        let stored = page.loaded(&mut load, S1, "u", "/3");
        assert_eq!(linked(&load), Some((SpanId([1; 8]), "/1".into())));
        // The view after the load follows it.
        let mut next = span(4, true);
        page.changed(stored.as_deref(), &mut next, S1, "u", "/4");
        assert_eq!(linked(&next), Some((SpanId([3; 8]), "/3".into())));
    }

    #[test]
    fn a_dropped_view_is_passed_over() {
        let mut page = Views::default();
        page.started(None);
        let kept = page.loaded(&mut span(1, true), S1, "u", "/1");
        let dropped = page.changed(kept.as_deref(), &mut span(2, false), S1, "u", "/2");
        assert_eq!(dropped, None, "a view not sent is not left to link to");
        let mut next = span(3, true);
        page.changed(kept.as_deref(), &mut next, S1, "u", "/3");
        assert_eq!(linked(&next), Some((SpanId([1; 8]), "/1".into())));
    }

    #[test]
    fn set_route_names_the_newest_view() {
        let mut page = Views::default();
        page.started(None);
        page.changed(None, &mut span(1, true), S1, "u", "/products/7");
        let renamed = page.renamed("/products/:id").unwrap();
        assert_eq!(PageView::parse(&renamed).unwrap().route, "/products/:id");
        assert_eq!(page.renamed("/products/:id"), None, "unchanged, not written again");
        let mut next = span(2, true);
        page.changed(None, &mut next, S1, "u", "/2");
        assert_eq!(linked(&next), Some((SpanId([1; 8]), "/products/:id".into())));
    }

    #[test]
    fn back_from_the_back_forward_cache_the_page_is_the_view_before_again() {
        let mut page = Views::default();
        page.started(None);
        let stored = page.loaded(&mut span(1, true), S1, "u", "/1");
        page.hidden(false);
        assert_eq!(page.shown(), None, "only a restore");
        // Bound for the cache, whichever of pagehide and visibilitychange
        // comes first.
        page.hidden(true);
        page.hidden(false);
        assert_eq!(page.shown(), stored);
        assert_eq!(page.shown(), None);
    }

    #[test]
    fn garbage_in_storage_is_no_view() {
        let good = PageView::of(&span(1, true), S1, "u", "/").serialize();
        for bad in ["", "x", "a\nb\nc\nd", &good.replace("00-", "ff-")] {
            assert_eq!(PageView::parse(bad), None, "{bad:?}");
        }
        let mut page = Views::default();
        page.started(Some("garbage"));
        let mut load = span(2, true);
        page.loaded(&mut load, S1, "u", "/");
        assert_eq!(linked(&load), None);
    }
}
