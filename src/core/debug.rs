//! What `debug` prints for the spans of an export: one line per span with
//! its name, duration, the few attributes that say what it was, and its
//! trace id (and a link to the trace, when `debug.traceUrl` gives one).
//!
//! Written from the span as it is encoded, byte by byte (no `core::fmt`):
//! attribute values are shown as they read in the OTLP/JSON, strings with
//! their quotes.

use alloc::string::String;
use alloc::vec::Vec;

use super::ids::push_hex;
use super::num::{push_f64, push_u64, round};
use super::span::{status, Span};

/// The attributes a span's line shows, where the span has them.
pub const KEYS: [&str; 6] =
    ["url.full", "http.response.status_code", "waggle.route.to", "waggle.target.selector", "browser.web_vital.value", "exception.message"];

/// The text of an attribute value in the list's JSON (`value` starts at
/// its `AnyValue` object): a string with its quotes, a number or boolean
/// bare, an integer without the quotes OTLP puts around it; an array is
/// `[...]`.
///
/// ```
/// use waggle_rum::core::debug::value_text;
/// assert_eq!(value_text(br#"{"stringValue":"a\"}b"}},{"key":"#), br#""a\"}b""#);
/// assert_eq!(value_text(br#"{"intValue":"200"}}"#), b"200");
/// assert_eq!(value_text(br#"{"doubleValue":0.25}}"#), b"0.25");
/// assert_eq!(value_text(br#"{"arrayValue":{"values":[]}}}"#), b"[...]");
/// ```
pub fn value_text(value: &[u8]) -> &[u8] {
    // Past `{"stringValue":` (or another type's name).
    let Some(colon) = value.iter().position(|&b| b == b':') else { return b"" };
    let v = &value[colon + 1..];
    if v.first() == Some(&b'{') {
        return b"[...]";
    }
    let mut end = 0;
    let mut quoted = false;
    while end < v.len() && (quoted || v[end] != b'}') {
        match v[end] {
            b'\\' => end += 1,
            b'"' => quoted = !quoted,
            _ => {}
        }
        end += 1;
    }
    let v = &v[..end.min(v.len())];
    // An intValue is a string of digits in OTLP/JSON.
    if value[2] == b'i' {
        return &v[1..v.len() - 1];
    }
    v
}

/// Appends `span`'s line: `name 12.3 ms key=value ... trace <id>`, with
/// the trace's link after its id when `trace_url` has a `{traceId}` where
/// the id goes.
///
/// ```
/// use waggle_rum::core::debug::span_line;
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::span::{kind, Span};
/// let mut s = Span::new("GET", kind::CLIENT, TraceId([0xab; 16]), SpanId([1; 8]), None, 1_000_000);
/// s.set("url.full", "https://api.test/cart");
/// s.set("http.response.status_code", 200i64);
/// s.end(85_250_000);
/// let mut out = Vec::new();
/// span_line(&mut out, &s, "https://ui.test/trace?id={traceId}");
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "GET 84.3 ms url.full=\"https://api.test/cart\" http.response.status_code=200 trace abababababababababababababababab https://ui.test/trace?id=abababababababababababababababab"
/// );
/// ```
pub fn span_line(out: &mut Vec<u8>, span: &Span, trace_url: &str) {
    out.extend_from_slice(span.name.as_bytes());
    out.push(b' ');
    // Milliseconds to a tenth.
    push_f64(out, round(span.end_ns.saturating_sub(span.start_ns) as f64 / 1e5) / 10.0);
    out.extend_from_slice(b" ms");
    for key in KEYS {
        if let Some(v) = span.attrs.value(key) {
            out.push(b' ');
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            out.extend_from_slice(value_text(v));
        }
    }
    if span.status == status::ERROR {
        out.extend_from_slice(b" status=error");
    }
    let mut id = Vec::with_capacity(32);
    push_hex(&mut id, &span.trace_id.0);
    out.extend_from_slice(b" trace ");
    out.extend_from_slice(&id);
    // The link: the first `{traceId}` is where the id goes.
    if let Some((before, after)) = super::text::split_once(trace_url, "{traceId}") {
        out.push(b' ');
        out.extend_from_slice(before.as_bytes());
        out.extend_from_slice(&id);
        out.extend_from_slice(after.as_bytes());
    }
}

/// The text of an export's console group: a heading naming how many
/// spans it carries, then one line per span ([`span_line`]).
///
/// ```
/// use waggle_rum::core::debug::export_text;
/// assert_eq!(export_text(&[], ""), "export of 0 spans:");
/// ```
pub fn export_text(spans: &[Span], trace_url: &str) -> String {
    let mut out = Vec::with_capacity(64 + spans.len() * 120);
    out.extend_from_slice(b"export of ");
    push_u64(&mut out, spans.len() as u64);
    out.extend_from_slice(if spans.len() == 1 { b" span:" } else { b" spans:" });
    for s in spans {
        out.push(b'\n');
        span_line(&mut out, s, trace_url);
    }
    super::num::bytes_to_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::{SpanId, TraceId};
    use crate::core::span::{kind, Value};

    fn span(name: &'static str) -> Span {
        let mut s = Span::new(name, kind::INTERNAL, TraceId([0x0a; 16]), SpanId([2; 8]), None, 5_000_000);
        s.end(5_000_000);
        s
    }

    #[test]
    fn each_kind_of_span_shows_what_it_was() {
        let mut click = span("click");
        click.set("waggle.event.type", "click");
        click.set("waggle.target.selector", "#buy");
        click.end(125_049_999);
        let mut lcp = span("LCP");
        lcp.set("browser.web_vital.name", "lcp");
        lcp.set("browser.web_vital.value", 812.5);
        let mut err = span("exception");
        err.set("exception.message", "x is \"undefined\"\nat line 2");
        err.error("x is undefined");
        let mut route = span("routeChange");
        route.set("waggle.route.to", "/products/:id");
        let mut app = span("app.work");
        app.set("url.full", Value::Arr(vec![Value::Str("a".into()), Value::Int(1)]));
        let text = export_text(&[click, lcp, err, route, app], "");
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "export of 5 spans:");
        let id = "0a".repeat(16);
        assert_eq!(lines[1], format!("click 120 ms waggle.target.selector=\"#buy\" trace {id}"));
        assert_eq!(lines[2], format!("LCP 0 ms browser.web_vital.value=812.5 trace {id}"));
        assert_eq!(lines[3], format!("exception 0 ms exception.message=\"x is \\\"undefined\\\"\\nat line 2\" status=error trace {id}"));
        assert_eq!(lines[4], format!("routeChange 0 ms waggle.route.to=\"/products/:id\" trace {id}"));
        assert_eq!(lines[5], format!("app.work 0 ms url.full=[...] trace {id}"));
        assert_eq!(lines.len(), 6, "one line per span: a newline in a value stays escaped");
    }

    #[test]
    fn the_link_puts_the_trace_id_where_the_template_says_and_none_without_it() {
        let mut out = Vec::new();
        span_line(&mut out, &span("s"), "https://ui.test/{traceId}/x?t=1");
        let id = "0a".repeat(16);
        assert_eq!(String::from_utf8(out).unwrap(), format!("s 0 ms trace {id} https://ui.test/{id}/x?t=1"));
        assert_eq!(export_text(&[span("s")], "").lines().next(), Some("export of 1 span:"));
        let mut out = Vec::new();
        span_line(&mut out, &span("s"), "");
        assert_eq!(String::from_utf8(out).unwrap(), format!("s 0 ms trace {id}"));
    }

    #[test]
    fn a_key_is_found_whole_not_as_the_end_of_another() {
        let mut s = span("s");
        s.set("app.url.full", "no");
        s.set("x", "url.full");
        let mut out = Vec::new();
        span_line(&mut out, &s, "");
        assert!(!String::from_utf8(out).unwrap().contains("url.full="));
    }
}
