//! Whatever strings and numbers spans carry, the body must be valid JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry::{KeyValue, Value};
use waggle_rum::core::limits::SpanLimits;
use waggle_rum::core::otlp::{encode_request, Scope};
use waggle_rum::core::span::SpanData;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut num = [0u8; 8];
    for (i, b) in data.iter().take(8).enumerate() {
        num[i] = *b;
    }
    let limits = SpanLimits { max_attribute_length: 64, ..SpanLimits::default() };
    let mut span = SpanData::new(text.clone(), SpanKind::Client, TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]), None, 5);
    span.set_attribute(&limits, &text, Value::from(text.clone()));
    span.set_attribute(&limits, "f", Value::F64(f64::from_le_bytes(num)));
    span.set_attribute(&limits, "i", Value::I64(i64::from_le_bytes(num)));
    span.add_event(&limits, text.clone(), 6, vec![KeyValue::new("k", text.clone())]);
    span.end(7);
    let body = encode_request(&[KeyValue::new("service.name", text)], &Scope { name: "w", version: "1" }, &[span]);
    let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    let s = &parsed["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(s["traceId"], "01010101010101010101010101010101");
    if let Some(d) = s["attributes"][1]["value"]["doubleValue"].as_f64() {
        let v = f64::from_le_bytes(num);
        assert!(v.is_finite() && ((d - v) / v).abs() < 1e-13 || d == v, "{v} -> {d}");
    }
});
