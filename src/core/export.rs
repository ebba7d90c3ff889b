//! The export policy: what an answer means, how long to wait before a
//! retry, and what a Collector's `partialSuccess` says.

use alloc::string::String;

/// What to do after an export attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (also a partial success: retrying would duplicate).
    Done,
    /// Try again later.
    Retry,
    /// Too large: split the batch and send the halves.
    Split,
    /// Rejected for good (the body is wrong, or the endpoint refuses).
    Drop,
}

/// Classifies an HTTP status; `None` is a dropped connection.
///
/// ```
/// use waggle_rum::core::export::{classify, Outcome};
/// assert_eq!(classify(Some(429)), Outcome::Retry);
/// assert_eq!(classify(Some(400)), Outcome::Drop);
/// assert_eq!(classify(None), Outcome::Retry);
/// ```
pub fn classify(status: Option<u16>) -> Outcome {
    match status {
        None => Outcome::Retry,
        Some(200..=299) => Outcome::Done,
        Some(413) => Outcome::Split,
        Some(429 | 502 | 503 | 504) => Outcome::Retry,
        Some(_) => Outcome::Drop,
    }
}

/// Exponential backoff with jitter, honouring `Retry-After`.
///
/// A page has nowhere else to keep its spans, so while the Collector is
/// unreachable it keeps retrying (the delay capped at `max_ms`) for as long
/// as the queue holds them: spans are lost only to the queue's bound, and
/// those are counted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Attempts in all, the first included; `u32::MAX` never gives up.
    pub max_attempts: u32,
    /// First delay in ms.
    pub initial_ms: f64,
    /// Longest delay in ms (a `Retry-After` may ask for more, up to `max_retry_after_ms`).
    pub max_ms: f64,
    /// Growth per attempt.
    pub multiplier: f64,
    /// Longest `Retry-After` honoured; a longer one waits this long.
    pub max_retry_after_ms: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { max_attempts: u32::MAX, initial_ms: 1000.0, max_ms: 30_000.0, multiplier: 2.0, max_retry_after_ms: 120_000.0 }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1 for the first retry), or
    /// `None` when attempts are used up. `jitter` is uniform in 0..1 and
    /// moves the delay by up to ±20 %.
    ///
    /// ```
    /// use waggle_rum::core::export::Backoff;
    /// let b = Backoff::default();
    /// assert_eq!(b.delay_ms(1, None, 0.5), Some(1000.0));
    /// assert_eq!(b.delay_ms(2, Some(7000.0), 0.0), Some(7000.0));
    /// assert_eq!(b.delay_ms(60, None, 0.5), Some(30_000.0));
    /// let short = Backoff { max_attempts: 3, ..Backoff::default() };
    /// assert_eq!(short.delay_ms(3, None, 0.5), None);
    /// ```
    pub fn delay_ms(&self, attempt: u32, retry_after_ms: Option<f64>, jitter: f64) -> Option<f64> {
        if attempt >= self.max_attempts {
            return None;
        }
        if let Some(ra) = retry_after_ms.filter(|v| v.is_finite() && *v >= 0.0) {
            return Some(ra.min(self.max_retry_after_ms));
        }
        // Capped before the power overflows to infinity.
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let mut base = self.initial_ms;
        for _ in 0..exp {
            base = (base * self.multiplier).min(self.max_ms);
        }
        let base = base.min(self.max_ms);
        Some(base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
    }
}

/// What a Collector's `partialSuccess` answer reports: spans it rejected
/// and why. Parsed from the 200 answer's OTLP/JSON body by hand (no JSON
/// library in the module); `None` when nothing was rejected.
///
/// ```
/// use waggle_rum::core::export::partial_success;
/// let body = r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}}"#;
/// assert_eq!(partial_success(body), Some((2, "too old".to_string())));
/// assert_eq!(partial_success(r#"{"partialSuccess":{}}"#), None);
/// assert_eq!(partial_success(""), None);
/// ```
pub fn partial_success(body: &str) -> Option<(u64, String)> {
    let at = super::text::find(body, "\"partialSuccess\"")?;
    let rest = &body[at..];
    let rejected = json_field(rest, "rejectedSpans")?;
    let n = super::num::parse_u64(rejected.trim_matches('"'))?;
    if n == 0 {
        return None;
    }
    let message = json_field(rest, "errorMessage").map(|m| unescape(m.trim_matches('"'))).unwrap_or_default();
    Some((n, message))
}

/// The raw value after `"key":` (a quoted string with its quotes, or a bare
/// token), within `s`.
fn json_field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut quoted = String::from("\"");
    quoted.push_str(key);
    quoted.push('"');
    let at = super::text::find(s, &quoted)? + quoted.len();
    let rest = s[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(inner) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some(&rest[..i + 2]),
                _ => escaped = false,
            }
        }
        None
    } else {
        let end = rest.find(|c: char| c == ',' || c == '}' || c.is_whitespace()).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// Enough of JSON's string escapes for a message on the console.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let mut code = 0u32;
                let mut ok = true;
                for _ in 0..4 {
                    match chars.next().and_then(|c| c.to_digit(16)) {
                        Some(d) => code = code * 16 + d,
                        None => ok = false,
                    }
                }
                out.push(if ok { char::from_u32(code).unwrap_or('\u{fffd}') } else { '\u{fffd}' });
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Parses `Retry-After` as delay-seconds; an HTTP date needs the browser's
/// clock and is handled by the shell.
pub fn retry_after_seconds(value: &str) -> Option<f64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()) {
        super::num::parse_u64(v).map(|s| s as f64 * 1000.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [200, 202] {
            assert_eq!(classify(Some(s)), Outcome::Done);
        }
        for s in [429, 502, 503, 504] {
            assert_eq!(classify(Some(s)), Outcome::Retry);
        }
        for s in [400, 401, 403, 404, 500, 501] {
            assert_eq!(classify(Some(s)), Outcome::Drop);
        }
        assert_eq!(classify(Some(413)), Outcome::Split);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let b = Backoff::default();
        assert_eq!(b.delay_ms(1, None, 0.0), Some(800.0));
        assert_eq!(b.delay_ms(1, None, 1.0).map(f64::round), Some(1200.0));
        assert_eq!(b.delay_ms(3, None, 0.5), Some(4000.0));
        assert_eq!(b.delay_ms(5, None, 0.5), Some(16000.0));
        // A long Retry-After waits the longest honoured delay, not forever
        // and not never.
        assert_eq!(b.delay_ms(2, Some(500_000.0), 0.5), Some(120_000.0));
        // An outage of any length is retried, at most every 30 s (±20 %).
        assert_eq!(b.delay_ms(6, None, 0.5), Some(30_000.0));
        assert_eq!(b.delay_ms(u32::MAX - 1, None, 1.0).map(f64::round), Some(36_000.0));
        let waited: f64 = (1..=5).map(|a| b.delay_ms(a, None, 0.0).unwrap()).sum();
        assert!(waited < 20_000.0 + 30_000.0);
        assert_eq!(retry_after_seconds(" 12 "), Some(12_000.0));
        assert_eq!(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_seconds("-1"), None);
    }

    #[test]
    fn partial_success_is_read_from_the_answer() {
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad \"span\"\n"}}"#), Some((2, "bad \"span\"\n".into())));
        assert_eq!(partial_success(r#"{ "partialSuccess" : { "errorMessage" : "x", "rejectedSpans" : 7 } }"#), Some((7, "x".into())));
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"0"}}"#), None);
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"3"}}"#), Some((3, String::new())));
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"-1"}}"#), None);
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"5","errorMessage":"\u00e9t\u00e9"}}"#), Some((5, "été".into())));
        // Malformed answers are ignored, never a panic.
        for body in ["{", "\"partialSuccess\"", r#"{"partialSuccess":{"rejectedSpans":"#, r#"{"partialSuccess":{"rejectedSpans":"9","errorMessage":"unterminated"#, "\u{1F600}\"partialSuccess\":{\"rejectedSpans\":\"1\",\"errorMessage\":\"\\u12\"}"] {
            let _ = partial_success(body);
        }
        assert_eq!(partial_success(r#"{"partialSuccess":{"rejectedSpans":"9","errorMessage":"unterminated"#), Some((9, String::new())));
    }
}
