//! The kinds of observations (JS → module) and commands (module → JS).
//!
//! `js/protocol.js` has the same numbers; a test holds the two to each
//! other. Each observation is `[kind, ...fields]`, each command the same;
//! the fields are listed where the kind is handled.

/// Observations: what the page's JavaScript saw.
pub mod rec {
    /// `init` was called: options, what the page says about itself, and
    /// the values `setConsent` was given before.
    pub const INIT: u32 = 1;
    /// `shutdown()`: a token to answer with `DONE`.
    pub const SHUTDOWN: u32 = 2;
    /// `flush()`: a token to answer with `DONE`.
    pub const FLUSH: u32 = 3;
    /// A timer the module asked for fired: its id.
    pub const TIMER: u32 = 4;
    /// `visibilitychange` to hidden (0), or `pagehide` bound for the
    /// back-forward cache (1) or unloading (2).
    pub const HIDE: u32 = 5;
    /// `visibilitychange` to visible, or `pageshow`.
    pub const SHOW: u32 = 6;
    /// `freeze`.
    pub const FREEZE: u32 = 7;
    /// `online` or `offline`.
    pub const ONLINE: u32 = 8;
    /// The answer to a request the module posted.
    pub const ANSWER: u32 = 9;
    /// A body was gzipped (or could not be).
    pub const GZIPPED: u32 = 10;
    /// The app's ended spans, as the module asked for them.
    pub const SPANS: u32 = 11;
    /// How many of the app's spans wait on the JS side.
    pub const APP_WAITING: u32 = 12;
    /// The app needs ids for a span (`traceparent()`, `run`).
    pub const IDS: u32 = 13;
    /// The app made a span current (`withSpan`, `span.run`).
    pub const ENTER: u32 = 14;
    /// The task that made a span current is over.
    pub const EXIT: u32 = 15;
    /// `setUser`.
    pub const USER: u32 = 16;
    /// `setGlobalAttributes`.
    pub const GLOBALS: u32 = 17;
    /// The session as stored, read for a span that ended.
    pub const SESSION: u32 = 18;
    /// User activity (pointer, key, scroll, visibility).
    pub const ACTIVITY: u32 = 19;
    /// A DOM event of the configured interaction types.
    pub const EVENT: u32 = 20;
    /// A `fetch` or XHR is about to be sent.
    pub const REQUEST: u32 = 21;
    /// A `fetch` or XHR ended.
    pub const RESPONSE: u32 = 22;
    /// A Performance entry.
    pub const ENTRY: u32 = 23;
    /// The page finished loading (`load` handlers done).
    pub const LOADED: u32 = 24;
    /// A URL change was seen.
    pub const URL: u32 = 25;
    /// `setTimeout` was called while a span is current.
    pub const TIMER_SET: u32 = 26;
    /// A followed timer is about to run its callback.
    pub const TIMER_RUN: u32 = 27;
    /// The DOM changed.
    pub const MUTATION: u32 = 28;
    /// An error, a rejection, a `console.error` call, a failed resource.
    pub const ERROR: u32 = 29;
    /// Bodies other pages kept in storage, taken out of it by this page.
    pub const UNSENT: u32 = 30;
    /// `setRoute`: the view's route template, or null.
    pub const ROUTE: u32 = 32;
    /// `setConsent` once the agent was started: the value given.
    pub const CONSENT: u32 = 33;
    /// Fail on purpose (the tests' internal-failure path).
    pub const FAULT: u32 = 99;
}

/// Commands: what the module asks the page's JavaScript to do.
pub mod cmd {
    /// Write to the console: level (0 debug, 1 info, 2 warn, 3 error, 4 a
    /// group of the text's lines, the first its heading), text.
    pub const LOG: u32 = 1;
    /// Call back with `TIMER` after ms (negative: cancel): id, ms.
    pub const TIMER: u32 = 2;
    /// Call back with `EXIT` once the running task is over: token.
    pub const EXIT: u32 = 3;
    /// The span the app's new spans are children of: a context, or null.
    pub const CURRENT: u32 = 4;
    /// The context set the app's spans end in, and when the session was
    /// last checked (ms, the page's clock).
    pub const CONTEXT: u32 = 5;
    /// Gzip a body: request id, bytes.
    pub const COMPRESS: u32 = 6;
    /// POST a body: request id, bytes (or null for the gzipped one kept),
    /// gzipped, keepalive.
    pub const POST: u32 = 7;
    /// Write storage: 0 localStorage or 1 sessionStorage, key, value (null
    /// removes it).
    pub const STORE: u32 = 8;
    /// Send the app's ended spans, up to this many.
    pub const PULL: u32 = 9;
    /// The answer to `REQUEST`: `traceparent`, `tracestate` (null: send
    /// nothing).
    pub const HEADERS: u32 = 10;
    /// The answer to `TIMER_SET`: a token for `TIMER_RUN`, or 0.
    pub const FOLLOW: u32 = 11;
    /// The answer to `IDS`: the span's context.
    pub const IDS: u32 = 12;
    /// Watch the DOM for mutations (true) or stop (false).
    pub const WATCH: u32 = 13;
    /// The configuration the JS side needs: event types, instrumentation
    /// bits, the export URL, the queue bound, the batch size, whether the
    /// session is kept across tabs.
    pub const CONFIG: u32 = 14;
    /// A flush or shutdown is done: its token.
    pub const DONE: u32 = 15;
    /// `init` failed: the option and the message.
    pub const FAILED: u32 = 16;
    /// Forget the gzipped body kept for a request: request id.
    pub const FREE: u32 = 17;
    /// Take out what pages kept in storage, as at start (`UNSENT`).
    pub const CLAIM: u32 = 18;
    /// The consent in force (0 pending, 1 granted, 2 denied: stop the
    /// recorder, drop the app's spans, remove every key the agent
    /// writes), and whether to start again (`init` with the same options).
    pub const CONSENT: u32 = 19;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// `NAME = value` of each constant in a source text, by the pattern
    /// its lines follow (`pub const NAME: u32 = N;`, `export const NAME = N;`).
    fn consts(text: &str, start: &str) -> BTreeMap<String, u32> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(start))
            .filter_map(|l| {
                let (name, rest) = l.split_once(|c| c == ':' || c == ' ')?;
                let value = rest.rsplit_once('=')?.1.trim().trim_end_matches(';');
                Some((name.to_string(), value.parse().ok()?))
            })
            .collect()
    }

    #[test]
    fn js_protocol_has_the_same_numbers() {
        let rust = include_str!("protocol.rs");
        let (recs, cmds) = rust.split_once("pub mod cmd").unwrap();
        let mut want = consts(recs, "pub const ");
        // The page's name for a URL observation.
        let url = want.remove("URL").unwrap();
        want.insert("URL_CHANGE".into(), url);
        for (k, v) in consts(cmds.split("#[cfg(test)]").next().unwrap(), "pub const ") {
            want.insert(format!("C_{k}"), v);
        }
        let mut js = consts(include_str!("../../js/protocol.js"), "export const ");
        js.remove("PROBE");
        assert_eq!(js, want);
    }

    #[test]
    fn js_matches_what_frustration_calls_actionable() {
        let js = include_str!("../../js/protocol.js");
        let line = js.lines().find_map(|l| l.strip_prefix("export const ACTIONABLE = '")).unwrap();
        assert_eq!(line.trim_end_matches("';"), crate::core::frustration::ACTIONABLE);
    }
}
