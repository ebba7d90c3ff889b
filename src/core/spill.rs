//! Bodies a leaving page could not send, as kept in `localStorage` for the
//! next page of the origin.
//!
//! A browser lets a page have at most 64 KiB of `keepalive` bodies in
//! flight, and nothing else outlives the page: what does not fit is kept
//! as complete OTLP/JSON bodies, each with the endpoint it was for and its
//! span count, bounded by [`MAX_CHARS`] for all pages of the origin
//! together. The format is plain text, cheap to read and extend:
//! `w1` then, for each body, `\x1e` url `\x1f` count `\x1f` body. JSON bodies
//! and URLs never hold those two control characters raw. A record whose
//! body is [`DROPPED`], [`UNCONFIRMED`] or [`CONFIRMED`] carries only a
//! count. A value in
//! any other form (an older agent's) is ignored.

use alloc::string::String;
use alloc::vec::Vec;

/// The storage key the module names; the page writes it as
/// `waggle.unsent.<a random id of the page>`, and takes every other page's.
pub const KEY: &str = "waggle.unsent";

/// Most characters one page keeps (each page writes a key of its own, so
/// tabs leaving at once never overwrite each other): some 2,000 spans, and
/// a fifth of the smallest per-origin storage quota (5 MiB), which the app
/// needs more than the agent does.
pub const MAX_CHARS: usize = 1_000_000;

/// Most characters kept in one hide: encoding and writing more would hold
/// the page's main thread past 50 ms as it goes (some 2,000 spans; more are
/// dropped and counted).
pub const HIDE_CHARS: usize = 600_000;

const MAGIC: &str = "w1";

/// The body of a record that carries only a count: spans a page lost,
/// for the next page's `waggle.dropped_spans`.
pub const DROPPED: &str = "dropped";
/// Likewise for `waggle.unconfirmed_spans`.
pub const UNCONFIRMED: &str = "unconfirmed";
/// Spans a page counted as unconfirmed and then saw answered: taken off
/// the count.
pub const CONFIRMED: &str = "confirmed";
const REC: char = '\u{1e}';
const UNIT: char = '\u{1f}';

/// Whether a record's body is one of the counts.
pub fn is_count(body: &str) -> bool {
    [DROPPED, UNCONFIRMED, CONFIRMED].contains(&body)
}

/// One kept body.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept<'a> {
    /// The endpoint it was for.
    pub url: &'a str,
    /// Spans in it.
    pub spans: usize,
    /// The OTLP/JSON body.
    pub body: &'a str,
}

/// The bodies in a stored value, in the order they were kept.
///
/// ```
/// use waggle_rum::core::spill::{append, parse};
/// let mut v = String::new();
/// assert_eq!(append(&mut v, "https://c/v1/traces", 3, "{}"), true);
/// let kept = parse(&v);
/// assert_eq!((kept[0].url, kept[0].spans, kept[0].body), ("https://c/v1/traces", 3, "{}"));
/// assert!(parse("[[\"old\",\"format\"]]").is_empty());
/// ```
pub fn parse(value: &str) -> Vec<Kept<'_>> {
    let mut out = Vec::new();
    let Some(rest) = value.strip_prefix(MAGIC) else { return out };
    for rec in rest.split(REC).skip(1) {
        let mut parts = rec.splitn(3, UNIT);
        let (Some(url), Some(n), Some(body)) = (parts.next(), parts.next(), parts.next()) else { continue };
        out.push(Kept { url, spans: super::num::parse_u64(n).unwrap_or(0) as usize, body });
    }
    out
}

/// Adds a body to `value` if it stays within [`MAX_CHARS`]; false (and
/// `value` unchanged) if not.
pub fn append(value: &mut String, url: &str, spans: usize, body: &str) -> bool {
    if !value.starts_with(MAGIC) {
        value.clear();
        value.push_str(MAGIC);
    }
    // A count always fits: it is what tells of the bodies that did not.
    if value.len() + url.len() + body.len() + 24 > MAX_CHARS && !is_count(body) {
        return false;
    }
    value.push(REC);
    value.push_str(url);
    value.push(UNIT);
    value.push_str(&super::num::u64_str(spans as u64));
    value.push(UNIT);
    value.push_str(body);
    true
}

/// Takes the bodies kept for `url` out of `value`: returns them (as owned
/// strings with their span counts) and what remains to write back (`None`
/// when nothing should be kept).
pub fn take(value: &str, url: &str) -> (Vec<(String, usize)>, Option<String>) {
    let mut mine = Vec::new();
    let mut rest = String::new();
    for k in parse(value) {
        if k.url == url {
            mine.push((String::from(k.body), k.spans));
        } else {
            append(&mut rest, k.url, k.spans, k.body);
        }
    }
    (mine, (!rest.is_empty()).then_some(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_for_other_endpoints_stay_and_the_bound_holds() {
        let mut v = String::new();
        assert!(append(&mut v, "a", 1, "{\"x\":\"\\u001e\"}"));
        assert!(append(&mut v, "b", 2, "{}"));
        assert!(append(&mut v, "a", 3, "{}"));
        let (mine, rest) = take(&v, "a");
        assert_eq!(mine, vec![("{\"x\":\"\\u001e\"}".to_string(), 1), ("{}".to_string(), 3)]);
        assert_eq!(parse(rest.as_deref().unwrap()), vec![Kept { url: "b", spans: 2, body: "{}" }]);
        let (none, gone) = take(rest.as_deref().unwrap(), "b");
        assert_eq!((none.len(), gone), (1, None));
        let big = "x".repeat(MAX_CHARS / 2);
        let mut v = String::new();
        assert!(append(&mut v, "a", 1, &big));
        assert!(!append(&mut v, "a", 1, &big));
        assert_eq!(parse(&v).len(), 1);
        assert!(parse("w1garbage\u{1e}no units").is_empty());
    }
}
