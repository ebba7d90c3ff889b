//! HTTP client spans (fetch and XHR): the method as the semantic
//! conventions want it, what a status code means, which requests may carry
//! `traceparent`, and which Resource Timing entry belongs to a request.
//!
//! All of it is decided here, away from the browser, so the rules are
//! tested natively; the shell only reads values and applies the answers.

use alloc::borrow::Cow;
use alloc::string::String;

use super::url::{is_http, same_origin};

/// The methods the HTTP semantic conventions know (RFC 9110 and PATCH).
pub const KNOWN_METHODS: [&str; 9] = ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"];

/// A request method as recorded: `http.request.method` and, when that is
/// not what the page passed, `http.request.method_original`.
///
/// ```
/// use waggle_rum::core::http::Method;
/// let m = Method::parse("post");
/// assert_eq!((m.value, m.original.as_deref(), m.span_name()), ("POST", Some("post"), "POST"));
/// let m = Method::parse("PURGE");
/// assert_eq!((m.value, m.original.as_deref(), m.span_name()), ("_OTHER", Some("PURGE"), "HTTP"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// A known method in upper case, or `_OTHER`.
    pub value: &'static str,
    /// The method as given, when it differs from `value`.
    pub original: Option<String>,
}

impl Method {
    /// Normalises `raw`: known methods in any case become upper case, and
    /// anything else becomes `_OTHER`, so the attribute stays low-cardinality.
    pub fn parse(raw: &str) -> Method {
        match KNOWN_METHODS.iter().find(|m| m.eq_ignore_ascii_case(raw)) {
            Some(m) => Method { value: m, original: (raw != *m).then(|| String::from(raw)) },
            None => Method { value: "_OTHER", original: Some(String::from(raw)) },
        }
    }

    /// The span name: the method, or `HTTP` for methods the conventions do
    /// not know (their rule, to keep span names low-cardinality).
    pub fn span_name(&self) -> &'static str {
        if self.value == "_OTHER" {
            "HTTP"
        } else {
            self.value
        }
    }
}

/// The methods fetch and XHR upper-case before sending (the Fetch
/// standard's "normalize a method"); any other is sent exactly as given.
pub const BROWSER_NORMALISED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// The method a browser puts on the wire for `raw`, so that
/// `http.request.method_original` is only set when what was sent differs
/// from the recorded method (`put` goes out as `PUT`; `patch` as `patch`).
///
/// ```
/// use waggle_rum::core::http::{browser_method, Method};
/// assert_eq!(browser_method("put"), "PUT");
/// assert_eq!(browser_method("patch"), "patch");
/// assert_eq!(Method::parse(&browser_method("put")).original, None);
/// ```
pub fn browser_method(raw: &str) -> Cow<'_, str> {
    match BROWSER_NORMALISED.iter().find(|m| m.eq_ignore_ascii_case(raw)) {
        Some(m) => (*m).into(),
        None => raw.into(),
    }
}

/// `error.type` for a response status: the code as a string from 400 up,
/// where a client span's status is an error; `None` below.
///
/// ```
/// use waggle_rum::core::http::status_error_type;
/// assert_eq!(status_error_type(404).as_deref(), Some("404"));
/// assert_eq!(status_error_type(304), None);
/// ```
pub fn status_error_type(status: u16) -> Option<String> {
    (status >= 400).then(|| super::num::u64_str(u64::from(status)))
}

/// Whether a request to `url` carries `traceparent`: always to the page's
/// own origin, and to another origin only when the allow-list
/// (`propagateTraceHeaderCorsUrls`, asked lazily through `allowed`) names
/// it, because the header makes the browser send a CORS preflight that a
/// server not expecting it refuses.
///
/// ```
/// use waggle_rum::core::http::propagates;
/// assert!(propagates("http://a.test/x", "http://a.test", || false));
/// assert!(!propagates("http://b.test/x", "http://a.test", || false));
/// assert!(propagates("http://b.test/x", "http://a.test", || true));
/// ```
pub fn propagates(url: &str, origin: &str, allowed: impl FnOnce() -> bool) -> bool {
    is_http(url) && (same_origin(url, origin) || allowed())
}

/// How far apart (ms) a request's own clock readings and its Resource
/// Timing entry may be: both are `performance.now()` values the browser
/// coarsens (to 100 µs, with jitter, outside cross-origin isolation).
pub const TIMING_SLACK_MS: f64 = 1.0;

/// The times of a Resource Timing entry that matching needs, in
/// `performance.now()` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EntryTimes {
    /// `startTime`.
    pub start: f64,
    /// `responseEnd`.
    pub response_end: f64,
}

/// A request as the wrapper measured it, in `performance.now()` ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestTimes {
    /// Just before the browser's own `fetch`/`send` was called.
    pub start: f64,
    /// When the wrapper saw the request end.
    pub end: f64,
    /// Whether `end` comes after the whole body arrived (XHR `loadend`).
    /// A fetch ends when its `Response` arrives, before the body, so its
    /// entry's `responseEnd` may come later and is not bounded by `end`.
    pub body_done: bool,
}

/// The entries that belong to a request, as indices into the candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimingMatch {
    /// The request's own entry.
    pub main: usize,
    /// The CORS preflight (`OPTIONS`) before it, when the browser exposed
    /// one as an entry of its own.
    pub preflight: Option<usize>,
}

/// Picks a request's Resource Timing entry among `candidates`: entries the
/// caller already filtered by URL and initiator type, and that no earlier
/// request took. An entry fits when it started within the request
/// (`start - slack` to `end + slack`) and, for a request measured to the
/// end of its body, finished by `end + slack`. Of several, the earliest
/// wins; for a cross-origin request, an earliest entry that finished before
/// a later one started is its preflight, and the later one is the request.
///
/// ```
/// use waggle_rum::core::http::{match_timing, EntryTimes, RequestTimes};
/// let req = RequestTimes { start: 100.0, end: 180.0, body_done: true };
/// let preflight = EntryTimes { start: 100.4, response_end: 130.0 };
/// let main = EntryTimes { start: 130.5, response_end: 179.0 };
/// let m = match_timing(&[main, preflight], &req, true).unwrap();
/// assert_eq!((m.main, m.preflight), (0, Some(1)));
/// ```
pub fn match_timing(candidates: &[EntryTimes], req: &RequestTimes, cross_origin: bool) -> Option<TimingMatch> {
    let fits = |e: &EntryTimes| {
        e.start >= req.start - TIMING_SLACK_MS
            && e.start <= req.end + TIMING_SLACK_MS
            && (!req.body_done || e.response_end <= req.end + TIMING_SLACK_MS)
    };
    // Smallest start among the fitting entries `keep` admits; no sort,
    // which would bring a sorting routine into the wasm for lists of two.
    let earliest = |keep: &dyn Fn(&EntryTimes) -> bool| {
        (0..candidates.len()).filter(|&i| fits(&candidates[i]) && keep(&candidates[i])).fold(
            None,
            |best: Option<usize>, i| match best {
                Some(b) if candidates[b].start <= candidates[i].start => Some(b),
                _ => Some(i),
            },
        )
    };
    let first = earliest(&|_| true)?;
    if cross_origin {
        let done = candidates[first].response_end;
        if let Some(main) = earliest(&|e| e.start >= done - TIMING_SLACK_MS && e.start > candidates[first].start) {
            return Some(TimingMatch { main, preflight: Some(first) });
        }
    }
    Some(TimingMatch { main: first, preflight: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_normalised_as_the_conventions_say() {
        for m in KNOWN_METHODS {
            assert_eq!(Method::parse(m), Method { value: m, original: None });
            assert_eq!(Method::parse(m).span_name(), m);
        }
        assert_eq!(Method::parse("get"), Method { value: "GET", original: Some("get".into()) });
        assert_eq!(Method::parse("pAtCh"), Method { value: "PATCH", original: Some("pAtCh".into()) });
        for odd in ["PURGE", "QUERY", "", "GET ", "ＧＥＴ"] {
            let m = Method::parse(odd);
            assert_eq!((m.value, m.original.as_deref(), m.span_name()), ("_OTHER", Some(odd), "HTTP"), "{odd:?}");
        }
    }

    #[test]
    fn browser_normalisation_comes_first() {
        for (raw, sent, value, original) in [
            ("get", "GET", "GET", None),
            ("Post", "POST", "POST", None),
            ("delete", "DELETE", "DELETE", None),
            ("patch", "patch", "PATCH", Some("patch")),
            ("connect", "connect", "CONNECT", Some("connect")),
            ("PURGE", "PURGE", "_OTHER", Some("PURGE")),
        ] {
            let wire = browser_method(raw);
            assert_eq!(wire, sent);
            let m = Method::parse(&wire);
            assert_eq!((m.value, m.original.as_deref()), (value, original), "{raw}");
        }
    }

    #[test]
    fn error_type_from_status() {
        assert_eq!(status_error_type(0), None);
        assert_eq!(status_error_type(200), None);
        assert_eq!(status_error_type(399), None);
        assert_eq!(status_error_type(400).as_deref(), Some("400"));
        assert_eq!(status_error_type(500).as_deref(), Some("500"));
        assert_eq!(status_error_type(599).as_deref(), Some("599"));
    }

    #[test]
    fn origins_and_propagation() {
        let page = "http://localhost:8080";
        assert!(same_origin("http://localhost:8080/a?b#c", page));
        assert!(same_origin("http://LOCALHOST:8080/", page));
        assert!(!same_origin("http://localhost:8081/", page));
        assert!(!same_origin("https://localhost:8080/", page));
        assert!(!same_origin("http://localhost.evil.test:8080/", page));
        assert!(!same_origin("http://localhost:8080@evil.test/", page));
        assert!(same_origin("http://example.com:80/x", "http://example.com"));
        assert!(!same_origin("/relative", page));
        assert!(!same_origin("data:text/plain,hi", page));

        assert!(propagates("http://localhost:8080/api", page, || panic!("allow-list asked for a same-origin URL")));
        assert!(!propagates("http://127.0.0.1:8080/api", page, || false));
        assert!(propagates("http://127.0.0.1:8080/api", page, || true));
        // Not HTTP: nothing to propagate to, whatever the allow-list says.
        assert!(!propagates("data:text/plain,x", page, || true));
        assert!(!propagates("ws://localhost:8080/", page, || true));
    }

    fn e(start: f64, response_end: f64) -> EntryTimes {
        EntryTimes { start, response_end }
    }

    #[test]
    fn timing_entry_must_fall_within_the_request() {
        let xhr = RequestTimes { start: 100.0, end: 200.0, body_done: true };
        assert_eq!(match_timing(&[], &xhr, false), None);
        assert_eq!(match_timing(&[e(100.2, 199.9)], &xhr, false), Some(TimingMatch { main: 0, preflight: None }));
        // Coarsened clocks may put the entry a hair outside.
        assert!(match_timing(&[e(99.5, 200.5)], &xhr, false).is_some());
        // An earlier request to the same URL, and a later one.
        assert_eq!(match_timing(&[e(50.0, 150.0)], &xhr, false), None);
        assert_eq!(match_timing(&[e(201.5, 250.0)], &xhr, false), None);
        // Ended after this request's loadend: another request's.
        assert_eq!(match_timing(&[e(120.0, 230.0)], &xhr, false), None);
        // A fetch ends at the Response, before its body: a later
        // responseEnd is its own.
        let fetch = RequestTimes { body_done: false, ..xhr };
        assert_eq!(match_timing(&[e(120.0, 230.0)], &fetch, false).map(|m| m.main), Some(0));
    }

    #[test]
    fn earliest_fitting_entry_wins_and_preflights_are_recognised() {
        let req = RequestTimes { start: 100.0, end: 200.0, body_done: true };
        // Same origin: never a preflight; the earliest is the request.
        let m = match_timing(&[e(150.0, 190.0), e(101.0, 140.0)], &req, false).unwrap();
        assert_eq!(m, TimingMatch { main: 1, preflight: None });
        // Cross origin: the first ended before the second began.
        let m = match_timing(&[e(150.0, 190.0), e(101.0, 140.0)], &req, true).unwrap();
        assert_eq!(m, TimingMatch { main: 0, preflight: Some(1) });
        // Overlapping entries are two requests, not a preflight.
        let m = match_timing(&[e(101.0, 160.0), e(110.0, 190.0)], &req, true).unwrap();
        assert_eq!(m, TimingMatch { main: 0, preflight: None });
        // Entries outside the window are not considered at all.
        let m = match_timing(&[e(10.0, 20.0), e(101.0, 140.0), e(141.0, 199.0), e(300.0, 310.0)], &req, true).unwrap();
        assert_eq!(m, TimingMatch { main: 2, preflight: Some(1) });
    }

}
