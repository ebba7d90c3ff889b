//! What spans share: the configuration, sampling, the span current now,
//! the page, the session, the user and the global attributes; and the
//! spans that stay open until the page settles ([`tracker`]).
//!
//! Instrumentations start spans here and hand them back finished; the
//! runtime marks them with the context they ended in and passes the
//! sampled ones to delivery.

pub mod tracker;

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::config::{attributes, Config, ConfigValue, SampleBy, UrlPattern};
use crate::core::consent::Consent;
use crate::core::ids::{SpanId, TraceId};
use crate::core::page_view::Views;
use crate::core::route::Template;
use crate::core::sampling::ratio_keeps;
use crate::core::session::{hex_id, resolve, SessionLimits};
use crate::core::span::{kind, Attrs, Span, Value};
use crate::core::tracecontext::{format_traceparent, parse_traceparent, parse_tracestate};
use crate::core::url::{route_of, scrub, UrlParts};
use crate::delivery::Delivery;
use crate::platform::protocol::cmd;
use crate::platform::Io;

pub use tracker::Tracker;

/// The trace-flags bit W3C Trace Context Level 2 (§3.2.2.5.2) gives a trace
/// id made of random bytes; Waggle's trace ids are.
pub const RANDOM: u8 = 2;

/// The context a new span continues: the parent's ids and flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Ctx {
    /// The trace.
    pub trace_id: TraceId,
    /// The parent span.
    pub span_id: SpanId,
    /// Its flags: the sampled bit decides the child's.
    pub flags: u8,
    /// Its `tracestate`, carried along.
    pub trace_state: String,
}

impl Ctx {
    /// The context that makes new spans children of `span`.
    pub fn of(span: &Span) -> Ctx {
        Ctx { trace_id: span.trace_id, span_id: span.span_id, flags: span.flags, trace_state: span.trace_state.clone() }
    }

    /// The form the JS side holds: the `traceparent`, then a newline and
    /// the `tracestate` when there is one.
    ///
    /// ```
    /// use waggle_rum::core::ids::{SpanId, TraceId};
    /// use waggle_rum::runtime::Ctx;
    /// let c = Ctx { trace_id: TraceId([1; 16]), span_id: SpanId([2; 8]), flags: 3, trace_state: "a=1".into() };
    /// assert_eq!(Ctx::parse(&c.text()), Some(c));
    /// ```
    pub fn text(&self) -> String {
        let mut s = format_traceparent(self.trace_id, self.span_id, self.flags);
        if !self.trace_state.is_empty() {
            s.push('\n');
            s.push_str(&self.trace_state);
        }
        s
    }

    /// Reads [`Ctx::text`]'s form, or a `traceparent` with an optional
    /// `tracestate` from a page or server.
    pub fn parse(s: &str) -> Option<Ctx> {
        let (tp, ts) = match s.split_once('\n') {
            Some((a, b)) => (a, b),
            None => (s, ""),
        };
        let p = parse_traceparent(tp)?;
        Some(Ctx { trace_id: p.trace_id, span_id: p.span_id, flags: p.flags, trace_state: parse_tracestate(ts).unwrap_or_default() })
    }
}

/// The page a span happened on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Its URL, scrubbed.
    pub url: String,
    /// Its route: the template the app named for it (`setRoute`), else
    /// its path (and the fragment for hash routes).
    pub route: String,
    /// Its path (and the fragment for hash routes), as in the URL.
    pub path: String,
    /// `document.title`.
    pub title: String,
}

/// What the runtime knows of the session.
#[derive(Debug, Default)]
struct SessionState {
    id: String,
    checked_ms: f64,
    sampled: bool,
    memory: Option<String>,
}

/// Page views' one-off spans already sent: `init` after `shutdown` (React
/// StrictMode's double effect) sends none of them twice.
pub mod once {
    /// `documentLoad` and its children.
    pub const DOCUMENT_LOAD: u32 = 1;
    /// TTFB.
    pub const TTFB: u32 = 2;
    /// FCP.
    pub const FCP: u32 = 4;
    /// LCP.
    pub const LCP: u32 = 8;
}

/// The shared part of a running agent.
pub struct Runtime {
    /// Commands, time, randomness.
    pub io: Io,
    /// Delivery, from the first `init` on; it outlives `shutdown` until its
    /// queue is empty.
    pub delivery: Option<Delivery>,
    /// The options in force.
    pub config: Config,
    /// Whether the agent runs (between `init` and `shutdown`).
    pub on: bool,
    /// `location.origin`.
    pub origin: String,
    /// The page now.
    pub page: Page,
    /// Requests under way (fetch and XHR): a span waiting for the page to
    /// settle waits for them.
    pub pending_requests: u32,
    /// Spans open until the page settles.
    pub tracker: Tracker,
    /// Recent long animation frames, for attribution.
    pub frames: crate::core::loaf::Frames,
    /// Page-view spans already sent ([`once`] bits).
    pub sent: u32,
    /// The page's consent: it outlives `shutdown` and `init`.
    pub consent: Consent,
    session: SessionState,
    /// This page's part in the session's chain of page views.
    pub views: Views,
    user: Vec<(String, Value)>,
    globals: Vec<(String, Value)>,
    stack: Vec<(u32, Ctx)>,
    next_token: u32,
    template: Template,
}

impl Runtime {
    /// A runtime that is not running yet.
    pub fn new(io: Io) -> Self {
        Runtime {
            io,
            delivery: None,
            config: Config::default(),
            on: false,
            origin: String::new(),
            page: Page::default(),
            pending_requests: 0,
            tracker: Tracker::default(),
            frames: Default::default(),
            sent: 0,
            consent: Consent::default(),
            session: SessionState::default(),
            views: Views::default(),
            user: Vec::new(),
            globals: Vec::new(),
            stack: Vec::new(),
            next_token: 0,
            template: Template::default(),
        }
    }

    /// Starts running with `config` on a page at `origin`.
    pub fn start(&mut self, config: Config, origin: &str) {
        self.globals = config.attributes.clone();
        self.config = config;
        self.origin = String::from(origin);
        self.on = true;
    }

    /// Stops running: the shared state goes, what was sent once stays.
    pub fn stop(&mut self) {
        self.on = false;
        self.stack.clear();
        self.publish_current();
        self.user.clear();
        self.pending_requests = 0;
        self.session = SessionState::default();
    }

    /// Epoch nanoseconds of a time on the page's clock.
    pub fn ns(&self, rel_ms: f64) -> u64 {
        self.io.ns(rel_ms)
    }

    /// Starts a span continuing `parent`, or a new trace; the sampling
    /// decision is made here and carried in the flags.
    #[inline]
    pub fn start_span(&mut self, name: impl Into<crate::core::span::Key>, kind: u8, parent: Option<&Ctx>, start_ns: u64) -> Span {
        self.begin(name.into(), kind, parent, start_ns)
    }

    #[inline(never)]
    fn begin(&mut self, name: crate::core::span::Key, kind: u8, parent: Option<&Ctx>, start_ns: u64) -> Span {
        let span_id = self.io.span_id();
        match parent {
            Some(p) => {
                let mut s = Span::new(name, kind, p.trace_id, span_id, Some(p.span_id), start_ns);
                // Level 2 (§3.2.2.5.2): the random flag set on the incoming
                // header is set on every outgoing one of that trace.
                s.flags = p.flags & 3;
                s.trace_state = p.trace_state.clone();
                s
            }
            None => {
                let trace_id = self.io.trace_id();
                let mut s = Span::new(name, kind, trace_id, span_id, None, start_ns);
                let keep = match self.config.sample_by {
                    // Per-session sampling keeps or drops the session's own
                    // traces whole.
                    SampleBy::Session => self.session.sampled,
                    SampleBy::Trace => ratio_keeps(self.config.sample_rate, &trace_id.0),
                };
                s.flags = RANDOM | u8::from(keep);
                s
            }
        }
    }

    /// A span started at `at_ms` (the page's clock), a child of the current
    /// one.
    pub fn child_span(&mut self, name: &'static str, kind: u8, at_ms: f64) -> Span {
        let parent = self.current();
        let start = self.ns(at_ms);
        self.begin(name.into(), kind, parent.as_ref(), start)
    }

    /// Ends `span` (now, unless it has an end) and hands it to delivery if
    /// it is sampled, marked with the context in force.
    pub fn finish(&mut self, mut span: Span) {
        if !span.sampled() || !self.on {
            return;
        }
        if span.end_ns == 0 {
            span.end(self.io.now_ns());
        }
        self.mark(&mut span);
        if let Some(d) = self.delivery.as_mut() {
            d.push(&mut self.io, span);
        }
    }

    /// Gives `span` the context in force, checking the session first (at
    /// most once a second).
    pub fn mark(&mut self, span: &mut Span) {
        span.context = self.delivery.as_ref().map_or(0, |d| d.contexts.current());
    }

    /// A URL made safe to record.
    pub fn scrub(&self, url: &str) -> String {
        scrub(url, &self.config.redact_query_params)
    }

    /// Sets `url.full`, `server.address` and `server.port` from `url`.
    pub fn url_attrs(&self, span: &mut Span, url: &str) {
        if let Some(p) = UrlParts::parse(url) {
            span.set("server.address", p.address());
            span.set("server.port", i64::from(p.port()));
        }
        span.set("url.full", self.scrub(url));
    }

    /// Whether `url` matches one of `patterns`; `rx` has bit i set when
    /// the options' regular expression i matched it (tested by the page).
    pub fn matches(&self, url: &str, rx: u32, patterns: &[UrlPattern]) -> bool {
        patterns.iter().any(|p| match p {
            UrlPattern::Prefix(prefix) => url.starts_with(prefix.as_str()),
            UrlPattern::Regex(i) => *i < 32 && rx & (1 << i) != 0,
        })
    }

    /// Whether requests to `url` are left alone: the agent's own, and what
    /// `ignoreUrls` names.
    pub fn ignored(&self, url: &str, rx: u32) -> bool {
        self.delivery.as_ref().is_some_and(|d| url.starts_with(d.url())) || self.matches(url, rx, &self.config.ignore_urls)
    }

    // ------------------------------------------------------- the current span

    /// The span requests and new spans are children of now.
    pub fn current(&self) -> Option<Ctx> {
        self.stack.last().map(|(_, c)| c.clone())
    }

    fn publish_current(&mut self) {
        let cur = self.stack.last().map(|(_, c)| c.text());
        let w = self.io.cmd(cmd::CURRENT, 1);
        w.opt_str(cur.as_deref());
    }

    /// Makes `ctx` current; it stays so until [`Runtime::exit`] with the
    /// token returned.
    pub fn enter(&mut self, ctx: Ctx) -> u32 {
        self.next_token = self.next_token.wrapping_add(1).max(1);
        self.stack.push((self.next_token, ctx));
        self.publish_current();
        self.next_token
    }

    /// Makes `ctx` current until the running task (and the promise
    /// callbacks it queued) is over.
    pub fn enter_for_task(&mut self, ctx: Ctx) -> u32 {
        let token = self.enter(ctx);
        let w = self.io.cmd(cmd::EXIT, 1);
        w.uint(token);
        token
    }

    /// Ends what [`Runtime::enter`] began, wherever it is in the stack.
    pub fn exit(&mut self, token: u32) -> Option<SpanId> {
        let i = self.stack.iter().rposition(|(t, _)| *t == token)?;
        let (_, ctx) = self.stack.remove(i);
        self.publish_current();
        Some(ctx.span_id)
    }

    /// Takes every entry of span `id` off the stack (it ended).
    pub fn exit_span(&mut self, id: SpanId) {
        let before = self.stack.len();
        self.stack.retain(|(_, c)| c.span_id != id);
        if self.stack.len() != before {
            self.publish_current();
        }
    }

    // --------------------------------------------------------------- context

    /// Re-reads the page from `href` and `title`.
    pub fn set_page(&mut self, href: &str, title: &str) {
        let path = route_of(href);
        let route = String::from(self.template.route(&path));
        let page = Page { url: self.scrub(href), route, path, title: String::from(title) };
        if page != self.page {
            self.page = page;
            self.update_context();
        }
    }

    /// `setRoute`: names the route of the view now shown (a string such as
    /// `/products/:id`; null, undefined or an empty string takes the name
    /// back). Anything else is ignored with a warning.
    pub fn set_route(&mut self, v: &ConfigValue) {
        let name = match v {
            ConfigValue::Str(s) => s.as_str(),
            ConfigValue::Null | ConfigValue::Undefined => "",
            other => return self.refuse("setRoute takes a route template such as '/products/:id', or null", other),
        };
        self.template.set(&self.page.path, name);
        let route = self.template.route(&self.page.path);
        if self.page.route != route {
            self.page.route = String::from(route);
            let renamed = self.views.renamed(route);
            self.update_context();
            self.keep_view(renamed);
        }
    }

    /// The page's title changed.
    pub fn set_title(&mut self, title: &str) {
        if self.page.title != title {
            self.page.title = String::from(title);
            self.update_context();
        }
    }

    /// Records the session, page, user and global attributes now in force
    /// as the context set later spans share, and tells the JS side.
    pub fn update_context(&mut self) {
        let Some(d) = self.delivery.as_mut() else { return };
        let mut attrs = Attrs::default();
        for (key, v) in [("session.id", &self.session.id), ("browser.document.url.full", &self.page.url), ("waggle.page.route", &self.page.route), ("waggle.page.title", &self.page.title)] {
            if !v.is_empty() {
                attrs.put(key, v.as_str());
            }
        }
        for (k, v) in &self.user {
            attrs.put(k, v);
        }
        for (k, v) in &self.globals {
            // A global attribute named like a resource, session, page or
            // user one: that one wins (OTLP's attribute keys are unique).
            if !attrs.has(k) && !d.resource.has(k) {
                attrs.put(k, v);
            }
        }
        let id = d.contexts.update(attrs);
        let w = self.io.cmd(cmd::CONTEXT, 2);
        w.uint(id);
        w.num(self.session.checked_ms);
    }

    /// `setUser`: `id` → `user.id`, `fullName` → `user.full_name`, any
    /// other key `k` → `user.k`; `null` clears. A value of the wrong kind
    /// is left out with one warning naming its key.
    pub fn set_user(&mut self, v: &ConfigValue) {
        self.user.clear();
        match v {
            ConfigValue::Null | ConfigValue::Undefined => {}
            ConfigValue::Object(entries) => {
                let (good, bad) = attributes("setUser", entries);
                for e in bad {
                    self.warn_key("setUser", &e.option, &e.message);
                }
                for (k, v) in good {
                    let Some(v) = v else { continue };
                    let key = if k == "fullName" { String::from("user.full_name") } else { String::from("user.") + &k };
                    self.user.push((key, v));
                }
            }
            other => self.refuse("setUser takes an object such as { id: '42' } or null", other),
        }
        self.update_context();
    }

    /// `setGlobalAttributes`: merged into the global attributes; `null`
    /// removes a key. A value of the wrong kind is left out with one
    /// warning naming its key.
    pub fn set_globals(&mut self, v: &ConfigValue) {
        let ConfigValue::Object(entries) = v else {
            return self.refuse("setGlobalAttributes takes an object of attributes", v);
        };
        let (good, bad) = attributes("setGlobalAttributes", entries);
        for e in bad {
            self.warn_key("setGlobalAttributes", &e.option, &e.message);
        }
        for (k, v) in good {
            self.globals.retain(|(key, _)| *key != k);
            if let Some(v) = v {
                self.globals.push((k, v));
            }
        }
        self.update_context();
    }

    /// A call given what it does not take: one warning, and nothing done.
    fn refuse(&mut self, what: &str, got: &ConfigValue) {
        let mut t = String::from(what);
        t.push_str(", got ");
        t.push_str(got.type_name());
        t.push_str("; the call is ignored");
        self.io.warn(&t);
    }

    fn warn_key(&mut self, call: &str, path: &str, message: &str) {
        let key = path.split_once('.').map_or(path, |(_, k)| k);
        let mut t = String::from(call);
        t.push_str(": `");
        t.push_str(key);
        t.push_str("` ");
        t.push_str(message);
        t.push_str("; it is left out");
        self.io.warn(&t);
    }

    // --------------------------------------------------------------- session

    /// Re-reads the shared session as `stored` (what storage holds now),
    /// renewing it if it has expired; `active` marks user activity.
    /// Returns whether the session changed.
    pub fn session(&mut self, stored: Option<&str>, active: bool) {
        let now = self.io.clock.epoch_ms(self.io.now);
        self.session.checked_ms = self.io.now;
        let stored = stored.map(String::from).or_else(|| self.session.memory.clone());
        let limits = SessionLimits {
            inactivity_ms: self.config.session_inactivity_minutes * 60_000.0,
            max_ms: self.config.session_max_minutes * 60_000.0,
        };
        let io = &mut self.io;
        let r = resolve(stored.as_deref(), now, &limits, active, || hex_id(io.bytes16()));
        let serialized = r.session.serialize();
        self.store(crate::core::session::STORAGE_KEY, &serialized);
        self.session.memory = Some(serialized);
        let started = self.session.id != r.session.id;
        if started {
            self.session.sampled = r.session.sampled(self.config.sample_rate);
            self.session.id = r.session.id;
        }
        self.update_context();
        if started && r.is_new {
            self.session_started(r.previous_id);
        }
    }

    /// This page began a session: `session.start` (with
    /// `session.previous_id` when it replaced one) and `session.end` for
    /// the one replaced, as the semantic conventions' session events. Only
    /// the page that renews a session says so, so a session's events are
    /// sent once however many tabs share it.
    fn session_started(&mut self, previous: Option<String>) {
        if let Some(prev) = previous.as_deref() {
            // In the new session's context, but about the one that ended.
            let mut end = self.child_root("session.end");
            end.set("session.id", prev);
            self.finish(end);
        }
        let mut start = self.child_root("session.start");
        if let Some(prev) = previous {
            start.set("session.previous_id", prev);
        }
        self.finish(start);
    }

    fn child_root(&mut self, name: &'static str) -> Span {
        let now = self.io.now_ns();
        let mut s = self.start_span(name, kind::INTERNAL, None, now);
        s.end(now);
        s
    }

    /// When the session was last checked, on the page's clock.
    pub fn session_checked(&self) -> f64 {
        self.session.checked_ms
    }

    /// Keeps `value` under `key` where the session is kept (`localStorage`,
    /// or `sessionStorage` when it is kept per tab). Every storage write
    /// the agent makes of its own state goes through here.
    ///
    /// ```
    /// use waggle_rum::platform::Io;
    /// use waggle_rum::runtime::Runtime;
    /// let mut rt = Runtime::new(Io::new(|b| b.fill(7)));
    /// rt.store("waggle.view", "x");
    /// assert!(!rt.io.out.bytes().is_empty());
    /// ```
    pub fn store(&mut self, key: &str, value: &str) {
        // While consent is pending, state lives in memory only.
        if !self.consent.state.allows() {
            return;
        }
        let w = self.io.cmd(cmd::STORE, 3);
        w.uint(u32::from(!self.config.session_persist));
        w.str(key);
        w.str(value);
    }

    // ------------------------------------------------------------ page views

    /// The page's own load begins a page view with `span` (`documentLoad`).
    pub fn view_loaded(&mut self, span: &mut Span) {
        let kept = self.views.loaded(span, &self.session.id, &self.page.url, &self.page.route);
        self.keep_view(kept);
    }

    /// A route change begins a page view with `span`; `stored` is the
    /// newest view as storage holds it now.
    ///
    /// ```
    /// use waggle_rum::core::span::kind;
    /// use waggle_rum::platform::Io;
    /// use waggle_rum::runtime::Runtime;
    /// let mut rt = Runtime::new(Io::new(|b| b.fill(7)));
    /// let mut first = rt.start_span("routeChange", kind::INTERNAL, None, 0);
    /// rt.view_changed(&mut first, None);
    /// let mut second = rt.start_span("routeChange", kind::INTERNAL, None, 1);
    /// rt.view_changed(&mut second, None);
    /// assert!(!first.has_links() && second.has_links());
    /// ```
    pub fn view_changed(&mut self, span: &mut Span, stored: Option<&str>) {
        let kept = self.views.changed(stored, span, &self.session.id, &self.page.url, &self.page.route);
        self.keep_view(kept);
    }

    fn keep_view(&mut self, view: Option<String>) {
        if let Some(v) = view {
            self.store(crate::core::page_view::STORAGE_KEY, &v);
        }
    }

    /// Consent granted: the page's newest view, recorded while nothing
    /// could be stored, is written for the next view to follow.
    pub fn keep_newest_view(&mut self) {
        let v = self.views.newest();
        self.keep_view(v);
    }

    /// The page is shown: back from the back-forward cache, its newest
    /// view is kept again as the one the next view follows.
    pub fn shown(&mut self) {
        let v = self.views.shown().filter(|_| self.on);
        self.keep_view(v);
    }
}
