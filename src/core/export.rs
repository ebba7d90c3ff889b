//! Export policy: the bounded span queue, when to send, how to split a
//! body, and what to do with each answer from the Collector.

use std::collections::VecDeque;

use opentelemetry::KeyValue;

use super::context::Contexts;
use super::otlp::{encode_grouped, Scope};
use super::span::SpanData;

/// Finished spans waiting for export, bounded: past the limit the oldest
/// go, and how many went is kept so the next export can report it.
///
/// ```
/// use waggle_rum::core::export::SpanQueue;
/// let mut q: SpanQueue<u32> = SpanQueue::new(2);
/// q.push(1); q.push(2); q.push(3);
/// assert_eq!(q.take(10), vec![2, 3]);
/// assert_eq!(q.take_dropped(), 1);
/// ```
pub struct SpanQueue<T> {
    items: VecDeque<T>,
    max: usize,
    dropped: u64,
}

impl<T> SpanQueue<T> {
    /// A queue holding at most `max` items.
    pub fn new(max: usize) -> Self {
        SpanQueue { items: VecDeque::new(), max: max.max(1), dropped: 0 }
    }

    /// Adds an item, dropping the oldest when full.
    pub fn push(&mut self, item: T) {
        if self.items.len() >= self.max {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// Puts items back at the front (a failed request to retry), oldest
    /// first, dropping what no longer fits.
    pub fn requeue(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            if self.items.len() >= self.max {
                self.dropped += 1;
            } else {
                self.items.push_front(item);
            }
        }
    }

    /// Takes up to `n` of the oldest items.
    pub fn take(&mut self, n: usize) -> Vec<T> {
        let n = n.min(self.items.len());
        self.items.drain(..n).collect()
    }

    /// Takes up to `n` of the oldest items, stopping once their `size`
    /// adds up to `budget` (always at least one item).
    ///
    /// ```
    /// use waggle_rum::core::export::SpanQueue;
    /// let mut q: SpanQueue<usize> = SpanQueue::new(10);
    /// for s in [4, 4, 4, 4] { q.push(s); }
    /// assert_eq!(q.take_within(10, 9, |s| *s), vec![4, 4]);
    /// assert_eq!(q.take_within(10, 1, |s| *s), vec![4]);
    /// ```
    pub fn take_within(&mut self, n: usize, budget: usize, size: impl Fn(&T) -> usize) -> Vec<T> {
        let mut total = 0;
        let mut count = 0;
        for item in self.items.iter().take(n) {
            total += size(item);
            if count > 0 && total > budget {
                break;
            }
            count += 1;
        }
        self.items.drain(..count).collect()
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items dropped since the last call, resetting the count.
    pub fn take_dropped(&mut self) -> u64 {
        core::mem::take(&mut self.dropped)
    }

    /// Counts items lost elsewhere (a request that could not be retried).
    pub fn add_dropped(&mut self, n: u64) {
        self.dropped += n;
    }
}

/// About how many bytes `span` takes in an OTLP/JSON body: enough to keep
/// the work of encoding one batch, which happens in one task, small.
///
/// ```
/// use opentelemetry::trace::{SpanId, SpanKind, TraceId};
/// use waggle_rum::core::export::estimated_size;
/// use waggle_rum::core::span::SpanData;
/// let s = SpanData::new("s", SpanKind::Internal, TraceId::from_bytes([1; 16]), SpanId::from_bytes([1; 8]), None, 1);
/// assert!(estimated_size(&s) > 100);
/// ```
pub fn estimated_size(span: &SpanData) -> usize {
    // Not `Value::as_str`, which formats numbers and arrays: the module
    // would carry the formatting for an estimate.
    fn value(v: &opentelemetry::Value) -> usize {
        match v {
            opentelemetry::Value::String(s) => s.as_str().len(),
            opentelemetry::Value::Array(opentelemetry::Array::String(items)) => items.iter().map(|i| i.as_str().len() + 20).sum(),
            opentelemetry::Value::Array(_) => 64,
            _ => 24,
        }
    }
    fn attrs(list: &[KeyValue]) -> usize {
        list.iter().map(|kv| kv.key.as_str().len() + value(&kv.value) + 40).sum()
    }
    let events: usize = span.events.iter().map(|e| e.name.len() + 40 + attrs(&e.attributes)).sum();
    let links: usize = span.links.iter().map(|l| 100 + attrs(&l.attributes)).sum();
    200 + span.name.len() + span.trace_state.len() + attrs(&span.attributes) + events + links
}

/// Encodes `spans` as request bodies of at most `max_bytes` each, for the
/// browser's 64 KiB budget on `keepalive` requests and beacons. A single
/// span larger than the budget gets a body of its own; `dropped` goes in
/// the first body only.
///
/// ```
/// use waggle_rum::core::export::encode_chunks;
/// use waggle_rum::core::otlp::Scope;
/// let bodies = encode_chunks(&[], &Scope { name: "w", version: "1" }, &Default::default(), &[], 0, 60_000);
/// assert!(bodies.is_empty());
/// ```
pub fn encode_chunks(resource: &[KeyValue], scope: &Scope, contexts: &Contexts, spans: &[SpanData], dropped: u64, max_bytes: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < spans.len() {
        // Start from what the estimate says fits, rather than encoding all
        // that remains for every chunk; shrink when it does not fit.
        let mut end = start;
        let mut estimate = 0;
        while end < spans.len() {
            estimate += estimated_size(&spans[end]);
            if end > start && estimate > max_bytes {
                break;
            }
            end += 1;
        }
        let mut body = encode_grouped(resource, scope, contexts, &spans[start..end], if start == 0 { dropped } else { 0 });
        while body.len() > max_bytes && end - start > 1 {
            let fit = ((end - start) * max_bytes / body.len()).max(1);
            end = start + fit.min(end - start - 1);
            body = encode_grouped(resource, scope, contexts, &spans[start..end], if start == 0 { dropped } else { 0 });
        }
        out.push((body, end - start));
        start = end;
    }
    out
}

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
        let base = (self.initial_ms * self.multiplier.powi(exp)).min(self.max_ms);
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
    let at = body.find("\"partialSuccess\"")?;
    let rest = &body[at..];
    let rejected = json_field(rest, "rejectedSpans")?;
    let n: u64 = rejected.trim_matches('"').parse().ok()?;
    if n == 0 {
        return None;
    }
    let message = json_field(rest, "errorMessage").map(|m| unescape(m.trim_matches('"'))).unwrap_or_default();
    Some((n, message))
}

/// The raw value after `"key":` (a quoted string with its quotes, or a bare
/// token), within `s`.
fn json_field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let quoted = format!("\"{key}\"");
    let at = s.find(&quoted)? + quoted.len();
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
                let hex: String = chars.by_ref().take(4).collect();
                out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
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
        v.parse::<u32>().ok().map(|s| f64::from(s) * 1000.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::SpanLimits;
    use opentelemetry::trace::{SpanId, SpanKind, TraceId};

    fn spans(n: usize, attr_len: usize) -> Vec<SpanData> {
        (0..n)
            .map(|i| {
                let mut s = SpanData::new("s", SpanKind::Internal, TraceId::from_bytes([1; 16]), SpanId::from_bytes([i as u8 + 1; 8]), None, 1);
                s.set_attribute(&SpanLimits { max_attribute_length: usize::MAX, ..SpanLimits::default() }, "a", "x".repeat(attr_len).into());
                s
            })
            .collect()
    }

    #[test]
    fn chunks_respect_the_keepalive_budget_and_keep_every_span() {
        let all = spans(200, 900);
        let scope = Scope { name: "waggle-rum", version: "0" };
        let chunks = encode_chunks(&[KeyValue::new("service.name", "s")], &scope, &Contexts::default(), &all, 0, 60_000);
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|(b, _)| b.len() <= 60_000));
        assert_eq!(chunks.iter().map(|(_, n)| n).sum::<usize>(), 200);
        let big = spans(1, 100_000);
        let chunks = encode_chunks(&[], &scope, &Contexts::default(), &big, 0, 60_000);
        assert_eq!(chunks.len(), 1);
    }

    #[test]
    fn queue_drops_oldest_and_counts() {
        let mut q = SpanQueue::new(3);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.take_dropped(), 2);
        assert_eq!(q.take_dropped(), 0);
        let batch = q.take(2);
        assert_eq!(batch, vec![2, 3]);
        q.push(5);
        q.push(6);
        // A failed batch is older than anything queued since, so when the
        // queue is full it is what goes.
        q.requeue(batch);
        assert_eq!(q.take(10), vec![4, 5, 6]);
        assert_eq!(q.take_dropped(), 2);
        q.requeue(vec![7, 8]);
        assert_eq!(q.take(10), vec![7, 8]);
    }

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

    #[test]
    fn estimated_sizes_are_close_to_the_encoded_ones() {
        let scope = Scope { name: "waggle-rum", version: "0" };
        for (n, len) in [(1, 10), (50, 300), (200, 5)] {
            let all = spans(n, len);
            let body = crate::core::otlp::encode_request(&[], &scope, &all).len();
            let estimate: usize = all.iter().map(estimated_size).sum();
            assert!(estimate >= body / 2 && estimate <= body * 2, "{n} spans: estimate {estimate}, body {body}");
        }
        let mut q = SpanQueue::new(100);
        for s in spans(10, 1000) {
            q.push(s);
        }
        let batch = q.take_within(512, 3000, estimated_size);
        assert_eq!(batch.len(), 2);
        assert_eq!(q.len(), 8);
    }
}
