//! What a same-document URL change is: which kind of route change, whose
//! child, and how long it stays current.
//!
//! The page reports URL changes from several places, often twice for one
//! change: the hooked `history.pushState`/`replaceState` (before and after
//! the call), the Navigation API's `currententrychange` (which comes
//! during the call, and before `popstate`/`hashchange` reach the page's
//! own listeners), `popstate`, `hashchange`, and a hooked
//! `history.back`/`forward`/`go` (asked for now, happening a task later).
//! [`Route`] turns that stream into one decision per change.
//!
//! - The kind (`waggle.route.change_type`): `pushState`, `replaceState`,
//!   `popstate`, or `hashchange`. A change of the fragment alone is
//!   `hashchange` however it was made, since browsers report it with both
//!   a `popstate` and a `hashchange`.
//! - The parent: the span current when the URL changed (a click on a
//!   router link). A traversal (back, forward) runs in a task of its own,
//!   so its parent is the span that was current when page code asked for
//!   it (an in-app Back button), or none when the browser's buttons did it.
//! - Holding: after a fragment navigation the route change stays current
//!   until the `hashchange` that follows, a task later, has been handled,
//!   since hash routers load the view then.
//! - A call that leaves the URL as it was is not a route change.

use alloc::string::String;

use super::ids::SpanId;
use super::settle::HOLD_MS;
use super::url::without_fragment;

/// What told the agent the URL changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A `popstate` event.
    Popstate,
    /// A `hashchange` event.
    Hashchange,
    /// `currententrychange`, with its navigation type when it was push,
    /// replace or traverse.
    Entry(Option<Nav>),
}

/// A Navigation API navigation type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// `push`.
    Push,
    /// `replace`.
    Replace,
    /// `traverse`.
    Traverse,
}

impl Nav {
    /// Reads `navigationType`.
    pub fn parse(s: &str) -> Option<Nav> {
        match s {
            "push" => Some(Nav::Push),
            "replace" => Some(Nav::Replace),
            "traverse" => Some(Nav::Traverse),
            _ => None,
        }
    }
}

/// Whose child a route change is.
#[derive(Clone, Debug, PartialEq)]
pub enum Parent<C> {
    /// The span current now.
    Current,
    /// This one (a traversal: the span current when page code asked for
    /// it, or none).
    Given(Option<C>),
}

/// What to do about an observation.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision<C> {
    /// Nothing: already recorded, or no change.
    Nothing,
    /// A route change to `to`, of `kind`; `hold` keeps it current until
    /// the `hashchange` that follows.
    Change {
        /// `waggle.route.change_type`.
        kind: &'static str,
        /// The new URL.
        to: String,
        /// Its parent.
        parent: Parent<C>,
        /// Current until released.
        hold: bool,
    },
    /// The `hashchange` that follows a fragment navigation: release the
    /// route change held current since, or make it current again for the
    /// listeners still to come.
    Hashchange(SpanId),
}

/// The URL as last recorded and what is under way.
///
/// ```
/// use waggle_rum::core::route::{Decision, Parent, Route};
/// let mut r: Route<()> = Route::new("https://a.test/");
/// r.calling("pushState");
/// let d = r.called("pushState", "https://a.test/cart");
/// assert!(matches!(d, Decision::Change { kind: "pushState", parent: Parent::Current, hold: false, .. }));
/// ```
#[derive(Debug)]
pub struct Route<C> {
    href: String,
    span: Option<SpanId>,
    calling: Option<&'static str>,
    asked: Option<(f64, Option<C>)>,
}

fn method(name: &str) -> &'static str {
    if name == "replaceState" {
        "replaceState"
    } else {
        "pushState"
    }
}

impl<C: Clone> Route<C> {
    /// Starts at the page's URL.
    pub fn new(href: &str) -> Self {
        Route { href: String::from(href), span: None, calling: None, asked: None }
    }

    /// The URL as last recorded.
    pub fn href(&self) -> &str {
        &self.href
    }

    /// A hooked history method (`pushState`, `replaceState`) is about to
    /// run: a change seen inside it is that method's.
    pub fn calling(&mut self, name: &str) {
        self.calling = Some(method(name));
    }

    /// The method returned and the URL is now `href`.
    pub fn called(&mut self, name: &str, href: &str) -> Decision<C> {
        self.calling = None;
        if href == self.href {
            return Decision::Nothing;
        }
        Decision::Change { kind: method(name), to: String::from(href), parent: Parent::Current, hold: false }
    }

    /// Page code asked for a traversal (`history.back()`) at `now`, with
    /// `current` the span current then.
    pub fn asked(&mut self, now: f64, current: Option<C>) {
        self.asked = Some((now, current));
    }

    /// An event said the URL is now `href`.
    pub fn observed(&mut self, now: f64, seen: Seen, href: &str) -> Decision<C> {
        if href == self.href {
            return match (seen, self.span) {
                (Seen::Hashchange, Some(id)) => Decision::Hashchange(id),
                _ => Decision::Nothing,
            };
        }
        let fragment_only = without_fragment(&self.href) == without_fragment(href);
        let kind = match (self.calling, seen) {
            (Some(m), _) => m,
            _ if fragment_only => "hashchange",
            (None, Seen::Hashchange) => "hashchange",
            (None, Seen::Entry(Some(Nav::Push))) => "pushState",
            (None, Seen::Entry(Some(Nav::Replace))) => "replaceState",
            (None, _) => "popstate",
        };
        let asked = self.asked.take().filter(|(at, _)| now - at <= HOLD_MS);
        let traversal = self.calling.is_none()
            && match seen {
                Seen::Entry(nav) => nav == Some(Nav::Traverse),
                Seen::Popstate => !fragment_only || asked.is_some(),
                Seen::Hashchange => false,
            };
        let parent = if traversal { Parent::Given(asked.and_then(|(_, c)| c)) } else { Parent::Current };
        Decision::Change { kind, to: String::from(href), parent, hold: kind == "hashchange" && seen != Seen::Hashchange }
    }

    /// A route change to `href` was recorded as span `id`.
    pub fn changed(&mut self, href: &str, id: Option<SpanId>) {
        self.href = String::from(href);
        self.span = id;
    }
}

/// The app's name for a view's route (`setRoute('/products/:id')`), kept
/// with the path it was named on. It applies to that path only: a URL
/// change to another path leaves the new view with its path until the app
/// names it (routers do so right after they change the URL, while the
/// route change is still open), and a change that keeps the path (a
/// query, an in-page anchor) keeps the name.
///
/// ```
/// use waggle_rum::core::route::Template;
/// let mut t = Template::default();
/// assert_eq!(t.route("/products/42"), "/products/42");
/// t.set("/products/42", "/products/:id");
/// assert_eq!(t.route("/products/42"), "/products/:id");
/// assert_eq!(t.route("/cart"), "/cart");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Template {
    path: String,
    name: String,
}

impl Template {
    /// Names the route of the view at `path` (its [`super::url::route_of`]);
    /// an empty or blank name takes the name back.
    pub fn set(&mut self, path: &str, name: &str) {
        self.path = String::from(path);
        self.name = String::from(name.trim());
    }

    /// The route spans carry for the view at `path`: its name, if the app
    /// named it, else the path itself.
    pub fn route<'a>(&'a self, path: &'a str) -> &'a str {
        if self.path == path && !self.name.is_empty() {
            &self.name
        } else {
            path
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind<C>(d: &Decision<C>) -> Option<&'static str> {
        match d {
            Decision::Change { kind, .. } => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn a_route_name_holds_for_its_path_only() {
        let mut t = Template::default();
        t.set("/products/42", " /products/:id ");
        assert_eq!(t.route("/products/42"), "/products/:id", "trimmed");
        // Another product: the router names it too, until then its path.
        assert_eq!(t.route("/products/43"), "/products/43");
        t.set("/products/43", "/products/:id");
        assert_eq!(t.route("/products/43"), "/products/:id");
        // A hash route's path carries its fragment: another fragment route
        // is another view.
        t.set("/#/a/1", "/a/:id");
        assert_eq!(t.route("/#/a/2"), "/#/a/2");
        // Named empty or blank: the path again.
        t.set("/#/a/1", "  ");
        assert_eq!(t.route("/#/a/1"), "/#/a/1");
    }

    #[test]
    fn push_state_with_the_navigation_api_is_recorded_once() {
        let mut r: Route<u8> = Route::new("https://a.test/");
        r.calling("pushState");
        // currententrychange comes during the call.
        let d = r.observed(0.0, Seen::Entry(Some(Nav::Push)), "https://a.test/b");
        assert_eq!(kind(&d), Some("pushState"));
        r.changed("https://a.test/b", Some(SpanId([1; 8])));
        assert_eq!(r.called("pushState", "https://a.test/b"), Decision::Nothing);
        // A replaceState that keeps the URL is no route change.
        r.calling("replaceState");
        assert_eq!(r.called("replaceState", "https://a.test/b"), Decision::Nothing);
    }

    #[test]
    fn traversals_are_children_of_who_asked_or_of_nothing() {
        let mut r: Route<u8> = Route::new("https://a.test/b");
        r.asked(100.0, Some(7));
        let d = r.observed(110.0, Seen::Entry(Some(Nav::Traverse)), "https://a.test/a");
        assert_eq!(d, Decision::Change { kind: "popstate", to: "https://a.test/a".into(), parent: Parent::Given(Some(7)), hold: false });
        r.changed("https://a.test/a", None);
        // The browser's own Back button: nobody asked.
        let d = r.observed(5000.0, Seen::Popstate, "https://a.test/b");
        assert!(matches!(d, Decision::Change { kind: "popstate", parent: Parent::Given(None), .. }));
        // Asked too long ago: not the cause.
        r.changed("https://a.test/b", None);
        r.asked(6000.0, Some(1));
        let d = r.observed(8000.0, Seen::Popstate, "https://a.test/c");
        assert!(matches!(d, Decision::Change { parent: Parent::Given(None), .. }));
    }

    #[test]
    fn fragment_navigations_are_hashchanges_held_until_their_event() {
        let mut r: Route<u8> = Route::new("https://a.test/#/a");
        let d = r.observed(0.0, Seen::Entry(None), "https://a.test/#/b");
        assert!(matches!(d, Decision::Change { kind: "hashchange", parent: Parent::Current, hold: true, .. }));
        r.changed("https://a.test/#/b", Some(SpanId([2; 8])));
        assert_eq!(r.observed(1.0, Seen::Popstate, "https://a.test/#/b"), Decision::Nothing);
        assert_eq!(r.observed(2.0, Seen::Hashchange, "https://a.test/#/b"), Decision::Hashchange(SpanId([2; 8])));
        // Seen first as a hashchange (no Navigation API): not held.
        let d = r.observed(3.0, Seen::Hashchange, "https://a.test/#/c");
        assert!(matches!(d, Decision::Change { kind: "hashchange", hold: false, .. }));
        // location.hash set by page code inside pushState is that method's.
        r.changed("https://a.test/#/c", None);
        r.calling("pushState");
        assert_eq!(kind(&r.observed(4.0, Seen::Entry(Some(Nav::Push)), "https://a.test/#/d")), Some("pushState"));
    }
}
