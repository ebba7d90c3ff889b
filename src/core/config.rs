//! `init` options and attribute values: validated strictly, reported by
//! name.
//!
//! The page's options object arrives as a [`ConfigValue`] tree (the JS
//! side only walks it); everything after that is here, so the rules are
//! tested natively and fuzzed. A wrong option is an error naming it, never
//! a silent default.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::consent::{State as Consent, EXPECTED as CONSENTS};
use super::num::push_f64;
use super::span::Value;

/// A JS value as the config parser sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// `undefined`: treated as absent.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Str(String),
    /// A `RegExp`, by its index in the page's list of the options'
    /// regular expressions.
    Regex(u32),
    /// An array.
    Array(Vec<ConfigValue>),
    /// A plain object, keys in order.
    Object(Vec<(String, ConfigValue)>),
    /// Anything else (a function, a symbol), by its JS type name.
    Other(String),
}

impl ConfigValue {
    /// The JS type name used in messages.
    pub fn type_name(&self) -> &str {
        match self {
            ConfigValue::Undefined => "undefined",
            ConfigValue::Null => "null",
            ConfigValue::Bool(_) => "boolean",
            ConfigValue::Number(_) => "number",
            ConfigValue::Str(_) => "string",
            ConfigValue::Regex(_) => "RegExp",
            ConfigValue::Array(_) => "array",
            ConfigValue::Object(_) => "object",
            ConfigValue::Other(t) => t,
        }
    }
}

/// A bad option: which one, and what is wrong with it.
///
/// ```
/// use waggle_rum::core::config::{Config, ConfigValue};
/// let err = Config::parse(&ConfigValue::Object(vec![])).unwrap_err();
/// assert_eq!(err.option, "serviceName");
/// assert_eq!(err.text(), "waggle: option `serviceName` is required: init({ serviceName: 'my-app' })");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The option's path, such as `batch.maxQueueSize`.
    pub option: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl ConfigError {
    /// The console text: ``waggle: option `name` message``.
    pub fn text(&self) -> String {
        let mut s = String::from("waggle: option `");
        s.push_str(&self.option);
        s.push_str("` ");
        s.push_str(&self.message);
        s
    }
}

/// A URL pattern in an allow-list or ignore-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlPattern {
    /// Matches URLs that start with this string.
    Prefix(String),
    /// Matches URLs the page's regular expression with this index matches.
    Regex(u32),
}

/// Which instrumentations run, as bits (see [`inst`]).
pub type Instrumentations = u32;

/// The instrumentation bits, in the order of their option names in
/// [`INSTRUMENTATION_NAMES`].
pub mod inst {
    /// `documentLoad`, `documentFetch`, `resourceFetch`.
    pub const DOCUMENT_LOAD: u32 = 1;
    /// `fetch` calls.
    pub const FETCH: u32 = 2;
    /// `XMLHttpRequest` calls.
    pub const XHR: u32 = 4;
    /// Clicks and the other `interactionEvents`.
    pub const INTERACTIONS: u32 = 8;
    /// SPA route changes.
    pub const ROUTE_CHANGES: u32 = 16;
    /// LCP, CLS, INP, FCP, TTFB.
    pub const WEB_VITALS: u32 = 32;
    /// Uncaught errors, unhandled rejections, resource load failures.
    pub const ERRORS: u32 = 64;
    /// `console.error` calls (off by default).
    pub const CONSOLE_ERRORS: u32 = 128;
    /// Frames blocked long enough, as `longAnimationFrame` spans.
    pub const LONG_ANIMATION_FRAMES: u32 = 256;
}

/// The `instrumentations` option's keys, bit 0 first.
pub const INSTRUMENTATION_NAMES: [&str; 9] =
    ["documentLoad", "fetch", "xhr", "interactions", "routeChanges", "webVitals", "errors", "consoleErrors", "longAnimationFrames"];

/// What `sampleRate` keeps or drops whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleBy {
    /// Each trace on its own.
    Trace,
    /// Each session on its own: all of its traces or none.
    Session,
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `service.name`.
    pub service_name: String,
    /// `service.version`.
    pub service_version: Option<String>,
    /// `deployment.environment.name`.
    pub environment: Option<String>,
    /// The Collector's OTLP/HTTP base URL (or a path on this origin);
    /// spans go to `{endpoint}/v1/traces`.
    pub endpoint: String,
    /// Ratio of new traces recorded.
    pub sample_rate: f64,
    /// Cross-origin URLs that may receive `traceparent`.
    pub propagate_urls: Vec<UrlPattern>,
    /// URLs whose requests are not traced.
    pub ignore_urls: Vec<UrlPattern>,
    /// Extra query keys whose values are redacted from recorded URLs.
    pub redact_query_params: Vec<String>,
    /// Attributes added to every span.
    pub attributes: Vec<(String, Value)>,
    /// Instrumentations switched on ([`inst`] bits).
    pub instrumentations: Instrumentations,
    /// Spans per request.
    pub max_export_batch_size: usize,
    /// How long a span may wait for more before a request is sent, ms.
    pub scheduled_delay_ms: u32,
    /// Spans held while requests are pending; beyond it the oldest go.
    pub max_queue_size: usize,
    /// DOM events recorded as interaction spans.
    pub interaction_events: Vec<String>,
    /// A session ends after this long without user activity, minutes.
    pub session_inactivity_minutes: f64,
    /// A session ends this long after it began, minutes.
    pub session_max_minutes: f64,
    /// Keep the session in `localStorage` across reloads and tabs.
    pub session_persist: bool,
    /// What sampling keeps or drops whole.
    pub sample_by: SampleBy,
    /// Log what the agent does to the console.
    pub debug: bool,
    /// `debug.traceUrl`: a link to each trace, `{traceId}` standing for
    /// its id (empty: none).
    pub trace_url: String,
    /// What may be sent and stored from the start ([`super::consent`]).
    pub consent: Consent,
}

/// The `endpoint` used when none is given: a Collector on this machine.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

impl Default for Config {
    fn default() -> Self {
        Config {
            service_name: String::new(),
            service_version: None,
            environment: None,
            endpoint: String::from(DEFAULT_ENDPOINT),
            sample_rate: 1.0,
            propagate_urls: Vec::new(),
            ignore_urls: Vec::new(),
            redact_query_params: Vec::new(),
            attributes: Vec::new(),
            instrumentations: 383,
            max_export_batch_size: 512,
            scheduled_delay_ms: 1000,
            max_queue_size: 20_000,
            interaction_events: vec![String::from("click")],
            session_inactivity_minutes: 15.0,
            session_max_minutes: 240.0,
            session_persist: true,
            sample_by: SampleBy::Trace,
            debug: false,
            trace_url: String::new(),
            consent: Consent::Granted,
        }
    }
}

// The options, as a table the parser walks: each is a name, a kind, a
// slot (where its value goes, or its nested table), and what it must be.
const OBJECT: u8 = 0;
const TEXT: u8 = 1;
const FLAG: u8 = 2;
const WHOLE: u8 = 3;
const RATE: u8 = 4;
const MINUTES: u8 = 5;
const PATTERNS: u8 = 6;
const LIST: u8 = 7;
const ATTRIBUTES: u8 = 8;
const SAMPLE_BY: u8 = 9;
const CONSENT: u8 = 10;

// The fifth item is how the default reads in the debug line.
type Table = &'static [(&'static str, u8, u8, &'static str, &'static str)];

const TOP: Table = &[
    ("serviceName", TEXT, 0, "a string", ""),
    ("serviceVersion", TEXT, 1, "a string", "undefined"),
    ("environment", TEXT, 2, "a string", "undefined"),
    ("endpoint", TEXT, 3, "a string", "'http://localhost:4318'"),
    ("sampleRate", RATE, 5, "a number from 0 to 1", "1"),
    ("propagateTraceHeaderCorsUrls", PATTERNS, 0, "a string, a RegExp or an array of them", "[]"),
    ("ignoreUrls", PATTERNS, 1, "a string, a RegExp or an array of them", "[]"),
    ("redactQueryParams", LIST, 0, "an array of strings", "[]"),
    ("attributes", ATTRIBUTES, 0, "an object of attribute values", "{}"),
    ("instrumentations", OBJECT, 1, "an object such as { xhr: false }", ""),
    ("batch", OBJECT, 2, "an object such as { maxExportBatchSize: 512 }", ""),
    ("interactionEvents", LIST, 1, "an array of event names such as ['click', 'submit']", "['click']"),
    ("session", OBJECT, 3, "an object such as { inactivityMinutes: 15 }", ""),
    ("sampleBy", SAMPLE_BY, 0, "'trace' or 'session'", "'trace'"),
    ("consent", CONSENT, 0, CONSENTS, "'granted'"),
    ("debug", FLAG, 30, "a boolean or an object such as { traceUrl: '…{traceId}' }", "false"),
    // Read by the JS side before the module exists; checked here so a
    // wrong type is still reported by name.
    ("wasmUrl", TEXT, 4, "a string", "undefined"),
];

const INSTRUMENTATIONS: Table = &[
    ("documentLoad", FLAG, 0, "a boolean", "true"),
    ("fetch", FLAG, 1, "a boolean", "true"),
    ("xhr", FLAG, 2, "a boolean", "true"),
    ("interactions", FLAG, 3, "a boolean", "true"),
    ("routeChanges", FLAG, 4, "a boolean", "true"),
    ("webVitals", FLAG, 5, "a boolean", "true"),
    ("errors", FLAG, 6, "a boolean", "true"),
    ("consoleErrors", FLAG, 7, "a boolean", "false"),
    ("longAnimationFrames", FLAG, 8, "a boolean", "true"),
];

const BATCH: Table = &[
    ("maxExportBatchSize", WHOLE, 0, "a number", "512"),
    ("scheduledDelayMillis", WHOLE, 1, "a number", "1000"),
    ("maxQueueSize", WHOLE, 2, "a number", "20000"),
];

const SESSION: Table = &[
    ("inactivityMinutes", MINUTES, 3, "a number of minutes", "15"),
    ("maxMinutes", MINUTES, 4, "a number of minutes", "240"),
    ("persist", FLAG, 31, "a boolean", "true"),
];

const DEBUG: Table = &[("traceUrl", TEXT, 5, "a string", "undefined")];

const TABLES: [Table; 5] = [TOP, INSTRUMENTATIONS, BATCH, SESSION, DEBUG];

/// The range of each whole-number slot.
const WHOLE_RANGE: [(f64, f64); 3] = [(1.0, 10_000.0), (0.0, 60_000.0), (1.0, 1_000_000.0)];

/// A message from pieces.
fn msg(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(p);
    }
    s
}

fn num(n: f64) -> String {
    let mut s = Vec::new();
    push_f64(&mut s, n);
    super::num::bytes_to_string(s)
}

/// A table's options as given, or their defaults.
fn show(out: &mut Vec<u8>, table: Table, given: &[(String, ConfigValue)]) {
    out.extend_from_slice(b"{ ");
    for (i, &(name, kind, slot, _, default)) in table.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        match given.iter().find(|(k, v)| k == name && *v != ConfigValue::Undefined).map(|(_, v)| v) {
            // `debug` as an object has a table too.
            Some(ConfigValue::Object(e)) if kind != ATTRIBUTES => show(out, if kind == OBJECT { TABLES[slot as usize] } else { DEBUG }, e),
            Some(v) => shown(out, v),
            None if kind == OBJECT => show(out, TABLES[slot as usize], &[]),
            None => out.extend_from_slice(default.as_bytes()),
        }
    }
    out.extend_from_slice(b" }");
}

/// A value as JavaScript writes it.
fn shown(out: &mut Vec<u8>, v: &ConfigValue) {
    match v {
        ConfigValue::Str(s) => {
            out.push(b'\'');
            out.extend_from_slice(s.as_bytes());
            out.push(b'\'');
        }
        ConfigValue::Number(n) => push_f64(out, *n),
        ConfigValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        ConfigValue::Regex(i) => {
            out.push(1);
            push_f64(out, f64::from(*i));
        }
        ConfigValue::Array(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                shown(out, x);
            }
            out.push(b']');
        }
        ConfigValue::Object(e) => {
            out.push(b'{');
            for (k, x) in e {
                out.extend_from_slice(b" '");
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"': ");
                shown(out, x);
                out.push(b',');
            }
            // `{ 'a': 1, 'b': 2 }`, `{}`.
            if !e.is_empty() {
                out.pop();
                out.push(b' ');
            }
            out.push(b'}');
        }
        other => out.extend_from_slice(other.type_name().as_bytes()),
    }
}

fn err(option: &str, message: String) -> ConfigError {
    ConfigError { option: String::from(option), message }
}

fn path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        String::from(key)
    } else {
        msg(&[prefix, ".", key])
    }
}

fn unknown(option: String, key: &str, table: Table) -> ConfigError {
    if let Some(c) = table.iter().find(|c| c.0.eq_ignore_ascii_case(key)) {
        return err(&option, msg(&["is not an option; did you mean `", c.0, "`?"]));
    }
    let mut m = String::from("is not an option; known options: ");
    for (i, c) in table.iter().enumerate() {
        if i > 0 {
            m.push_str(", ");
        }
        m.push_str(c.0);
    }
    err(&option, m)
}

/// A non-empty string, or why not.
fn text(v: &ConfigValue) -> Result<&str, &'static str> {
    match v {
        ConfigValue::Str(s) if s.trim().is_empty() => Err("must not be empty"),
        ConfigValue::Str(s) => Ok(s),
        _ => Err(""),
    }
}

/// What an attribute value may be: a string, a number, a boolean, or an
/// array of one of those (OTLP arrays hold one type). `Err` names what was
/// given instead, for the message.
///
/// ```
/// use waggle_rum::core::config::{attribute_value, ConfigValue::*};
/// use waggle_rum::core::span::Value;
/// assert_eq!(attribute_value(&Number(2.0)), Ok(Value::Int(2)));
/// assert!(attribute_value(&Array(vec![Str("a".into()), Str("b".into())])).is_ok());
/// assert_eq!(attribute_value(&Array(vec![Str("a".into()), Number(1.0)])), Err("an array of mixed types"));
/// assert_eq!(attribute_value(&Object(vec![])), Err("object"));
/// ```
pub fn attribute_value(v: &ConfigValue) -> Result<Value, &str> {
    fn scalar(v: &ConfigValue) -> Option<Value> {
        match v {
            ConfigValue::Str(s) => Some(Value::Str(s.clone())),
            ConfigValue::Number(n) => Some(Value::number(*n)),
            ConfigValue::Bool(b) => Some(Value::Bool(*b)),
            _ => None,
        }
    }
    if let Some(s) = scalar(v) {
        return Ok(s);
    }
    let ConfigValue::Array(items) = v else { return Err(v.type_name()) };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let s = scalar(item).ok_or("an array holding something other than strings, numbers or booleans")?;
        let same = match (out.first(), &s) {
            (None, _) => true,
            (Some(Value::Str(_)), Value::Str(_)) | (Some(Value::Bool(_)), Value::Bool(_)) => true,
            (Some(Value::Int(_) | Value::F64(_)), Value::Int(_) | Value::F64(_)) => true,
            _ => false,
        };
        if !same {
            return Err("an array of mixed types");
        }
        out.push(s);
    }
    // Numbers in one array share a type: all whole, or all doubles.
    if out.iter().any(|v| matches!(v, Value::F64(_))) {
        for v in out.iter_mut() {
            if let Value::Int(i) = v {
                *v = Value::F64(*i as f64);
            }
        }
    }
    Ok(Value::Arr(out))
}

/// A consent state (`consent`, `setConsent`) from the page's value.
///
/// ```
/// use waggle_rum::core::config::{consent_value, ConfigValue::*};
/// use waggle_rum::core::consent::State;
/// assert_eq!(consent_value(&Str("pending".into())), Some(State::Pending));
/// assert_eq!(consent_value(&Bool(true)), None);
/// ```
pub fn consent_value(v: &ConfigValue) -> Option<Consent> {
    match v {
        ConfigValue::Str(s) => Consent::parse(s),
        _ => None,
    }
}

/// What is wrong with `v` for an option that takes one of a few strings
/// (`expected`): the string given, or the type.
///
/// ```
/// use waggle_rum::core::config::{choice_error, ConfigValue::*};
/// assert_eq!(choice_error("'a' or 'b'", &Str("c".into())), "must be 'a' or 'b', got \"c\"");
/// assert_eq!(choice_error("'a' or 'b'", &Null), "must be 'a' or 'b', got null");
/// ```
pub fn choice_error(expected: &str, v: &ConfigValue) -> String {
    match v {
        ConfigValue::Str(s) => msg(&["must be ", expected, ", got \"", s, "\""]),
        other => msg(&["must be ", expected, ", got ", other.type_name()]),
    }
}

/// What attribute values may be, for messages.
pub const ATTRIBUTE_TYPES: &str = "a string, number, boolean or an array of one of those";

/// Reads an attributes object (`init`'s `attributes`, `setUser`,
/// `setGlobalAttributes`): the good keys as attributes, and for each bad
/// key a message naming it. `undefined` values are skipped; `null` values
/// are reported as `None` (they remove the key where that means something).
pub fn attributes(prefix: &str, entries: &[(String, ConfigValue)]) -> (Vec<(String, Option<Value>)>, Vec<ConfigError>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (k, v) in entries {
        match v {
            ConfigValue::Undefined => {}
            ConfigValue::Null => good.push((k.clone(), None)),
            v => match attribute_value(v) {
                Ok(value) => good.push((k.clone(), Some(value))),
                Err(got) => bad.push(err(&path(prefix, k), msg(&["must be ", ATTRIBUTE_TYPES, ", got ", got]))),
            },
        }
    }
    (good, bad)
}

impl Config {
    /// Validates the options object given to `init`.
    pub fn parse(input: &ConfigValue) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let ConfigValue::Object(entries) = input else {
            return Err(err("options", msg(&["must be an object such as { serviceName: 'my-app' }, got ", input.type_name()])));
        };
        if !entries.iter().any(|(k, v)| k == "serviceName" && *v != ConfigValue::Undefined) {
            return Err(err("serviceName", String::from("is required: init({ serviceName: 'my-app' })")));
        }
        c.walk("", entries, TOP)?;
        if c.max_queue_size < c.max_export_batch_size {
            return Err(err("batch.maxQueueSize", String::from("must be at least batch.maxExportBatchSize")));
        }
        Ok(c)
    }

    fn walk(&mut self, prefix: &str, entries: &[(String, ConfigValue)], table: Table) -> Result<(), ConfigError> {
        for (k, v) in entries {
            let option = path(prefix, k);
            let Some(&(_, kind, slot, expected, _)) = table.iter().find(|o| o.0 == k) else {
                return Err(unknown(option, k, table));
            };
            if *v == ConfigValue::Undefined {
                continue;
            }
            let wrong = || err(&option, msg(&["must be ", expected, ", got ", v.type_name()]));
            let n = match v {
                ConfigValue::Number(n) => *n,
                _ => f64::NAN,
            };
            match kind {
                OBJECT => match v {
                    ConfigValue::Object(e) => self.walk(&option, e, TABLES[slot as usize])?,
                    _ => return Err(wrong()),
                },
                TEXT => {
                    let t = text(v).map_err(|m| if m.is_empty() { wrong() } else { err(&option, String::from(m)) })?;
                    self.set_text(slot, t).map_err(|m| err(&option, m))?;
                }
                // `debug` may be an object of its own options.
                FLAG if slot == 30 && matches!(v, ConfigValue::Object(_)) => {
                    self.debug = true;
                    if let ConfigValue::Object(e) = v {
                        self.walk(&option, e, DEBUG)?;
                    }
                }
                FLAG => {
                    let ConfigValue::Bool(b) = v else { return Err(wrong()) };
                    match slot {
                        30 => self.debug = *b,
                        31 => self.session_persist = *b,
                        bit if *b => self.instrumentations |= 1 << bit,
                        bit => self.instrumentations &= !(1 << bit),
                    }
                }
                WHOLE => {
                    let (lo, hi) = WHOLE_RANGE[slot as usize];
                    if n.is_nan() {
                        return Err(wrong());
                    }
                    if super::num::trunc(n) != n || n < lo || n > hi {
                        return Err(err(&option, msg(&["must be a whole number from ", &num(lo), " to ", &num(hi), ", got ", &num(n)])));
                    }
                    match slot {
                        0 => self.max_export_batch_size = n as usize,
                        1 => self.scheduled_delay_ms = n as u32,
                        _ => self.max_queue_size = n as usize,
                    }
                }
                RATE | MINUTES => {
                    if n.is_nan() {
                        return Err(wrong());
                    }
                    if kind == RATE && (0.0..=1.0).contains(&n) {
                        self.sample_rate = n;
                    } else if kind == MINUTES && n > 0.0 && n <= 10_080.0 {
                        if slot == 3 {
                            self.session_inactivity_minutes = n;
                        } else {
                            self.session_max_minutes = n;
                        }
                    } else {
                        let bound = if kind == RATE { "must be from 0 to 1, got " } else { "must be more than 0 and at most 10080 (a week), got " };
                        return Err(err(&option, msg(&[bound, &num(n)])));
                    }
                }
                PATTERNS => {
                    let one = |v: &ConfigValue| match v {
                        ConfigValue::Str(s) if !s.is_empty() => Ok(UrlPattern::Prefix(s.clone())),
                        ConfigValue::Str(_) => Err(err(&option, String::from("must not contain an empty string (it would match every URL)"))),
                        ConfigValue::Regex(i) => Ok(UrlPattern::Regex(*i)),
                        other => Err(err(&option, msg(&["must be ", expected, ", got ", other.type_name()]))),
                    };
                    let mut out = Vec::new();
                    match v {
                        ConfigValue::Array(items) => {
                            for i in items {
                                out.push(one(i)?);
                            }
                        }
                        single => out.push(one(single)?),
                    }
                    if slot == 0 {
                        self.propagate_urls = out;
                    } else {
                        self.ignore_urls = out;
                    }
                }
                LIST => {
                    let ConfigValue::Array(items) = v else { return Err(wrong()) };
                    let mut out = Vec::new();
                    for i in items {
                        match text(i) {
                            Ok(t) => out.push(String::from(t)),
                            Err("") => return Err(err(&option, msg(&["must be ", expected, ", got an array holding ", i.type_name()]))),
                            Err(m) => return Err(err(&option, String::from(m))),
                        }
                    }
                    if slot == 0 {
                        self.redact_query_params = out;
                    } else {
                        self.interaction_events = out;
                    }
                }
                ATTRIBUTES => {
                    let ConfigValue::Object(e) = v else { return Err(wrong()) };
                    let (good, mut bad) = attributes(&option, e);
                    if !bad.is_empty() {
                        return Err(bad.swap_remove(0));
                    }
                    for (k, v) in good {
                        match v {
                            Some(v) => self.attributes.push((k, v)),
                            None => return Err(err(&path(&option, &k), msg(&["must be ", ATTRIBUTE_TYPES, ", got null"]))),
                        }
                    }
                }
                CONSENT => self.consent = consent_value(v).ok_or_else(|| err(&option, choice_error(expected, v)))?,
                _ => {
                    self.sample_by = match v {
                        ConfigValue::Str(s) if s == "trace" => SampleBy::Trace,
                        ConfigValue::Str(s) if s == "session" => SampleBy::Session,
                        _ => return Err(err(&option, choice_error(expected, v))),
                    }
                }
            }
        }
        Ok(())
    }

    fn set_text(&mut self, slot: u8, t: &str) -> Result<(), String> {
        let t = String::from(t);
        match slot {
            0 => self.service_name = t,
            1 => self.service_version = Some(t),
            2 => self.environment = Some(t),
            3 => {
                let trimmed = t.trim_end_matches('/');
                if trimmed.ends_with("/v1/traces") {
                    return Err(String::from("is the Collector's base URL; leave out `/v1/traces`, it is added"));
                }
                if !(trimmed.starts_with("http://") || trimmed.starts_with("https://") || (trimmed.starts_with('/') && !trimmed.starts_with("//"))) {
                    return Err(msg(&["must be an http(s) URL or a path on this origin, got \"", &t, "\""]));
                }
                self.endpoint = String::from(trimmed);
            }
            4 => {}
            _ => {
                if !super::text::contains(&t, "{traceId}") {
                    return Err(String::from("must contain {traceId}, where a trace's id goes"));
                }
                self.trace_url = t;
            }
        }
        Ok(())
    }

    /// The options as one console line (`debug`), `options` as given to
    /// [`Config::parse`]: every option with its value, the default where
    /// none was given, in the order of the options table; then the
    /// instrumentations that run and where spans go. A RegExp is written as
    /// `\u{1}` and its index, for the page to put its source in.
    pub fn describe(&self, options: &ConfigValue, traces_url: &str) -> String {
        let mut out = Vec::from(&b"started with "[..]);
        let given = match options {
            ConfigValue::Object(e) => e.as_slice(),
            _ => &[],
        };
        show(&mut out, TOP, given);
        out.extend_from_slice(b"; instrumentations on:");
        for (i, name) in INSTRUMENTATION_NAMES.iter().enumerate() {
            if self.on(1 << i) {
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
            }
        }
        out.extend_from_slice(b"; spans go to ");
        out.extend_from_slice(traces_url.as_bytes());
        super::num::bytes_to_string(out)
    }

    /// `{endpoint}/v1/traces`, absolute: a path is on `origin`.
    ///
    /// ```
    /// use waggle_rum::core::config::Config;
    /// let c = Config { endpoint: "/otel".into(), ..Config::default() };
    /// assert_eq!(c.traces_url("https://shop.test"), "https://shop.test/otel/v1/traces");
    /// ```
    pub fn traces_url(&self, origin: &str) -> String {
        let mut u = super::url::absolute(&self.endpoint, origin);
        u.push_str("/v1/traces");
        u
    }

    /// Whether an instrumentation ([`inst`] bit) is on.
    pub fn on(&self, bit: u32) -> bool {
        self.instrumentations & bit != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConfigValue::*;

    fn obj(e: &[(&str, ConfigValue)]) -> ConfigValue {
        Object(e.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn name() -> (&'static str, ConfigValue) {
        ("serviceName", Str("shop".into()))
    }

    #[test]
    fn minimal_config_gets_the_defaults() {
        let c = Config::parse(&obj(&[name()])).unwrap();
        assert_eq!(c.service_name, "shop");
        assert_eq!(c.traces_url("https://x.test"), "http://localhost:4318/v1/traces");
        assert_eq!(c.max_export_batch_size, 512);
        assert!(c.on(inst::FETCH) && !c.on(inst::CONSOLE_ERRORS));
        assert_eq!(c.consent, Consent::Granted);
        let c = Config::parse(&obj(&[name(), ("consent", Str("pending".into()))])).unwrap();
        assert_eq!(c.consent, Consent::Pending);
    }

    #[test]
    fn every_bad_option_is_named() {
        let cases: Vec<(ConfigValue, &str, &str)> = vec![
            (Str("x".into()), "options", "must be an object"),
            (obj(&[]), "serviceName", "is required"),
            (obj(&[("serviceName", Number(3.0))]), "serviceName", "must be a string, got number"),
            (obj(&[("serviceName", Str("  ".into()))]), "serviceName", "must not be empty"),
            (obj(&[name(), ("servicename", Str("x".into()))]), "servicename", "did you mean `serviceName`"),
            (obj(&[name(), ("bogus", Bool(true))]), "bogus", "is not an option; known options: serviceName, "),
            (obj(&[name(), ("endpoint", Number(4318.0))]), "endpoint", "must be a string"),
            (obj(&[name(), ("endpoint", Str("http://c/v1/traces".into()))]), "endpoint", "leave out `/v1/traces`"),
            (obj(&[name(), ("endpoint", Str("localhost:4318".into()))]), "endpoint", "http(s) URL"),
            (obj(&[name(), ("endpoint", Str("//evil.test".into()))]), "endpoint", "http(s) URL"),
            (obj(&[name(), ("sampleRate", Number(1.5))]), "sampleRate", "must be from 0 to 1, got 1.5"),
            (obj(&[name(), ("sampleRate", Str("0.5".into()))]), "sampleRate", "got string"),
            (obj(&[name(), ("debug", Str("yes".into()))]), "debug", "must be a boolean"),
            (obj(&[name(), ("ignoreUrls", Array(vec![Number(1.0)]))]), "ignoreUrls", "a string, a RegExp"),
            (obj(&[name(), ("ignoreUrls", Str(String::new()))]), "ignoreUrls", "empty string"),
            (obj(&[name(), ("attributes", obj(&[("a", Null)]))]), "attributes.a", "got null"),
            (obj(&[name(), ("attributes", obj(&[("a", obj(&[]))]))]), "attributes.a", "got object"),
            (obj(&[name(), ("instrumentations", obj(&[("fetch", Number(0.0))]))]), "instrumentations.fetch", "boolean"),
            (obj(&[name(), ("instrumentations", obj(&[("clicks", Bool(true))]))]), "instrumentations.clicks", "not an option"),
            (obj(&[name(), ("batch", obj(&[("maxExportBatchSize", Number(0.5))]))]), "batch.maxExportBatchSize", "must be a whole number from 1 to 10000, got 0.5"),
            (obj(&[name(), ("batch", obj(&[("maxQueueSize", Number(10.0))]))]), "batch.maxQueueSize", "at least"),
            (obj(&[name(), ("redactQueryParams", Str("k".into()))]), "redactQueryParams", "array of strings"),
            (obj(&[name(), ("interactionEvents", Str("click".into()))]), "interactionEvents", "array of event names"),
            (obj(&[name(), ("session", obj(&[("inactivityMinutes", Number(0.0))]))]), "session.inactivityMinutes", "more than 0"),
            (obj(&[name(), ("session", obj(&[("persist", Str("no".into()))]))]), "session.persist", "boolean"),
            (obj(&[name(), ("sampleBy", Str("user".into()))]), "sampleBy", "'trace' or 'session'"),
            (obj(&[name(), ("consent", Str("yes".into()))]), "consent", "must be 'granted', 'pending' or 'denied', got \"yes\""),
            (obj(&[name(), ("consent", Bool(false))]), "consent", "must be 'granted', 'pending' or 'denied', got boolean"),
            (obj(&[name(), ("Consent", Str("denied".into()))]), "Consent", "did you mean `consent`?"),
            (obj(&[name(), ("wasmUrl", Bool(true))]), "wasmUrl", "must be a string"),
            (obj(&[name(), ("debug", Other("function".into()))]), "debug", "got function"),
            (obj(&[name(), ("debug", Number(1.0))]), "debug", "must be a boolean or an object such as { traceUrl: '…{traceId}' }, got number"),
            (obj(&[name(), ("debug", obj(&[("traceURL", Str("x".into()))]))]), "debug.traceURL", "did you mean `traceUrl`?"),
            (obj(&[name(), ("debug", obj(&[("traceUrl", Bool(true))]))]), "debug.traceUrl", "must be a string, got boolean"),
            (obj(&[name(), ("debug", obj(&[("traceUrl", Str("https://ui.test/trace".into()))]))]), "debug.traceUrl", "must contain {traceId}"),
        ];
        for (input, option, fragment) in cases {
            let e = Config::parse(&input).unwrap_err();
            assert_eq!(e.option, option, "{input:?}");
            assert!(e.text().contains(fragment), "{} should contain {fragment}", e.text());
            assert!(e.text().starts_with(&format!("waggle: option `{option}` ")));
        }
    }

    #[test]
    fn full_config() {
        let c = Config::parse(&obj(&[
            name(),
            ("serviceVersion", Str("1.0".into())),
            ("environment", Str("prod".into())),
            ("endpoint", Str("https://otel.example.com/".into())),
            ("sampleRate", Number(0.5)),
            ("propagateTraceHeaderCorsUrls", Array(vec![Str("https://api.example.com".into()), Regex(0)])),
            ("ignoreUrls", Regex(1)),
            ("attributes", obj(&[("app.tier", Str("gold".into())), ("skip", Undefined), ("app.tags", Array(vec![Str("a".into())]))])),
            ("instrumentations", obj(&[("xhr", Bool(false)), ("consoleErrors", Bool(true))])),
            ("batch", obj(&[("scheduledDelayMillis", Number(0.0))])),
            ("debug", Bool(true)),
            ("serviceVersion", Undefined),
        ]))
        .unwrap();
        assert_eq!(c.endpoint, "https://otel.example.com");
        assert_eq!(c.propagate_urls, vec![UrlPattern::Prefix("https://api.example.com".into()), UrlPattern::Regex(0)]);
        assert_eq!(c.ignore_urls, vec![UrlPattern::Regex(1)]);
        assert_eq!(c.attributes.len(), 2);
        assert!(!c.on(inst::XHR) && c.on(inst::FETCH) && c.on(inst::CONSOLE_ERRORS));
        assert_eq!(c.scheduled_delay_ms, 0);
        assert!(c.debug);
    }

    #[test]
    fn debug_is_a_boolean_or_an_object_with_a_trace_link() {
        let on = |v: ConfigValue| Config::parse(&obj(&[name(), ("debug", v)])).unwrap();
        let c = on(Bool(true));
        assert!(c.debug && c.trace_url.is_empty());
        let c = on(obj(&[]));
        assert!(c.debug && c.trace_url.is_empty(), "an empty object is debug without links");
        let c = on(obj(&[("traceUrl", Str("https://ui.honeycomb.io/t/environments/e/trace?trace_id={traceId}".into()))]));
        assert!(c.debug);
        assert_eq!(c.trace_url, "https://ui.honeycomb.io/t/environments/e/trace?trace_id={traceId}");
        assert!(!on(Bool(false)).debug);
    }

    #[test]
    fn the_debug_init_line_names_every_option_with_its_value() {
        let given = obj(&[name()]);
        let c = Config::parse(&given).unwrap();
        assert_eq!(
            c.describe(&given, "http://localhost:4318/v1/traces"),
            "started with { serviceName: 'shop', serviceVersion: undefined, environment: undefined, endpoint: 'http://localhost:4318', \
             sampleRate: 1, propagateTraceHeaderCorsUrls: [], ignoreUrls: [], redactQueryParams: [], attributes: {}, \
             instrumentations: { documentLoad: true, fetch: true, xhr: true, interactions: true, routeChanges: true, webVitals: true, errors: true, consoleErrors: false, longAnimationFrames: true }, \
             batch: { maxExportBatchSize: 512, scheduledDelayMillis: 1000, maxQueueSize: 20000 }, interactionEvents: ['click'], \
             session: { inactivityMinutes: 15, maxMinutes: 240, persist: true }, sampleBy: 'trace', consent: 'granted', debug: false, wasmUrl: undefined }; \
             instrumentations on: documentLoad fetch xhr interactions routeChanges webVitals errors longAnimationFrames; spans go to http://localhost:4318/v1/traces"
        );
        let given = obj(&[
            name(),
            ("serviceVersion", Str("1.2".into())),
            ("sampleRate", Number(0.25)),
            ("propagateTraceHeaderCorsUrls", Array(vec![Str("https://api.test/".into()), Regex(3)])),
            ("attributes", obj(&[("app.tier", Str("gold".into())), ("app.n", Array(vec![Number(1.0), Number(2.5)])), ("app.on", Bool(true))])),
            ("instrumentations", obj(&[("xhr", Bool(false)), ("consoleErrors", Bool(true))])),
            ("interactionEvents", Array(vec![Str("click".into()), Str("submit".into())])),
            ("sampleBy", Str("session".into())),
            ("debug", obj(&[("traceUrl", Str("https://ui.test/t?id={traceId}".into()))])),
            ("wasmUrl", Str("/assets/w.wasm".into())),
            ("environment", Undefined),
        ]);
        let c = Config::parse(&given).unwrap();
        let line = c.describe(&given, "https://x.test/v1/traces");
        for part in [
            "serviceVersion: '1.2'",
            "sampleRate: 0.25",
            "propagateTraceHeaderCorsUrls: ['https://api.test/', \u{1}3]",
            "attributes: { 'app.tier': 'gold', 'app.n': [1, 2.5], 'app.on': true }",
            "xhr: false",
            "consoleErrors: true",
            "interactionEvents: ['click', 'submit']",
            "sampleBy: 'session'",
            "debug: { traceUrl: 'https://ui.test/t?id={traceId}' }",
            "wasmUrl: '/assets/w.wasm'",
            "environment: undefined,",
            "instrumentations: { documentLoad: true, fetch: true, xhr: false, ",
            "instrumentations on: documentLoad fetch interactions routeChanges webVitals errors consoleErrors longAnimationFrames;",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
    }

    #[test]
    fn attribute_objects_report_each_bad_key() {
        let (good, bad) = attributes("setUser", &[
            ("id".into(), Str("42".into())),
            ("name".into(), obj(&[("x", Number(1.0))])),
            ("gone".into(), Null),
            ("n".into(), Array(vec![Number(1.0), Number(2.5)])),
            ("skip".into(), Undefined),
        ]);
        assert_eq!(good.len(), 3);
        assert_eq!(good[2].1, Some(Value::Arr(vec![Value::F64(1.0), Value::F64(2.5)])));
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].option, "setUser.name");
        assert_eq!(bad[0].text(), "waggle: option `setUser.name` must be a string, number, boolean or an array of one of those, got object");
    }
}
