//! init's options come from app code of any quality: whatever value tree
//! arrives (built here from the fuzz bytes, biased towards the option
//! names), the parser answers with a config that holds its invariants or
//! with an error naming an option.
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::config::{Config, ConfigValue};

const KEYS: [&str; 28] = [
    "serviceName", "serviceVersion", "environment", "endpoint", "sampleRate", "propagateTraceHeaderCorsUrls", "ignoreUrls",
    "redactQueryParams", "attributes", "instrumentations", "batch", "interactionEvents", "session", "sampleBy", "debug",
    "wasmUrl", "maxExportBatchSize", "scheduledDelayMillis", "maxQueueSize", "inactivityMinutes", "maxMinutes", "persist",
    "fetch", "xhr", "webVitals", "consoleErrors", "app.k", "bogus",
];

const WORDS: [&str; 8] = ["", " ", "trace", "session", "/otel", "https://c.test", "click", "x"];

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

fn value(d: &mut Bytes<'_>, depth: u32) -> ConfigValue {
    if d.0.is_empty() {
        return ConfigValue::Undefined;
    }
    let tag = d.byte();
    match tag % 12 {
        0 => ConfigValue::Undefined,
        1 => ConfigValue::Null,
        2 => ConfigValue::Bool(tag & 0x80 != 0),
        3 => {
            let mut a = [0u8; 8];
            let b = d.take(8);
            a[..b.len()].copy_from_slice(b);
            ConfigValue::Number(f64::from_le_bytes(a))
        }
        4 => ConfigValue::Number(f64::from(d.byte()) - 1.0),
        5 => ConfigValue::Str(String::from_utf8_lossy(d.take(usize::from(tag >> 4))).into_owned()),
        6 => ConfigValue::Str(WORDS[usize::from(tag >> 4) % WORDS.len()].to_string()),
        7 => ConfigValue::Regex(u32::from(tag >> 4)),
        8 if depth < 5 => ConfigValue::Array((0..(tag >> 5)).map(|_| value(d, depth + 1)).collect()),
        9 | 10 if depth < 5 => ConfigValue::Object(
            (0..(tag >> 5))
                .map(|_| {
                    let k = usize::from(d.byte()) % KEYS.len();
                    (KEYS[k].to_string(), value(d, depth + 1))
                })
                .collect(),
        ),
        _ => ConfigValue::Other("function".into()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = Bytes(data);
    // Mostly an object with serviceName, so the parse goes past the first
    // check.
    let v = match value(&mut d, 0) {
        ConfigValue::Object(mut entries) if data.first().is_some_and(|b| b & 1 == 0) => {
            entries.insert(0, ("serviceName".into(), ConfigValue::Str("svc".into())));
            ConfigValue::Object(entries)
        }
        v => v,
    };
    match Config::parse(&v) {
        Ok(c) => {
            assert!(!c.service_name.trim().is_empty());
            assert!((0.0..=1.0).contains(&c.sample_rate));
            assert!(c.max_queue_size >= c.max_export_batch_size && c.max_export_batch_size >= 1);
            assert!(c.session_inactivity_minutes > 0.0 && c.session_max_minutes > 0.0);
            assert!(c.traces_url("https://page.test").ends_with("/v1/traces"));
        }
        Err(e) => {
            assert!(!e.option.is_empty() && !e.message.is_empty());
            assert!(e.text().starts_with("waggle: option `"));
        }
    }
});
