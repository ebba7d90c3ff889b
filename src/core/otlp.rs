//! OTLP/JSON encoding of an `ExportTraceServiceRequest`.
//!
//! The OTLP JSON mapping differs from plain protobuf JSON: trace and span ids
//! are lowercase hex, enums are integers, 64-bit integers are decimal strings
//! and field names are lowerCamelCase. Written by hand rather than with serde
//! because it runs once per exported batch in every page and its size counts.

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Array, KeyValue, Value};

use super::context::Contexts;
use super::span::SpanData;

/// The instrumentation scope reported with every span.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Scope name.
    pub name: &'static str,
    /// Scope version.
    pub version: &'static str,
}

/// Encodes one request carrying `spans` under one resource and scope.
///
/// ```
/// use waggle_rum::core::otlp::{encode_request, Scope};
/// use waggle_rum::core::span::SpanData;
/// use opentelemetry::{KeyValue, trace::{SpanId, SpanKind, TraceId}};
/// let mut span = SpanData::new("documentLoad", SpanKind::Internal,
///     TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
///     SpanId::from_hex("eee19b7ec3c1b174").unwrap(), None, 1_724_300_000_000_000_000);
/// span.end(1_724_300_001_250_000_000);
/// let json = encode_request(&[KeyValue::new("service.name", "web-app")],
///     &Scope { name: "waggle-rum", version: "0.1.0" }, &[span]);
/// assert!(json.contains(r#""traceId":"5b8efff798038103d269b633813fc60c""#));
/// assert!(json.contains(r#""startTimeUnixNano":"1724300000000000000""#));
/// ```
pub fn encode_request(resource: &[KeyValue], scope: &Scope, spans: &[SpanData]) -> String {
    encode_grouped(resource, scope, &Contexts::default(), spans, 0)
}

/// Encodes one request carrying `spans`, one `ResourceSpans` per context
/// set the spans name (in order of first appearance), whose resource
/// attributes are `resource` followed by that set. `dropped`, when not
/// 0, is reported as `waggle.dropped_spans` on the first resource only, so
/// a reader summing it over a request counts each loss once.
///
/// ```
/// use waggle_rum::core::context::Contexts;
/// use waggle_rum::core::otlp::{encode_grouped, Scope};
/// use waggle_rum::core::span::SpanData;
/// use opentelemetry::{KeyValue, trace::{SpanId, SpanKind, TraceId}};
/// let mut contexts = Contexts::default();
/// let home = contexts.update(vec![KeyValue::new("page.route", "/")]);
/// let cart = contexts.update(vec![KeyValue::new("page.route", "/cart")]);
/// let span = |ctx| {
///     let mut s = SpanData::new("click", SpanKind::Internal, TraceId::from_bytes([1; 16]),
///         SpanId::from_bytes([2; 8]), None, 1_000);
///     s.context = ctx;
///     s
/// };
/// let json = encode_grouped(&[KeyValue::new("service.name", "shop")],
///     &Scope { name: "waggle-rum", version: "0.1.0" }, &contexts, &[span(home), span(cart), span(home)], 0);
/// assert_eq!(json.matches(r#""resource":"#).count(), 2);
/// assert_eq!(json.matches(r#""stringValue":"/cart""#).count(), 1);
/// ```
pub fn encode_grouped(resource: &[KeyValue], scope: &Scope, contexts: &Contexts, spans: &[SpanData], dropped: u64) -> String {
    let mut out = String::with_capacity(256 + spans.len() * 400);
    let mut groups: Vec<u32> = Vec::new();
    for s in spans {
        if !groups.contains(&s.context) {
            groups.push(s.context);
        }
    }
    out.push_str(r#"{"resourceSpans":["#);
    for (g, id) in groups.iter().enumerate() {
        if g > 0 {
            out.push(',');
        }
        out.push_str(r#"{"resource":{"attributes":"#);
        let lost = (g == 0 && dropped > 0).then(|| KeyValue::new("waggle.dropped_spans", dropped.min(i64::MAX as u64) as i64));
        attributes_of(&mut out, resource.iter().chain(contexts.get(*id)).chain(lost.as_ref()));
        out.push_str(r#"},"scopeSpans":[{"scope":{"name":"#);
        string(&mut out, scope.name);
        out.push_str(r#","version":"#);
        string(&mut out, scope.version);
        out.push_str(r#"},"spans":["#);
        for (i, span) in spans.iter().filter(|s| s.context == *id).enumerate() {
            if i > 0 {
                out.push(',');
            }
            encode_span(&mut out, span);
        }
        out.push_str("]}]}");
    }
    out.push_str("]}");
    out
}

fn encode_span(out: &mut String, s: &SpanData) {
    out.push_str(r#"{"traceId":""#);
    trace_id(out, s.trace_id);
    out.push_str(r#"","spanId":""#);
    span_id(out, s.span_id);
    out.push('"');
    if let Some(parent) = s.parent_span_id {
        out.push_str(r#","parentSpanId":""#);
        span_id(out, parent);
        out.push('"');
    }
    if !s.trace_state.is_empty() {
        out.push_str(r#","traceState":"#);
        string(out, &s.trace_state);
    }
    out.push_str(r#","flags":"#);
    uint(out, u64::from(s.flags.to_u8()));
    out.push_str(r#","name":"#);
    string(out, &s.name);
    out.push_str(r#","kind":"#);
    uint(out, kind_code(&s.kind));
    out.push_str(r#","startTimeUnixNano":""#);
    uint(out, s.start_ns);
    out.push_str(r#"","endTimeUnixNano":""#);
    uint(out, s.end_ns.max(s.start_ns));
    out.push_str(r#"","attributes":"#);
    attributes(out, &s.attributes);
    if s.dropped_attributes > 0 {
        out.push_str(r#","droppedAttributesCount":"#);
        uint(out, u64::from(s.dropped_attributes));
    }
    if !s.events.is_empty() {
        out.push_str(r#","events":["#);
        for (i, e) in s.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"timeUnixNano":""#);
            uint(out, e.time_ns);
            out.push_str(r#"","name":"#);
            string(out, &e.name);
            if !e.attributes.is_empty() {
                out.push_str(r#","attributes":"#);
                attributes(out, &e.attributes);
            }
            if e.dropped_attributes > 0 {
                out.push_str(r#","droppedAttributesCount":"#);
                uint(out, u64::from(e.dropped_attributes));
            }
            out.push('}');
        }
        out.push(']');
    }
    if s.dropped_events > 0 {
        out.push_str(r#","droppedEventsCount":"#);
        uint(out, u64::from(s.dropped_events));
    }
    if !s.links.is_empty() {
        out.push_str(r#","links":["#);
        for (i, l) in s.links.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"traceId":""#);
            trace_id(out, l.trace_id);
            out.push_str(r#"","spanId":""#);
            span_id(out, l.span_id);
            out.push_str(r#"","flags":"#);
            uint(out, u64::from(l.flags.to_u8()));
            if !l.attributes.is_empty() {
                out.push_str(r#","attributes":"#);
                attributes(out, &l.attributes);
            }
            out.push('}');
        }
        out.push(']');
    }
    if s.dropped_links > 0 {
        out.push_str(r#","droppedLinksCount":"#);
        uint(out, u64::from(s.dropped_links));
    }
    out.push_str(r#","status":{"#);
    match &s.status {
        Status::Unset => out.push_str(r#""code":0"#),
        Status::Ok => out.push_str(r#""code":1"#),
        Status::Error { description } => {
            if !description.is_empty() {
                out.push_str(r#""message":"#);
                string(out, description);
                out.push(',');
            }
            out.push_str(r#""code":2"#);
        }
    }
    out.push_str("}}");
}

/// OTLP's `SpanKind` enum value.
pub fn kind_code(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

fn trace_id(out: &mut String, id: TraceId) {
    hex(out, &id.to_bytes())
}

fn span_id(out: &mut String, id: SpanId) {
    hex(out, &id.to_bytes())
}

/// Appends an unsigned integer in decimal.
pub fn uint(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for b in &buf[i..] {
        out.push(*b as char);
    }
}

fn int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    uint(out, v.unsigned_abs());
}

/// Appends a JSON string literal.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn double(out: &mut String, v: f64) {
    // JSON has no NaN or infinities; the protobuf JSON mapping spells them
    // as strings, which the Collector accepts.
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else {
        write_f64(out, v);
    }
}

/// Appends a finite number as a JSON number: whole numbers below 1e15 in
/// plain digits, others with 15 significant digits in exponent form.
///
/// Written out rather than using `core::fmt`'s float printing, which costs
/// some 25 KB of wasm for exactness telemetry does not need.
///
/// ```
/// let mut s = String::new();
/// waggle_rum::core::otlp::write_f64(&mut s, 0.25);
/// assert_eq!(s, "2.5e-1");
/// ```
pub fn write_f64(out: &mut String, v: f64) {
    if v == 0.0 || !v.is_finite() {
        out.push('0');
        return;
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        int(out, v as i64);
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    let mut a = v.abs();
    let mut exp10: i32 = 0;
    while a >= 1e15 {
        a /= 10.0;
        exp10 += 1;
    }
    while a < 1e14 {
        a *= 10.0;
        exp10 -= 1;
    }
    // Rounding up next to f64::MAX would print a number no parser accepts
    // (found by fuzzing); truncate there instead.
    let mut digits = if exp10 >= 294 { a as u64 } else { (a + 0.5) as u64 };
    if digits >= 1_000_000_000_000_000 {
        digits /= 10;
        exp10 += 1;
    }
    while digits % 10 == 0 {
        digits /= 10;
        exp10 += 1;
    }
    let mut text = String::new();
    uint(&mut text, digits);
    out.push_str(&text[..1]);
    if text.len() > 1 {
        out.push('.');
        out.push_str(&text[1..]);
    }
    out.push('e');
    int(out, i64::from(exp10) + text.len() as i64 - 1);
}

fn any_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => {
            out.push_str(r#"{"stringValue":"#);
            string(out, s.as_str());
        }
        Value::Bool(b) => out.push_str(if *b { r#"{"boolValue":true"# } else { r#"{"boolValue":false"# }),
        Value::I64(i) => {
            out.push_str(r#"{"intValue":""#);
            int(out, *i);
            out.push('"');
        }
        Value::F64(f) => {
            out.push_str(r#"{"doubleValue":"#);
            double(out, *f);
        }
        Value::Array(a) => {
            out.push_str(r#"{"arrayValue":{"values":["#);
            match a {
                Array::Bool(items) => list(out, items, |o, b| any_value(o, &Value::Bool(*b))),
                Array::I64(items) => list(out, items, |o, i| any_value(o, &Value::I64(*i))),
                Array::F64(items) => list(out, items, |o, f| any_value(o, &Value::F64(*f))),
                Array::String(items) => list(out, items, |o, s| {
                    o.push_str(r#"{"stringValue":"#);
                    string(o, s.as_str());
                    o.push('}');
                }),
                _ => {}
            }
            out.push_str("]}");
        }
        _ => out.push('{'),
    }
    out.push('}');
}

fn list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
}

/// Appends an OTLP attribute list.
pub fn attributes(out: &mut String, attrs: &[KeyValue]) {
    attributes_of(out, attrs.iter());
}

fn attributes_of<'a>(out: &mut String, attrs: impl Iterator<Item = &'a KeyValue>) {
    out.push('[');
    for (i, kv) in attrs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"key":"#);
        string(out, kv.key.as_str());
        out.push_str(r#","value":"#);
        any_value(out, &kv.value);
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::SpanLimits;
    use crate::core::span::Link;
    use opentelemetry::trace::TraceFlags;

    fn sample() -> SpanData {
        let limits = SpanLimits::default();
        let mut s = SpanData::new(
            "GET",
            SpanKind::Client,
            TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
            SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
            Some(SpanId::from_hex("00f067aa0ba902b7").unwrap()),
            1_724_300_000_000_000_123,
        );
        s.end(1_724_300_001_250_000_000);
        s.set_attribute(&limits, "url.full", "https://x/\"q\"\n\u{1}é".into());
        s.set_attribute(&limits, "http.response.status_code", 200i64.into());
        s.set_attribute(&limits, "ok", true.into());
        s.set_attribute(&limits, "ratio", 0.25f64.into());
        s.set_attribute(&limits, "whole", 3.0f64.into());
        s.set_attribute(&limits, "neg", (-42i64).into());
        s.set_attribute(&limits, "brands", Value::Array(Array::String(vec!["Chromium".into(), "Not A".into()])));
        s.add_event(&limits, "responseEnd", 1_724_300_001_000_000_000, vec![KeyValue::new("k", "v")]);
        s.add_link(&limits, Link {
            trace_id: TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            span_id: SpanId::from_hex("b7ad6b7169203331").unwrap(),
            flags: TraceFlags::SAMPLED,
            attributes: vec![],
        });
        s.status = Status::error("HTTP 500");
        s.trace_state = "vendor=a".into();
        s
    }

    #[test]
    fn follows_the_otlp_json_rules() {
        let json = encode_request(
            &[KeyValue::new("service.name", "web")],
            &Scope { name: "waggle-rum", version: "0.1.0" },
            &[sample()],
        );
        // Hex ids, not base64.
        assert!(json.contains(r#""traceId":"5b8efff798038103d269b633813fc60c""#));
        assert!(json.contains(r#""spanId":"eee19b7ec3c1b174""#));
        assert!(json.contains(r#""parentSpanId":"00f067aa0ba902b7""#));
        // Integer enums.
        assert!(json.contains(r#""kind":3"#));
        assert!(json.contains(r#""status":{"message":"HTTP 500","code":2}"#));
        // 64-bit integers as strings.
        assert!(json.contains(r#""startTimeUnixNano":"1724300000000000123""#));
        assert!(json.contains(r#""intValue":"200""#));
        assert!(json.contains(r#""intValue":"-42""#));
        assert!(json.contains(r#""doubleValue":2.5e-1"#));
        assert!(json.contains(r#""doubleValue":3}"#));
        // Escaping.
        assert!(json.contains(r#""stringValue":"https://x/\"q\"\n\u0001é""#));
        // camelCase only.
        assert!(!json.contains('_') || !json.contains("_count"));
        assert!(json.contains(r#""traceState":"vendor=a""#));
        assert!(json.contains(r#""links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","flags":1}]"#));
        assert!(json.contains(r#""arrayValue":{"values":[{"stringValue":"Chromium"},{"stringValue":"Not A"}]}"#));
    }

    #[test]
    fn matches_the_minimal_reference_body() {
        let mut s = SpanData::new(
            "documentLoad",
            SpanKind::Internal,
            TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
            SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
            None,
            1_724_300_000_000_000_000,
        );
        s.end(1_724_300_001_250_000_000);
        let limits = SpanLimits::default();
        s.set_attribute(&limits, "url.full", "https://app.example.com/".into());
        s.add_event(&limits, "domInteractive", 1_724_300_000_400_000_000, vec![]);
        let json = encode_request(
            &[KeyValue::new("service.name", "web-app")],
            &Scope { name: "waggle-rum", version: "0.1.0" },
            &[s],
        );
        assert_eq!(
            json,
            concat!(
                r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web-app"}}]},"#,
                r#""scopeSpans":[{"scope":{"name":"waggle-rum","version":"0.1.0"},"#,
                r#""spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","flags":1,"name":"documentLoad","kind":1,"#,
                r#""startTimeUnixNano":"1724300000000000000","endTimeUnixNano":"1724300001250000000","#,
                r#""attributes":[{"key":"url.full","value":{"stringValue":"https://app.example.com/"}}],"#,
                r#""events":[{"timeUnixNano":"1724300000400000000","name":"domInteractive"}],"status":{"code":0}}]}]}]}"#
            )
        );
    }

    #[test]
    fn doubles_that_json_cannot_spell() {
        let mut out = String::new();
        double(&mut out, f64::NAN);
        double(&mut out, f64::NEG_INFINITY);
        double(&mut out, 1e300);
        assert_eq!(out, "\"NaN\"\"-Infinity\"1e300");
    }

    #[test]
    fn doubles_round_trip_to_15_digits() {
        for v in [0.1, 0.25, -3.75, 1e-7, 123456.789, 0.000123, 2.5e20, -1e-300, 1.5e308, 0.1 + 0.2, 3e-310] {
            let mut out = String::new();
            write_f64(&mut out, v);
            let back: f64 = out.parse().unwrap();
            assert!(((back - v) / v).abs() < 1e-14, "{v} -> {out}");
        }
        for v in [f64::MAX, -f64::MAX, f64::from_bits(0xffef_ffff_ffff_ffff), 1.7976931348623e308] {
            let mut out = String::new();
            write_f64(&mut out, v);
            let back: f64 = out.parse().unwrap();
            assert!(back.is_finite(), "{v} -> {out}");
        }
        let mut out = String::new();
        write_f64(&mut out, 12.0);
        write_f64(&mut out, -0.5);
        assert_eq!(out, "12-5e-1");
    }

    #[test]
    fn dropped_count_is_reported_once_per_request() {
        let mut contexts = Contexts::default();
        let mut a = sample();
        a.context = contexts.update(vec![KeyValue::new("page.route", "/a")]);
        let mut b = sample();
        b.context = contexts.update(vec![KeyValue::new("page.route", "/b")]);
        let json = encode_grouped(&[], &Scope { name: "w", version: "1" }, &contexts, &[a, b], 7);
        assert_eq!(json.matches("waggle.dropped_spans").count(), 1);
        assert_eq!(json.matches(r#""resource":"#).count(), 2);
        assert!(json.starts_with(r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"page.route","value":{"stringValue":"/a"}},{"key":"waggle.dropped_spans""#));
    }
}
