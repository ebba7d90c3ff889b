//! W3C Trace Context: `traceparent`, `tracestate`, and `Server-Timing`.
//!
//! Everything here comes from pages and servers Waggle does not control, so
//! parsing follows the W3C rules strictly and a value that breaks one is
//! ignored as a whole, never partly trusted.

use alloc::string::String;
use alloc::vec::Vec;

use super::ids::{push_hex, read_hex, SpanId, TraceId};

/// The parts of a valid `traceparent`.
///
/// ```
/// use waggle_rum::core::tracecontext::parse_traceparent;
/// let p = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
/// assert_eq!(p.flags & 1, 1);
/// assert_eq!(p.to_header(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
/// assert!(parse_traceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// Trace id (never zero).
    pub trace_id: TraceId,
    /// The parent span id (never zero).
    pub span_id: SpanId,
    /// Trace flags: the sampled bit (1) and the random-trace-id bit (2);
    /// other bits are not carried forward.
    pub flags: u8,
}

impl TraceParent {
    /// Formats the version-00 header value.
    pub fn to_header(&self) -> String {
        format_traceparent(self.trace_id, self.span_id, self.flags)
    }
}

/// Formats a version-00 `traceparent` header value.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// let h = waggle_rum::core::tracecontext::format_traceparent(TraceId([1; 16]), SpanId([2; 8]), 3);
/// assert_eq!(h, "00-01010101010101010101010101010101-0202020202020202-03");
/// ```
pub fn format_traceparent(trace_id: TraceId, span_id: SpanId, flags: u8) -> String {
    let mut out = Vec::with_capacity(55);
    out.extend_from_slice(b"00-");
    push_hex(&mut out, &trace_id.0);
    out.push(b'-');
    push_hex(&mut out, &span_id.0);
    out.push(b'-');
    push_hex(&mut out, &[flags & FLAGS_KNOWN]);
    super::num::bytes_to_string(out)
}

/// The trace-flags bits this version knows: sampled and random trace id.
pub const FLAGS_KNOWN: u8 = 0b11;

/// Parses a `traceparent` value by the W3C rules: lowercase hex only,
/// version `ff` invalid, version `00` exactly 55 characters, later versions
/// at least 55 with a `-` after the flags, ids never all zero.
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let v = value.trim_matches(|c| c == ' ' || c == '\t').as_bytes();
    if v.len() < 55 || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let mut version = [0u8; 1];
    if !read_hex(&v[0..2], &mut version) || version[0] == 0xff {
        return None;
    }
    if version[0] == 0 && v.len() != 55 {
        return None;
    }
    if v.len() > 55 && v[55] != b'-' {
        return None;
    }
    let mut trace = [0u8; 16];
    let mut span = [0u8; 8];
    let mut flags = [0u8; 1];
    if !read_hex(&v[3..35], &mut trace) || !read_hex(&v[36..52], &mut span) || !read_hex(&v[53..55], &mut flags) {
        return None;
    }
    if trace == [0; 16] || span == [0; 8] {
        return None;
    }
    Some(TraceParent {
        trace_id: TraceId(trace),
        span_id: SpanId(span),
        flags: flags[0] & FLAGS_KNOWN,
    })
}

/// Validates a `tracestate` value and returns it normalised (members
/// trimmed, empty members removed), or `None` when any member breaks the
/// W3C rules, in which case the whole header is dropped.
///
/// ```
/// use waggle_rum::core::tracecontext::parse_tracestate as ok;
/// assert_eq!(ok("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE").as_deref(), Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
/// assert_eq!(ok("Rojo=1"), None);
/// ```
pub fn parse_tracestate(value: &str) -> Option<String> {
    let mut members: Vec<&str> = Vec::new();
    for member in value.split(',') {
        let m = member.trim_matches(|c| c == ' ' || c == '\t');
        if m.is_empty() {
            continue;
        }
        let (key, val) = m.split_once('=')?;
        if !valid_key(key) || !valid_value(val) {
            return None;
        }
        if members.iter().any(|other| other.split_once('=').map(|(k, _)| k) == Some(key)) {
            return None;
        }
        members.push(m);
    }
    if members.len() > 32 {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(m);
    }
    Some(out)
}

fn valid_key(key: &str) -> bool {
    let simple = |s: &str, max: usize| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= max
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/'))
    };
    match key.split_once('@') {
        None => simple(key, 256),
        Some((tenant, system)) => simple(tenant, 241) && simple(system, 14) && system.as_bytes()[0].is_ascii_lowercase(),
    }
}

fn valid_value(val: &str) -> bool {
    let b = val.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter().all(|c| (0x20..=0x7e).contains(c) && *c != b',' && *c != b'=')
        && b[b.len() - 1] != b' '
}

/// Finds `traceparent;desc="00-..."` in a `Server-Timing` header (or in the
/// `serverTiming` entries a browser exposes, joined with commas) and parses
/// its description as a `traceparent`.
///
/// ```
/// use waggle_rum::core::tracecontext::server_timing_traceparent;
/// let h = r#"db;dur=53, traceparent;desc="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01""#;
/// assert!(server_timing_traceparent(h).is_some());
/// ```
pub fn server_timing_traceparent(header: &str) -> Option<TraceParent> {
    for metric in split_unquoted(header, b',') {
        let mut parts = split_unquoted(metric, b';').into_iter();
        let name = parts.next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("traceparent") {
            continue;
        }
        for param in parts {
            let (k, v) = match param.split_once('=') {
                Some(kv) => kv,
                None => continue,
            };
            if k.trim().eq_ignore_ascii_case("desc") {
                return parse_traceparent(&unquote(v.trim()));
            }
        }
    }
    None
}

fn split_unquoted(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && c == b'\\' {
            escaped = true;
        } else if c == b'"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        None => String::from(v),
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut esc = false;
            for c in inner.chars() {
                if esc || c != '\\' {
                    out.push(c);
                    esc = false;
                } else {
                    esc = true;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn accepts_a_valid_header() {
        let p = parse_traceparent(GOOD).unwrap();
        assert_eq!(p.trace_id, TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap());
        assert_eq!(p.span_id, SpanId::from_hex("b7ad6b7169203331").unwrap());
        assert_eq!(p.flags, 1);
        assert_eq!(p.to_header(), GOOD);
        assert_eq!(parse_traceparent(&GOOD.replace("-01", "-00")).unwrap().flags, 0);
        // Unknown flag bits are not carried forward; the random bit is.
        assert_eq!(parse_traceparent(&GOOD.replace("-01", "-ff")).unwrap().flags, 3);
        assert!(parse_traceparent(&format!(" {GOOD}\t")).is_some());
    }

    #[test]
    fn rejects_each_w3c_violation() {
        let cases = [
            ("too short", &GOOD[..54]),
            ("too long for version 00", &format!("{GOOD}-extra")[..]),
            ("uppercase", &GOOD.to_uppercase()[..]),
            ("uppercase trace id", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"),
            ("non-hex", "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01"),
            ("zero trace id", "00-00000000000000000000000000000000-b7ad6b7169203331-01"),
            ("zero span id", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"),
            ("version ff", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("bad version chars", "0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("wrong separators", "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"),
            ("short span id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-001"),
            ("empty", ""),
            ("future version, no dash", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x"),
            ("non-ascii", "00-0af7651916cd43dd8448eb211c80319é-b7ad6b7169203331-01"),
        ];
        for (why, value) in cases {
            assert!(parse_traceparent(value).is_none(), "{why}: {value}");
        }
    }

    #[test]
    fn future_versions_may_carry_more_fields() {
        assert!(parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever").is_some());
        assert!(parse_traceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some());
    }

    #[test]
    fn tracestate_rules() {
        assert_eq!(parse_tracestate("a=1").as_deref(), Some("a=1"));
        assert_eq!(parse_tracestate("a=1,,  b@sys=2 ").as_deref(), Some("a=1,b@sys=2"));
        assert_eq!(parse_tracestate(""), Some(String::new()));
        assert_eq!(parse_tracestate("A=1"), None);
        assert_eq!(parse_tracestate("a"), None);
        assert_eq!(parse_tracestate("a=1,a=2"), None);
        assert_eq!(parse_tracestate("a=x=y"), None);
        assert_eq!(parse_tracestate("a=\u{7f}"), None);
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_tracestate(&many.join(",")), None);
        assert_eq!(parse_tracestate(&format!("a={}", "v".repeat(257))), None);
    }

    #[test]
    fn server_timing_forms() {
        let quoted = format!(r#"cache;desc="hit, then miss";dur=1, traceparent;desc="{GOOD}""#);
        assert_eq!(server_timing_traceparent(&quoted).unwrap().to_header(), GOOD);
        let bare = format!("traceparent;desc={GOOD}");
        assert!(server_timing_traceparent(&bare).is_some());
        let spaced = format!("TraceParent ; desc = \"{GOOD}\"");
        assert!(server_timing_traceparent(&spaced).is_some());
        assert!(server_timing_traceparent("traceparent;dur=3").is_none());
        assert!(server_timing_traceparent(&format!("traceparent;desc=\"{}\"", GOOD.to_uppercase())).is_none());
        assert!(server_timing_traceparent("").is_none());
        assert!(server_timing_traceparent("traceparent;desc=\"unterminated").is_none());
    }
}
