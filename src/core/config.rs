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
}

/// The `instrumentations` option's keys, bit 0 first.
pub const INSTRUMENTATION_NAMES: [&str; 8] =
    ["documentLoad", "fetch", "xhr", "interactions", "routeChanges", "webVitals", "errors", "consoleErrors"];

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
            instrumentations: 127,
            max_export_batch_size: 512,
            scheduled_delay_ms: 1000,
            max_queue_size: 20_000,
            interaction_events: vec![String::from("click")],
            session_inactivity_minutes: 15.0,
            session_max_minutes: 240.0,
            session_persist: true,
            sample_by: SampleBy::Trace,
            debug: false,
        }
    }
}

const TOP: &[&str] = &[
    "serviceName",
    "serviceVersion",
    "environment",
    "endpoint",
    "sampleRate",
    "propagateTraceHeaderCorsUrls",
    "ignoreUrls",
    "redactQueryParams",
    "attributes",
    "instrumentations",
    "batch",
    "interactionEvents",
    "session",
    "sampleBy",
    "debug",
    "wasmUrl",
];

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

fn err(option: &str, message: String) -> ConfigError {
    ConfigError { option: String::from(option), message }
}

fn wrong_type(option: &str, expected: &str, got: &ConfigValue) -> ConfigError {
    err(option, msg(&["must be ", expected, ", got ", got.type_name()]))
}

fn path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        String::from(key)
    } else {
        msg(&[prefix, ".", key])
    }
}

fn check_keys(prefix: &str, entries: &[(String, ConfigValue)], known: &[&str]) -> Result<(), ConfigError> {
    for (k, _) in entries {
        if known.contains(&k.as_str()) {
            continue;
        }
        let message = match known.iter().find(|c| c.eq_ignore_ascii_case(k)) {
            Some(c) => msg(&["is not an option; did you mean `", c, "`?"]),
            None => {
                let mut m = String::from("is not an option; known options: ");
                for (i, c) in known.iter().enumerate() {
                    if i > 0 {
                        m.push_str(", ");
                    }
                    m.push_str(c);
                }
                m
            }
        };
        return Err(err(&path(prefix, k), message));
    }
    Ok(())
}

fn get<'a>(entries: &'a [(String, ConfigValue)], key: &str) -> Option<&'a ConfigValue> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != ConfigValue::Undefined)
}

fn object<'a>(opt: &str, v: &'a ConfigValue, example: &str) -> Result<&'a [(String, ConfigValue)], ConfigError> {
    match v {
        ConfigValue::Object(e) => Ok(e),
        other => Err(wrong_type(opt, example, other)),
    }
}

fn non_empty(opt: &str, v: &ConfigValue) -> Result<String, ConfigError> {
    match v {
        ConfigValue::Str(s) if s.trim().is_empty() => Err(err(opt, String::from("must not be empty"))),
        ConfigValue::Str(s) => Ok(s.clone()),
        other => Err(wrong_type(opt, "a string", other)),
    }
}

fn boolean(opt: &str, v: &ConfigValue) -> Result<bool, ConfigError> {
    match v {
        ConfigValue::Bool(b) => Ok(*b),
        other => Err(wrong_type(opt, "a boolean", other)),
    }
}

fn integer(opt: &str, v: &ConfigValue, min: f64, max: f64) -> Result<f64, ConfigError> {
    match v {
        ConfigValue::Number(n) if super::num::trunc(*n) == *n && *n >= min && *n <= max => Ok(*n),
        ConfigValue::Number(n) => Err(err(opt, msg(&["must be a whole number from ", &num(min), " to ", &num(max), ", got ", &num(*n)]))),
        other => Err(wrong_type(opt, "a number", other)),
    }
}

fn strings(opt: &str, v: &ConfigValue, expected: &str) -> Result<Vec<String>, ConfigError> {
    match v {
        ConfigValue::Array(items) => items.iter().map(|i| non_empty(opt, i)).collect(),
        other => Err(wrong_type(opt, expected, other)),
    }
}

fn patterns(opt: &str, v: &ConfigValue) -> Result<Vec<UrlPattern>, ConfigError> {
    let one = |v: &ConfigValue| match v {
        ConfigValue::Str(s) if !s.is_empty() => Ok(UrlPattern::Prefix(s.clone())),
        ConfigValue::Str(_) => Err(err(opt, String::from("must not contain an empty string (it would match every URL)"))),
        ConfigValue::Regex(i) => Ok(UrlPattern::Regex(*i)),
        other => Err(wrong_type(opt, "a string, a RegExp or an array of them", other)),
    };
    match v {
        ConfigValue::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
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
        let entries = object("options", input, "an object such as { serviceName: 'my-app' }")?;
        check_keys("", entries, TOP)?;
        let mut c = Config::default();
        c.service_name = match get(entries, "serviceName") {
            None => return Err(err("serviceName", String::from("is required: init({ serviceName: 'my-app' })"))),
            Some(v) => non_empty("serviceName", v)?,
        };
        if let Some(v) = get(entries, "serviceVersion") {
            c.service_version = Some(non_empty("serviceVersion", v)?);
        }
        if let Some(v) = get(entries, "environment") {
            c.environment = Some(non_empty("environment", v)?);
        }
        if let Some(v) = get(entries, "endpoint") {
            let e = non_empty("endpoint", v)?;
            let trimmed = e.trim_end_matches('/');
            if trimmed.ends_with("/v1/traces") {
                return Err(err("endpoint", String::from("is the Collector's base URL; leave out `/v1/traces`, it is added")));
            }
            if !(trimmed.starts_with("http://") || trimmed.starts_with("https://") || (trimmed.starts_with('/') && !trimmed.starts_with("//"))) {
                return Err(err("endpoint", msg(&["must be an http(s) URL or a path on this origin, got \"", &e, "\""])));
            }
            c.endpoint = String::from(trimmed);
        }
        if let Some(v) = get(entries, "sampleRate") {
            c.sample_rate = match v {
                ConfigValue::Number(n) if (0.0..=1.0).contains(n) => *n,
                ConfigValue::Number(n) => return Err(err("sampleRate", msg(&["must be from 0 to 1, got ", &num(*n)]))),
                other => return Err(wrong_type("sampleRate", "a number from 0 to 1", other)),
            };
        }
        if let Some(v) = get(entries, "propagateTraceHeaderCorsUrls") {
            c.propagate_urls = patterns("propagateTraceHeaderCorsUrls", v)?;
        }
        if let Some(v) = get(entries, "ignoreUrls") {
            c.ignore_urls = patterns("ignoreUrls", v)?;
        }
        if let Some(v) = get(entries, "redactQueryParams") {
            c.redact_query_params = strings("redactQueryParams", v, "an array of strings")?;
        }
        if let Some(v) = get(entries, "attributes") {
            let attrs = object("attributes", v, "an object of attribute values")?;
            let (good, mut bad) = attributes("attributes", attrs);
            if !bad.is_empty() {
                return Err(bad.swap_remove(0));
            }
            for (k, v) in good {
                match v {
                    Some(v) => c.attributes.push((k, v)),
                    None => return Err(err(&path("attributes", &k), msg(&["must be ", ATTRIBUTE_TYPES, ", got null"]))),
                }
            }
        }
        if let Some(v) = get(entries, "instrumentations") {
            let e = object("instrumentations", v, "an object such as { xhr: false }")?;
            check_keys("instrumentations", e, &INSTRUMENTATION_NAMES)?;
            for (bit, key) in INSTRUMENTATION_NAMES.iter().enumerate() {
                if let Some(v) = get(e, key) {
                    if boolean(&path("instrumentations", key), v)? {
                        c.instrumentations |= 1 << bit;
                    } else {
                        c.instrumentations &= !(1 << bit);
                    }
                }
            }
        }
        if let Some(v) = get(entries, "batch") {
            let b = object("batch", v, "an object such as { maxExportBatchSize: 512 }")?;
            check_keys("batch", b, &["maxExportBatchSize", "scheduledDelayMillis", "maxQueueSize"])?;
            if let Some(v) = get(b, "maxExportBatchSize") {
                c.max_export_batch_size = integer("batch.maxExportBatchSize", v, 1.0, 10_000.0)? as usize;
            }
            if let Some(v) = get(b, "scheduledDelayMillis") {
                c.scheduled_delay_ms = integer("batch.scheduledDelayMillis", v, 0.0, 60_000.0)? as u32;
            }
            if let Some(v) = get(b, "maxQueueSize") {
                c.max_queue_size = integer("batch.maxQueueSize", v, 1.0, 1_000_000.0)? as usize;
            }
            if c.max_queue_size < c.max_export_batch_size {
                return Err(err("batch.maxQueueSize", String::from("must be at least batch.maxExportBatchSize")));
            }
        }
        if let Some(v) = get(entries, "interactionEvents") {
            c.interaction_events = strings("interactionEvents", v, "an array of event names such as ['click', 'submit']")?;
        }
        if let Some(v) = get(entries, "session") {
            let s = object("session", v, "an object such as { inactivityMinutes: 15 }")?;
            check_keys("session", s, &["inactivityMinutes", "maxMinutes", "persist"])?;
            let minutes = |key: &str, v: &ConfigValue| match v {
                ConfigValue::Number(n) if *n > 0.0 && *n <= 10_080.0 => Ok(*n),
                ConfigValue::Number(n) => Err(err(&path("session", key), msg(&["must be more than 0 and at most 10080 (a week), got ", &num(*n)]))),
                other => Err(wrong_type(&path("session", key), "a number of minutes", other)),
            };
            if let Some(v) = get(s, "inactivityMinutes") {
                c.session_inactivity_minutes = minutes("inactivityMinutes", v)?;
            }
            if let Some(v) = get(s, "maxMinutes") {
                c.session_max_minutes = minutes("maxMinutes", v)?;
            }
            if let Some(v) = get(s, "persist") {
                c.session_persist = boolean("session.persist", v)?;
            }
        }
        if let Some(v) = get(entries, "sampleBy") {
            c.sample_by = match v {
                ConfigValue::Str(s) if s == "trace" => SampleBy::Trace,
                ConfigValue::Str(s) if s == "session" => SampleBy::Session,
                ConfigValue::Str(s) => return Err(err("sampleBy", msg(&["must be 'trace' or 'session', got \"", s, "\""]))),
                other => return Err(wrong_type("sampleBy", "'trace' or 'session'", other)),
            };
        }
        if let Some(v) = get(entries, "debug") {
            c.debug = boolean("debug", v)?;
        }
        // Read by the JS side before the module exists; checked here so a
        // wrong type is still reported by name.
        if let Some(v) = get(entries, "wasmUrl") {
            non_empty("wasmUrl", v)?;
        }
        Ok(c)
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
            (obj(&[name(), ("wasmUrl", Bool(true))]), "wasmUrl", "must be a string"),
            (obj(&[name(), ("debug", Other("function".into()))]), "debug", "got function"),
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
