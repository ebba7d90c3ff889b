//! `init` options: validated strictly, reported by name.
//!
//! The browser shell turns the JS options object into a [`ConfigValue`]
//! tree; everything after that is here, so the rules are tested natively
//! and fuzzed. A wrong option is an error naming it, never a silent default.

use core::fmt;

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
    /// A `RegExp`, by its index in the shell's list of regular expressions.
    Regex(u32),
    /// An array.
    Array(Vec<ConfigValue>),
    /// A plain object, keys in order.
    Object(Vec<(String, ConfigValue)>),
    /// Anything else (a function, a symbol), by its JS type name.
    Other(String),
}

impl ConfigValue {
    fn type_name(&self) -> &str {
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
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The option's path, such as `batch.maxQueueSize`.
    pub option: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "waggle: option `{}` {}", self.option, self.message)
    }
}

/// A URL pattern in an allow-list or ignore-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlPattern {
    /// Matches URLs that start with this string.
    Prefix(String),
    /// Matches URLs the shell's regular expression with this index matches.
    Regex(u32),
}

/// Which instrumentations run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrumentations {
    /// Page load: `documentLoad`, `documentFetch`, `resourceFetch`.
    pub document_load: bool,
    /// `fetch` calls.
    pub fetch: bool,
    /// `XMLHttpRequest` calls.
    pub xhr: bool,
    /// Clicks and the other `interactionEvents`.
    pub interactions: bool,
    /// SPA route changes (`pushState`, `replaceState`, `popstate`, `hashchange`).
    pub route_changes: bool,
    /// LCP, CLS, INP, FCP, TTFB.
    pub web_vitals: bool,
    /// Uncaught errors, unhandled rejections, resource load failures.
    pub errors: bool,
    /// `console.error` calls as exception spans (off by default).
    pub console_errors: bool,
}

/// Session lifetime.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionConfig {
    /// A session ends after this long without user activity, in minutes.
    pub inactivity_minutes: f64,
    /// A session ends this long after it began, in minutes.
    pub max_minutes: f64,
    /// Keep the session in `localStorage` across reloads and tabs.
    pub persist: bool,
}

/// What `sampleRate` keeps or drops whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleBy {
    /// Each trace on its own.
    Trace,
    /// Each session on its own: all of its traces or none.
    Session,
}

/// Export batching bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchConfig {
    /// Spans per request.
    pub max_export_batch_size: usize,
    /// How long a span may wait for more before a request is sent, in ms.
    pub scheduled_delay_ms: u32,
    /// Spans held while requests are pending; beyond it the oldest go.
    pub max_queue_size: usize,
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
    /// The Collector's OTLP/HTTP base URL; spans go to `{endpoint}/v1/traces`.
    pub endpoint: String,
    /// Ratio of new traces recorded.
    pub sample_rate: f64,
    /// Cross-origin URLs that may receive `traceparent`.
    pub propagate_trace_header_cors_urls: Vec<UrlPattern>,
    /// URLs whose requests are not traced.
    pub ignore_urls: Vec<UrlPattern>,
    /// Extra query keys whose values are redacted from recorded URLs.
    pub redact_query_params: Vec<String>,
    /// Attributes added to every span.
    pub attributes: Vec<(String, AttrInput)>,
    /// Instrumentations switched on.
    pub instrumentations: Instrumentations,
    /// Export batching.
    pub batch: BatchConfig,
    /// DOM events recorded as interaction spans.
    pub interaction_events: Vec<String>,
    /// Session lifetime.
    pub session: SessionConfig,
    /// What sampling keeps or drops whole.
    pub sample_by: SampleBy,
    /// Log what the agent does to the console.
    pub debug: bool,
}

/// A global attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrInput {
    /// String.
    Str(String),
    /// Number (integers become `intValue`).
    Number(f64),
    /// Boolean.
    Bool(bool),
}

/// The `endpoint` used when none is given: a Collector on this machine.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

impl Default for Config {
    fn default() -> Self {
        Config {
            service_name: String::new(),
            service_version: None,
            environment: None,
            endpoint: DEFAULT_ENDPOINT.into(),
            sample_rate: 1.0,
            propagate_trace_header_cors_urls: Vec::new(),
            ignore_urls: Vec::new(),
            redact_query_params: Vec::new(),
            attributes: Vec::new(),
            instrumentations: Instrumentations {
                document_load: true,
                fetch: true,
                xhr: true,
                interactions: true,
                route_changes: true,
                web_vitals: true,
                errors: true,
                console_errors: false,
            },
            batch: BatchConfig { max_export_batch_size: 512, scheduled_delay_ms: 1000, max_queue_size: 20_000 },
            interaction_events: vec!["click".into()],
            session: SessionConfig { inactivity_minutes: 15.0, max_minutes: 240.0, persist: true },
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

fn num(n: f64) -> String {
    let mut s = String::new();
    super::otlp::write_f64(&mut s, n);
    s
}

fn err(option: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { option: option.into(), message: message.into() }
}

fn wrong_type(option: &str, expected: &str, got: &ConfigValue) -> ConfigError {
    err(option, format!("must be {expected}, got {}", got.type_name()))
}

fn check_keys(prefix: &str, entries: &[(String, ConfigValue)], known: &[&str]) -> Result<(), ConfigError> {
    for (k, _) in entries {
        if !known.contains(&k.as_str()) {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            let hint = known
                .iter()
                .find(|c| c.eq_ignore_ascii_case(k))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_else(|| format!("; known options: {}", known.join(", ")));
            return Err(err(&path, format!("is not an option{hint}")));
        }
    }
    Ok(())
}

fn get<'a>(entries: &'a [(String, ConfigValue)], key: &str) -> Option<&'a ConfigValue> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != ConfigValue::Undefined)
}

fn string(opt: &str, v: &ConfigValue) -> Result<String, ConfigError> {
    match v {
        ConfigValue::Str(s) => Ok(s.clone()),
        other => Err(wrong_type(opt, "a string", other)),
    }
}

fn non_empty(opt: &str, v: &ConfigValue) -> Result<String, ConfigError> {
    let s = string(opt, v)?;
    if s.trim().is_empty() {
        return Err(err(opt, "must not be empty"));
    }
    Ok(s)
}

fn boolean(opt: &str, v: &ConfigValue) -> Result<bool, ConfigError> {
    match v {
        ConfigValue::Bool(b) => Ok(*b),
        other => Err(wrong_type(opt, "a boolean", other)),
    }
}

fn integer(opt: &str, v: &ConfigValue, min: f64, max: f64) -> Result<f64, ConfigError> {
    match v {
        ConfigValue::Number(n) if n.fract() == 0.0 && *n >= min && *n <= max => Ok(*n),
        ConfigValue::Number(n) => Err(err(opt, format!("must be a whole number from {} to {}, got {}", num(min), num(max), num(*n)))),
        other => Err(wrong_type(opt, "a number", other)),
    }
}

fn patterns(opt: &str, v: &ConfigValue) -> Result<Vec<UrlPattern>, ConfigError> {
    let one = |v: &ConfigValue| match v {
        ConfigValue::Str(s) if !s.is_empty() => Ok(UrlPattern::Prefix(s.clone())),
        ConfigValue::Str(_) => Err(err(opt, "must not contain an empty string (it would match every URL)")),
        ConfigValue::Regex(i) => Ok(UrlPattern::Regex(*i)),
        other => Err(wrong_type(opt, "a string, a RegExp or an array of them", other)),
    };
    match v {
        ConfigValue::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
    }
}

impl Config {
    /// Validates the options object given to `init`.
    pub fn parse(input: &ConfigValue) -> Result<Config, ConfigError> {
        let entries = match input {
            ConfigValue::Object(e) => e,
            other => return Err(wrong_type("options", "an object such as { serviceName: 'my-app' }", other)),
        };
        check_keys("", entries, TOP)?;
        let mut c = Config::default();
        c.service_name = match get(entries, "serviceName") {
            None => return Err(err("serviceName", "is required: init({ serviceName: 'my-app' })")),
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
                return Err(err("endpoint", "is the Collector's base URL; leave out `/v1/traces`, it is added"));
            }
            if !(trimmed.starts_with("http://") || trimmed.starts_with("https://") || trimmed.starts_with('/')) {
                return Err(err("endpoint", format!("must be an http(s) URL or a path on this origin, got \"{e}\"")));
            }
            c.endpoint = trimmed.to_owned();
        }
        if let Some(v) = get(entries, "sampleRate") {
            c.sample_rate = match v {
                ConfigValue::Number(n) if (0.0..=1.0).contains(n) => *n,
                ConfigValue::Number(n) => return Err(err("sampleRate", format!("must be from 0 to 1, got {}", num(*n)))),
                other => return Err(wrong_type("sampleRate", "a number from 0 to 1", other)),
            };
        }
        if let Some(v) = get(entries, "propagateTraceHeaderCorsUrls") {
            c.propagate_trace_header_cors_urls = patterns("propagateTraceHeaderCorsUrls", v)?;
        }
        if let Some(v) = get(entries, "ignoreUrls") {
            c.ignore_urls = patterns("ignoreUrls", v)?;
        }
        if let Some(v) = get(entries, "redactQueryParams") {
            c.redact_query_params = match v {
                ConfigValue::Array(items) => items
                    .iter()
                    .map(|i| non_empty("redactQueryParams", i))
                    .collect::<Result<_, _>>()?,
                other => return Err(wrong_type("redactQueryParams", "an array of strings", other)),
            };
        }
        if let Some(v) = get(entries, "attributes") {
            let ConfigValue::Object(attrs) = v else {
                return Err(wrong_type("attributes", "an object of strings, numbers or booleans", v));
            };
            for (k, v) in attrs {
                let opt = format!("attributes.{k}");
                let value = match v {
                    ConfigValue::Str(s) => AttrInput::Str(s.clone()),
                    ConfigValue::Number(n) => AttrInput::Number(*n),
                    ConfigValue::Bool(b) => AttrInput::Bool(*b),
                    ConfigValue::Undefined => continue,
                    other => return Err(wrong_type(&opt, "a string, number or boolean", other)),
                };
                c.attributes.push((k.clone(), value));
            }
        }
        if let Some(v) = get(entries, "instrumentations") {
            let ConfigValue::Object(inst) = v else {
                return Err(wrong_type("instrumentations", "an object such as { xhr: false }", v));
            };
            const KEYS: [&str; 8] =
                ["documentLoad", "fetch", "xhr", "interactions", "routeChanges", "webVitals", "errors", "consoleErrors"];
            check_keys("instrumentations", inst, &KEYS)?;
            let i = &mut c.instrumentations;
            let slots = [
                &mut i.document_load,
                &mut i.fetch,
                &mut i.xhr,
                &mut i.interactions,
                &mut i.route_changes,
                &mut i.web_vitals,
                &mut i.errors,
                &mut i.console_errors,
            ];
            for (key, slot) in KEYS.into_iter().zip(slots) {
                if let Some(v) = get(inst, key) {
                    *slot = boolean(&format!("instrumentations.{key}"), v)?;
                }
            }
        }
        if let Some(v) = get(entries, "batch") {
            let ConfigValue::Object(b) = v else {
                return Err(wrong_type("batch", "an object such as { maxExportBatchSize: 512 }", v));
            };
            check_keys("batch", b, &["maxExportBatchSize", "scheduledDelayMillis", "maxQueueSize"])?;
            if let Some(v) = get(b, "maxExportBatchSize") {
                c.batch.max_export_batch_size = integer("batch.maxExportBatchSize", v, 1.0, 10_000.0)? as usize;
            }
            if let Some(v) = get(b, "scheduledDelayMillis") {
                c.batch.scheduled_delay_ms = integer("batch.scheduledDelayMillis", v, 0.0, 60_000.0)? as u32;
            }
            if let Some(v) = get(b, "maxQueueSize") {
                c.batch.max_queue_size = integer("batch.maxQueueSize", v, 1.0, 1_000_000.0)? as usize;
            }
            if c.batch.max_queue_size < c.batch.max_export_batch_size {
                return Err(err("batch.maxQueueSize", "must be at least batch.maxExportBatchSize"));
            }
        }
        if let Some(v) = get(entries, "interactionEvents") {
            c.interaction_events = match v {
                ConfigValue::Array(items) => items
                    .iter()
                    .map(|i| non_empty("interactionEvents", i))
                    .collect::<Result<_, _>>()?,
                other => return Err(wrong_type("interactionEvents", "an array of event names such as ['click', 'submit']", other)),
            };
        }
        if let Some(v) = get(entries, "session") {
            let ConfigValue::Object(sess) = v else {
                return Err(wrong_type("session", "an object such as { inactivityMinutes: 15 }", v));
            };
            check_keys("session", sess, &["inactivityMinutes", "maxMinutes", "persist"])?;
            let minutes = |key: &str, v: &ConfigValue| match v {
                ConfigValue::Number(n) if *n > 0.0 && *n <= 10_080.0 => Ok(*n),
                ConfigValue::Number(n) => Err(err(&format!("session.{key}"), format!("must be more than 0 and at most 10080 (a week), got {}", num(*n)))),
                other => Err(wrong_type(&format!("session.{key}"), "a number of minutes", other)),
            };
            if let Some(v) = get(sess, "inactivityMinutes") {
                c.session.inactivity_minutes = minutes("inactivityMinutes", v)?;
            }
            if let Some(v) = get(sess, "maxMinutes") {
                c.session.max_minutes = minutes("maxMinutes", v)?;
            }
            if let Some(v) = get(sess, "persist") {
                c.session.persist = boolean("session.persist", v)?;
            }
        }
        if let Some(v) = get(entries, "sampleBy") {
            c.sample_by = match v {
                ConfigValue::Str(s) if s == "trace" => SampleBy::Trace,
                ConfigValue::Str(s) if s == "session" => SampleBy::Session,
                ConfigValue::Str(s) => return Err(err("sampleBy", format!("must be 'trace' or 'session', got \"{s}\""))),
                other => return Err(wrong_type("sampleBy", "'trace' or 'session'", other)),
            };
        }
        if let Some(v) = get(entries, "debug") {
            c.debug = boolean("debug", v)?;
        }
        // Read by the JS loader before the module exists; checked here so a
        // wrong type is still reported by name.
        if let Some(v) = get(entries, "wasmUrl") {
            non_empty("wasmUrl", v)?;
        }
        Ok(c)
    }

    /// `{endpoint}/v1/traces`.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint)
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
        assert_eq!(c.traces_url(), "http://localhost:4318/v1/traces");
        assert_eq!(c.batch.max_export_batch_size, 512);
        assert!(c.instrumentations.fetch);
    }

    #[test]
    fn every_bad_option_is_named() {
        let cases: Vec<(ConfigValue, &str, &str)> = vec![
            (Str("x".into()), "options", "must be an object"),
            (obj(&[]), "serviceName", "is required"),
            (obj(&[("serviceName", Number(3.0))]), "serviceName", "must be a string, got number"),
            (obj(&[("serviceName", Str("  ".into()))]), "serviceName", "must not be empty"),
            (obj(&[name(), ("servicename", Str("x".into()))]), "servicename", "did you mean `serviceName`"),
            (obj(&[name(), ("bogus", Bool(true))]), "bogus", "is not an option"),
            (obj(&[name(), ("endpoint", Number(4318.0))]), "endpoint", "must be a string"),
            (obj(&[name(), ("endpoint", Str("http://c/v1/traces".into()))]), "endpoint", "leave out `/v1/traces`"),
            (obj(&[name(), ("endpoint", Str("localhost:4318".into()))]), "endpoint", "http(s) URL"),
            (obj(&[name(), ("sampleRate", Number(1.5))]), "sampleRate", "from 0 to 1"),
            (obj(&[name(), ("sampleRate", Str("0.5".into()))]), "sampleRate", "got string"),
            (obj(&[name(), ("debug", Str("yes".into()))]), "debug", "must be a boolean"),
            (obj(&[name(), ("ignoreUrls", Array(vec![Number(1.0)]))]), "ignoreUrls", "a string, a RegExp"),
            (obj(&[name(), ("ignoreUrls", Str(String::new()))]), "ignoreUrls", "empty string"),
            (obj(&[name(), ("attributes", obj(&[("a", Null)]))]), "attributes.a", "got null"),
            (obj(&[name(), ("instrumentations", obj(&[("fetch", Number(0.0))]))]), "instrumentations.fetch", "boolean"),
            (obj(&[name(), ("instrumentations", obj(&[("clicks", Bool(true))]))]), "instrumentations.clicks", "not an option"),
            (obj(&[name(), ("batch", obj(&[("maxExportBatchSize", Number(0.5))]))]), "batch.maxExportBatchSize", "whole number"),
            (obj(&[name(), ("batch", obj(&[("maxQueueSize", Number(10.0))]))]), "batch.maxQueueSize", "at least"),
            (obj(&[name(), ("redactQueryParams", Str("k".into()))]), "redactQueryParams", "array of strings"),
            (obj(&[name(), ("interactionEvents", Str("click".into()))]), "interactionEvents", "array of event names"),
            (obj(&[name(), ("session", obj(&[("inactivityMinutes", Number(0.0))]))]), "session.inactivityMinutes", "more than 0"),
            (obj(&[name(), ("session", obj(&[("persist", Str("no".into()))]))]), "session.persist", "boolean"),
            (obj(&[name(), ("sampleBy", Str("user".into()))]), "sampleBy", "'trace' or 'session'"),
            (obj(&[name(), ("wasmUrl", Bool(true))]), "wasmUrl", "must be a string"),
        ];
        for (input, option, fragment) in cases {
            let e = Config::parse(&input).unwrap_err();
            assert_eq!(e.option, option, "{input:?}");
            assert!(e.to_string().contains(fragment), "{e} should contain {fragment}");
            assert!(e.to_string().starts_with(&format!("waggle: option `{option}`")));
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
            ("attributes", obj(&[("app.tier", Str("gold".into())), ("skip", Undefined)])),
            ("instrumentations", obj(&[("xhr", Bool(false))])),
            ("batch", obj(&[("scheduledDelayMillis", Number(0.0))])),
            ("debug", Bool(true)),
            ("serviceVersion", Undefined),
        ]))
        .unwrap();
        assert_eq!(c.endpoint, "https://otel.example.com");
        assert_eq!(c.propagate_trace_header_cors_urls, vec![UrlPattern::Prefix("https://api.example.com".into()), UrlPattern::Regex(0)]);
        assert_eq!(c.ignore_urls, vec![UrlPattern::Regex(1)]);
        assert_eq!(c.attributes.len(), 1);
        assert!(!c.instrumentations.xhr && c.instrumentations.fetch);
        assert_eq!(c.batch.scheduled_delay_ms, 0);
        assert!(c.debug);
    }
}
