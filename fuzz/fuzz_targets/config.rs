//! init's options come from app code of any quality: the parser must
//! answer every value with a config or an error naming an option.
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::config::{Config, ConfigValue};

const KEYS: [&str; 20] = [
    "serviceName", "serviceVersion", "environment", "endpoint", "sampleRate", "propagateTraceHeaderCorsUrls",
    "ignoreUrls", "redactQueryParams", "attributes", "instrumentations", "batch", "interactionEvents",
    "session", "sampleBy", "debug", "wasmUrl", "maxExportBatchSize", "inactivityMinutes", "fetch", "bogus",
];

/// Builds a value tree from bytes, biased towards the option names.
fn value(data: &mut &[u8], depth: u32) -> ConfigValue {
    let Some((&tag, rest)) = data.split_first() else { return ConfigValue::Undefined };
    *data = rest;
    let mut take = |n: usize| {
        let n = n.min(data.len());
        let (a, b) = data.split_at(n);
        *data = b;
        a
    };
    match tag % 10 {
        0 => ConfigValue::Undefined,
        1 => ConfigValue::Null,
        2 => ConfigValue::Bool(tag & 0x80 != 0),
        3 => {
            let b = take(8);
            let mut a = [0u8; 8];
            a[..b.len()].copy_from_slice(b);
            ConfigValue::Number(f64::from_le_bytes(a))
        }
        4 => ConfigValue::Str(String::from_utf8_lossy(take((tag >> 4) as usize)).into_owned()),
        5 => ConfigValue::Regex(u32::from(tag)),
        6 if depth < 4 => ConfigValue::Array((0..(tag >> 5)).map(|_| value(data, depth + 1)).collect()),
        7 | 8 if depth < 4 => ConfigValue::Object(
            (0..(tag >> 5))
                .map(|_| {
                    let k = take(1).first().copied().unwrap_or(0) as usize % KEYS.len();
                    (KEYS[k].to_string(), value(data, depth + 1))
                })
                .collect(),
        ),
        _ => ConfigValue::Other("function".into()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let v = value(&mut d, 0);
    match Config::parse(&v) {
        Ok(c) => {
            assert!(!c.service_name.trim().is_empty());
            assert!((0.0..=1.0).contains(&c.sample_rate));
            assert!(c.batch.max_queue_size >= c.batch.max_export_batch_size);
            assert!(c.traces_url().ends_with("/v1/traces"));
        }
        Err(e) => {
            assert!(!e.option.is_empty());
            assert!(e.to_string().starts_with("waggle: option `"));
        }
    }
});
