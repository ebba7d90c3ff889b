//! Page views linked: each view's span (`documentLoad`, `routeChange`)
//! links to the span of the view before it in the same session, so a
//! session can be walked view by view without making it one giant trace.
//!
//! "The view before" is the newest kept view any tab of the session began:
//! the shell keeps it under [`STORAGE_KEY`], beside the session and in the
//! same storage, and every view reads it as it begins. Only sampled views
//! are left there, so a link always points at a span that was sent; with
//! per-trace sampling a dropped view is passed over, and the next view
//! links to the last one kept.

use alloc::string::String;

use super::ids::{SpanId, TraceId};
use super::span::{Attrs, Span};
use super::tracecontext::{format_traceparent, parse_traceparent};

/// Where the newest view is kept: in `localStorage`, or `sessionStorage`
/// when the session is kept per tab.
pub const STORAGE_KEY: &str = "waggle.view";

/// `waggle.link.type` of a link to the view before.
pub const PREVIOUS: &str = "previous_page_view";

/// A page view as the next one links to it.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::page_view::PageView;
/// let v = PageView {
///     session: "a".repeat(32),
///     trace_id: TraceId([1; 16]),
///     span_id: SpanId([2; 8]),
///     flags: 3,
///     url: "https://shop.test/cart?x=|".into(),
///     route: "/cart\n(odd)".into(),
/// };
/// assert_eq!(PageView::parse(&v.serialize()), Some(v));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PageView {
    /// The session it happened in.
    pub session: String,
    /// Its span's trace.
    pub trace_id: TraceId,
    /// Its span.
    pub span_id: SpanId,
    /// Its span's W3C trace flags.
    pub flags: u8,
    /// The page's URL, scrubbed.
    pub url: String,
    /// The page's route, as `waggle.page.route`.
    pub route: String,
}

impl PageView {
    /// The view `span` begins, on the page at `url` with `route`.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::PageView;
    /// use waggle_rum::core::span::{kind, Span};
    /// let s = Span::new("routeChange", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 0);
    /// let v = PageView::of(&s, "a".repeat(32), "https://shop.test/cart", "/cart");
    /// assert_eq!((v.span_id, v.route.as_str()), (SpanId([2; 8]), "/cart"));
    /// ```
    pub fn of(span: &Span, session: String, url: &str, route: &str) -> PageView {
        PageView { session, trace_id: span.trace_id, span_id: span.span_id, flags: span.flags, url: String::from(url), route: String::from(route) }
    }

    /// The session id, the span's `traceparent`, the URL and the route, a
    /// line each: a URL holds no line break, so the route, last, may.
    pub fn serialize(&self) -> String {
        let mut s = self.session.clone();
        s.push('\n');
        s.push_str(&format_traceparent(self.trace_id, self.span_id, self.flags));
        s.push('\n');
        s.push_str(&self.url);
        s.push('\n');
        s.push_str(&self.route);
        s
    }

    /// Reads what [`PageView::serialize`] wrote; `None` for anything else.
    pub fn parse(s: &str) -> Option<PageView> {
        let (session, rest) = s.split_once('\n')?;
        let (tp, rest) = rest.split_once('\n')?;
        let (url, route) = rest.split_once('\n')?;
        let tp = parse_traceparent(tp)?;
        Some(PageView { session: String::from(session), trace_id: tp.trace_id, span_id: tp.span_id, flags: tp.flags, url: String::from(url), route: String::from(route) })
    }

    /// Links `span` to this view, saying why and where from.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::PageView;
    /// use waggle_rum::core::span::{kind, Span};
    /// let a = Span::new("documentLoad", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 0);
    /// let mut b = Span::new("documentLoad", kind::INTERNAL, TraceId([3; 16]), SpanId([4; 8]), None, 9);
    /// PageView::of(&a, "a".repeat(32), "https://shop.test/", "/").link(&mut b);
    /// assert!(b.has_links());
    /// ```
    pub fn link(&self, span: &mut Span) {
        let mut attrs = Attrs::default();
        attrs.put("waggle.link.type", PREVIOUS);
        attrs.put("waggle.link.page.url", self.url.as_str());
        attrs.put("waggle.link.page.route", self.route.as_str());
        span.link(self.trace_id, self.span_id, self.flags, &attrs);
    }
}

/// What a view that begins does: the view it links to, and the record to
/// store for the next one (none when the view was not sampled).
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::page_view::{PageView, Views};
/// let dropped = PageView { session: "a".repeat(32), trace_id: TraceId([1; 16]), span_id: SpanId([1; 8]), flags: 2, url: String::new(), route: String::new() };
/// assert_eq!(Views::default().loaded(dropped).store, None);
/// ```
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// The view before, in the same session.
    pub link: Option<PageView>,
    /// What to keep under [`STORAGE_KEY`].
    pub store: Option<String>,
}

/// One page's part in the chain of views. Views are held as stored, and
/// read only to link to one.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::page_view::{PageView, Views};
/// let view = |n: u8| PageView { session: "a".repeat(32), trace_id: TraceId([n; 16]), span_id: SpanId([n; 8]), flags: 3, url: String::new(), route: String::new() };
/// let mut page = Views::default();
/// page.started(None);
/// let load = page.loaded(view(1));
/// assert_eq!(load.link, None);
/// let change = page.changed(load.store.as_deref(), view(2));
/// assert_eq!(change.link, Some(view(1)));
/// ```
#[derive(Debug, Default)]
pub struct Views {
    /// What storage held when the page started: the view its own load
    /// follows.
    before: Option<String>,
    /// The record as this page last read or wrote it.
    known: Option<String>,
    /// The newest kept view this page began.
    mine: Option<PageView>,
    /// Hidden into the back-forward cache.
    cached: bool,
}

impl Views {
    /// The page started (`init`) with `stored` under [`STORAGE_KEY`].
    pub fn started(&mut self, stored: Option<&str>) {
        self.before = stored.map(String::from);
        self.known = self.before.clone();
    }

    /// The page's own load (`documentLoad`): it follows the view before
    /// the page started, not a route change made while it loaded (a
    /// router's first `replaceState`), since it began first.
    pub fn loaded(&mut self, view: PageView) -> Step {
        let before = self.before.take();
        self.begin(before, view)
    }

    /// A route change (`routeChange`): it follows the newest view as
    /// storage holds it now (`stored`), else as this page knew it (storage
    /// off, or emptied).
    pub fn changed(&mut self, stored: Option<&str>, view: PageView) -> Step {
        if let Some(now) = stored {
            self.known = Some(String::from(now));
        }
        let before = self.known.clone();
        self.begin(before, view)
    }

    #[inline(never)]
    fn begin(&mut self, before: Option<String>, view: PageView) -> Step {
        let link = before.as_deref().and_then(PageView::parse).filter(|b| b.session == view.session);
        if view.flags & 1 == 0 {
            return Step { link, store: None };
        }
        let store = view.serialize();
        self.known = Some(store.clone());
        self.mine = Some(view);
        Step { link, store: Some(store) }
    }

    /// `setRoute` named the route of the view shown: the newest view, if
    /// this page's, is kept with that name (the next view's link says it),
    /// as the route change span ends with it.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::{PageView, Views};
    /// let view = PageView { session: "a".repeat(32), trace_id: TraceId([1; 16]), span_id: SpanId([1; 8]), flags: 3, url: "https://shop.test/p/7".into(), route: "/p/7".into() };
    /// let mut page = Views::default();
    /// page.changed(None, view);
    /// let kept = page.renamed("/p/:id").unwrap();
    /// assert_eq!(PageView::parse(&kept).unwrap().route, "/p/:id");
    /// ```
    pub fn renamed(&mut self, route: &str) -> Option<String> {
        let mine = self.mine.as_mut()?;
        if mine.route == route {
            return None;
        }
        mine.route = String::from(route);
        let newest = self.known.as_deref().and_then(PageView::parse).is_some_and(|k| k.span_id == mine.span_id);
        let s = mine.serialize();
        newest.then(|| {
            self.known = Some(s.clone());
            s
        })
    }

    /// The page was hidden; `persisted` when bound for the back-forward
    /// cache.
    pub fn hidden(&mut self, persisted: bool) {
        self.cached |= persisted;
    }

    /// The page is shown again. Back from the back-forward cache, its
    /// newest view is the one the user sees, so the next view follows it
    /// (its document did not load again, so no span is made for it).
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::core::page_view::{PageView, Views};
    /// let view = PageView { session: "a".repeat(32), trace_id: TraceId([1; 16]), span_id: SpanId([1; 8]), flags: 3, url: String::new(), route: "/".into() };
    /// let mut page = Views::default();
    /// page.loaded(view);
    /// page.hidden(true);
    /// assert!(page.shown().is_some());
    /// ```
    pub fn shown(&mut self) -> Option<String> {
        if !core::mem::take(&mut self.cached) {
            return None;
        }
        let s = self.mine.as_ref()?.serialize();
        self.known = Some(s.clone());
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: u8, session: u8, flags: u8) -> PageView {
        PageView {
            session: super::super::ids::hex(&[session; 16]),
            trace_id: TraceId([n; 16]),
            span_id: SpanId([n; 8]),
            flags,
            url: alloc::format!("https://shop.test/{n}"),
            route: alloc::format!("/{n}"),
        }
    }

    /// Page after page in one tab, as the shell's storage would carry them.
    #[test]
    fn each_page_follows_the_one_before() {
        let mut stored: Option<String> = None;
        let mut links = std::vec::Vec::new();
        for n in 1..=3 {
            let mut page = Views::default();
            page.started(stored.as_deref());
            let step = page.loaded(view(n, 1, 3));
            links.push(step.link.map(|v| v.span_id));
            stored = step.store;
        }
        assert_eq!(links, [None, Some(SpanId([1; 8])), Some(SpanId([2; 8]))]);
    }

    #[test]
    fn a_new_session_starts_without_a_link() {
        let mut page = Views::default();
        page.started(Some(&view(1, 1, 3).serialize()));
        let step = page.loaded(view(2, 2, 3));
        assert_eq!(step.link, None);
        assert!(step.store.is_some(), "the new session's first view is the next one's before");
    }

    #[test]
    fn route_changes_follow_the_newest_view_of_any_tab() {
        let mut page = Views::default();
        page.started(None);
        let load = page.loaded(view(1, 1, 3));
        // Nothing readable in storage: what this page knew.
        assert_eq!(page.changed(None, view(2, 1, 3)).link, Some(view(1, 1, 3)));
        // Another tab began a view since.
        let other = view(9, 1, 3).serialize();
        assert_eq!(page.changed(Some(&other), view(3, 1, 3)).link, Some(view(9, 1, 3)));
        assert!(load.store.is_some());
    }

    #[test]
    fn the_load_follows_the_view_before_the_page_not_its_own_early_route_change() {
        let mut page = Views::default();
        let before = view(1, 1, 3).serialize();
        page.started(Some(&before));
        // The router's first replaceState, while the page loads.
        let early = page.changed(Some(&before), view(2, 1, 3));
        assert_eq!(early.link, Some(view(1, 1, 3)));
        let load = page.loaded(view(3, 1, 3));
        assert_eq!(load.link, Some(view(1, 1, 3)));
        // The view after the load follows it.
        assert_eq!(page.changed(load.store.as_deref(), view(4, 1, 3)).link.map(|v| v.span_id), Some(SpanId([3; 8])));
    }

    #[test]
    fn a_dropped_view_is_passed_over() {
        let mut page = Views::default();
        page.started(None);
        let kept = page.loaded(view(1, 1, 3));
        let dropped = page.changed(kept.store.as_deref(), view(2, 1, 2));
        assert_eq!(dropped.store, None, "a view not sent is not left to link to");
        let next = page.changed(kept.store.as_deref(), view(3, 1, 3));
        assert_eq!(next.link, Some(view(1, 1, 3)));
    }

    #[test]
    fn set_route_names_the_newest_view_only_while_it_is_the_newest() {
        let mut page = Views::default();
        page.started(None);
        let step = page.changed(None, view(1, 1, 3));
        let renamed = page.renamed("/products/:id").unwrap();
        assert_eq!(PageView::parse(&renamed).unwrap().route, "/products/:id");
        assert_eq!(page.renamed("/products/:id"), None, "unchanged, not written again");
        // Another tab's view is newer now.
        page.changed(Some(&view(9, 1, 3).serialize()), view(2, 1, 2));
        assert_eq!(page.renamed("/other"), None);
        assert!(step.store.is_some());
    }

    #[test]
    fn back_from_the_back_forward_cache_the_page_is_the_view_before_again() {
        let mut page = Views::default();
        page.started(None);
        page.loaded(view(1, 1, 3));
        page.hidden(false);
        assert_eq!(page.shown(), None, "only a restore");
        // Bound for the cache, whichever of pagehide and visibilitychange
        // comes first.
        page.hidden(true);
        page.hidden(false);
        assert_eq!(page.shown().and_then(|s| PageView::parse(&s)), Some(view(1, 1, 3)));
        assert_eq!(page.shown(), None);
    }

    #[test]
    fn garbage_in_storage_is_no_view() {
        for bad in ["", "x", "a\nb\nc\nd", &view(1, 1, 3).serialize().replace("00-", "ff-")] {
            assert_eq!(PageView::parse(bad), None, "{bad:?}");
        }
        let mut page = Views::default();
        page.started(Some("garbage"));
        assert_eq!(page.loaded(view(1, 1, 3)).link, None);
    }
}
