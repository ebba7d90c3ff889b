//! OTLP/JSON encoding of an `ExportTraceServiceRequest`.
//!
//! The OTLP JSON mapping differs from plain protobuf JSON: trace and span
//! ids are lower-case hex, enums are integers, 64-bit integers are decimal
//! strings and field names are lowerCamelCase. Written by hand rather than
//! with serde because it runs in every page and its size counts; the tests
//! hold it to serde_json's reading of what it writes, and the spans carry
//! their attributes already encoded (see [`crate::core::span`]).

use alloc::vec::Vec;

use super::context::Contexts;
use super::span::{Attrs, Span};

/// The instrumentation scope reported with every span.
pub const SCOPE_NAME: &str = "waggle-rum";

/// The agent's version: `telemetry.sdk.version` and the scope's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Spans a body reports as lost since the previous body.
///
/// ```
/// use waggle_rum::core::otlp::Losses;
/// let mut l = Losses { dropped: 2, unconfirmed: 0 };
/// l.add(Losses { dropped: 1, unconfirmed: 5 });
/// assert_eq!(l, Losses { dropped: 3, unconfirmed: 5 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Spans the agent knows were not delivered: `waggle.dropped_spans`.
    pub dropped: u64,
    /// Spans in `keepalive` requests whose fate a page being unloaded could
    /// not learn (the browser drops the answer; the request usually
    /// arrives): `waggle.unconfirmed_spans`.
    pub unconfirmed: u64,
}

impl Losses {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Losses) {
        self.dropped += other.dropped;
        self.unconfirmed += other.unconfirmed;
    }
}

/// Encodes one request carrying `spans`, one `ResourceSpans` per context
/// set the spans name (in order of first appearance), whose resource
/// attributes are `resource` followed by that set. The counts in `lost`
/// that are not 0 are reported as `waggle.dropped_spans` and
/// `waggle.unconfirmed_spans` on the first resource only, so a reader
/// summing them over a request counts each loss once.
///
/// ```
/// use waggle_rum::core::context::Contexts;
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::otlp::{encode, Losses};
/// use waggle_rum::core::span::{kind, Attrs, Span};
/// let at = |route: &str| { let mut a = Attrs::default(); a.put("waggle.page.route", route); a };
/// let mut contexts = Contexts::default();
/// let home = contexts.update(at("/"));
/// let cart = contexts.update(at("/cart"));
/// let span = |ctx| {
///     let mut s = Span::new("click", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 1_000);
///     s.context = ctx;
///     s
/// };
/// let mut resource = Attrs::default();
/// resource.put("service.name", "shop");
/// let mut out = Vec::new();
/// encode(&mut out, &resource, &contexts, &[span(home), span(cart), span(home)], Losses::default());
/// let json = String::from_utf8(out).unwrap();
/// assert_eq!(json.matches(r#""resource":"#).count(), 2);
/// assert_eq!(json.matches(r#""stringValue":"/cart""#).count(), 1);
/// ```
pub fn encode(out: &mut Vec<u8>, resource: &Attrs, contexts: &Contexts, spans: &[Span], lost: Losses) {
    let mut groups: Vec<u32> = Vec::new();
    for s in spans {
        if !groups.contains(&s.context) {
            groups.push(s.context);
        }
    }
    out.extend_from_slice(b"{\"resourceSpans\":[");
    for (g, id) in groups.iter().enumerate() {
        if g > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"resource\":{\"attributes\":[");
        out.extend_from_slice(resource.json());
        let ctx = contexts.get(*id);
        for part in [ctx] {
            if !part.is_empty() {
                if !out.ends_with(b"[") {
                    out.push(b',');
                }
                out.extend_from_slice(part.json());
            }
        }
        if g == 0 {
            let mut a = Attrs::default();
            for (key, n) in [("waggle.dropped_spans", lost.dropped), ("waggle.unconfirmed_spans", lost.unconfirmed)] {
                if n > 0 {
                    a.put(key, n.min(i64::MAX as u64) as i64);
                }
            }
            if !a.is_empty() {
                if !out.ends_with(b"[") {
                    out.push(b',');
                }
                out.extend_from_slice(a.json());
            }
        }
        out.extend_from_slice(b"]},\"scopeSpans\":[{\"scope\":{\"name\":\"");
        out.extend_from_slice(SCOPE_NAME.as_bytes());
        out.extend_from_slice(b"\",\"version\":\"");
        out.extend_from_slice(VERSION.as_bytes());
        out.extend_from_slice(b"\"},\"spans\":[");
        let mut first = true;
        for span in spans.iter().filter(|s| s.context == *id) {
            if !first {
                out.push(b',');
            }
            first = false;
            span.encode(out);
        }
        out.extend_from_slice(b"]}]}");
    }
    out.extend_from_slice(b"]}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::{SpanId, TraceId};
    use crate::core::span::{kind, Value};
    use serde_json::Value as J;

    fn sample() -> Span {
        let mut s = Span::new(
            "GET",
            kind::CLIENT,
            TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
            SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7"),
            1_724_300_000_000_000_123,
        );
        s.end(1_724_300_001_250_000_000);
        s.set("url.full", "https://x/\"q\"\n\u{1}é");
        s.set("http.response.status_code", 200i64);
        s.set("ok", true);
        s.set("ratio", 0.25);
        s.set("neg", -42i64);
        s.set("brands", Value::Arr(vec![Value::Str("Chromium".into()), Value::Str("Not A".into())]));
        let mut e = Attrs::default();
        e.put("k", "v");
        s.event("responseEnd", 1_724_300_001_000_000_000, &e);
        s.link(TraceId([3; 16]), SpanId([4; 8]), 1, &Attrs::default());
        s.error("HTTP 500");
        s.trace_state = "vendor=a".into();
        s
    }

    fn parse(spans: &[Span], dropped: u64) -> J {
        let mut resource = Attrs::default();
        resource.put("service.name", "web");
        let mut out = Vec::new();
        encode(&mut out, &resource, &Contexts::default(), spans, Losses { dropped, unconfirmed: 0 });
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn follows_the_otlp_json_mapping() {
        let j = parse(&[sample()], 3);
        let rs = &j["resourceSpans"][0];
        assert_eq!(rs["resource"]["attributes"][0]["value"]["stringValue"], "web");
        assert_eq!(rs["resource"]["attributes"][1]["key"], "waggle.dropped_spans");
        assert_eq!(rs["resource"]["attributes"][1]["value"]["intValue"], "3");
        assert_eq!(rs["resource"]["attributes"].as_array().unwrap().len(), 2);
        let scope = &rs["scopeSpans"][0]["scope"];
        assert_eq!((scope["name"].as_str(), scope["version"].as_str()), (Some(SCOPE_NAME), Some(VERSION)));
        let s = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "5b8efff798038103d269b633813fc60c");
        assert_eq!(s["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(s["kind"], 3);
        assert_eq!(s["flags"], 1);
        assert_eq!(s["traceState"], "vendor=a");
        assert_eq!(s["startTimeUnixNano"], "1724300000000000123");
        assert_eq!(s["attributes"][0]["value"]["stringValue"], "https://x/\"q\"\n\u{1}é");
        assert_eq!(s["attributes"][1]["value"]["intValue"], "200");
        assert_eq!(s["attributes"][2]["value"]["boolValue"], true);
        assert_eq!(s["attributes"][3]["value"]["doubleValue"], 0.25);
        assert_eq!(s["attributes"][4]["value"]["intValue"], "-42");
        assert_eq!(s["attributes"][5]["value"]["arrayValue"]["values"][1]["stringValue"], "Not A");
        assert_eq!(s["events"][0]["attributes"][0]["key"], "k");
        assert_eq!(s["links"][0]["spanId"], "0404040404040404");
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["status"]["message"], "HTTP 500");
    }

    #[test]
    fn odd_numbers_and_empty_parts() {
        let mut s = Span::new("x", kind::INTERNAL, TraceId([1; 16]), SpanId([1; 8]), None, 5);
        s.set("nan", f64::NAN);
        s.set("inf", f64::NEG_INFINITY);
        s.set("max", f64::MAX);
        s.set("tiny", 5e-324);
        s.set("min", i64::MIN);
        let j = parse(&[s], 0);
        let span = &j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["attributes"][0]["value"]["doubleValue"], "NaN");
        assert_eq!(span["attributes"][1]["value"]["doubleValue"], "-Infinity");
        assert!(span["attributes"][2]["value"]["doubleValue"].as_f64().unwrap() > 1e308);
        assert!(span["attributes"][3]["value"]["doubleValue"].is_number());
        assert_eq!(span["attributes"][4]["value"]["intValue"], "-9223372036854775808");
        // An open span is written as ending where it started.
        assert_eq!(span["endTimeUnixNano"], "5");
        assert!(span.get("events").is_none() && span.get("links").is_none());
        assert_eq!(span["status"], serde_json::json!({ "code": 0 }));
        assert_eq!(parse(&[], 0), serde_json::json!({ "resourceSpans": [] }));
    }

    #[test]
    fn sizes_are_close_to_the_encoded_size() {
        for n in [1usize, 20, 200] {
            let spans: Vec<Span> = (0..n).map(|_| sample()).collect();
            let mut out = Vec::new();
            encode(&mut out, &Attrs::default(), &Contexts::default(), &spans, Losses::default());
            let estimate: usize = spans.iter().map(Span::size).sum();
            assert!(estimate >= out.len() * 3 / 4 && estimate <= out.len() * 3 / 2, "{n}: {estimate} vs {}", out.len());
        }
    }
}
