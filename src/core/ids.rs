//! Trace and span ids, and the random pool they are drawn from.

use alloc::string::String;
use alloc::vec::Vec;

/// A W3C trace id: 16 bytes, all zero meaning invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

/// A W3C span (parent) id: 8 bytes, all zero meaning invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as lower-case hex.
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

/// `bytes` as lower-case hex.
///
/// ```
/// assert_eq!(waggle_rum::core::ids::hex(&[0, 0xab]), "00ab");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    super::num::bytes_to_string(out)
}

/// Reads lower-case hex into `out`; false (and `out` unspecified) for any
/// other length or character. Upper case is refused, as W3C trace context
/// requires.
///
/// ```
/// let mut b = [0u8; 2];
/// assert!(waggle_rum::core::ids::read_hex(b"00ab", &mut b) && b == [0, 0xab]);
/// assert!(!waggle_rum::core::ids::read_hex(b"00AB", &mut b));
/// ```
pub fn read_hex(s: &[u8], out: &mut [u8]) -> bool {
    if s.len() != out.len() * 2 {
        return false;
    }
    fn nib(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        match (nib(s[2 * i]), nib(s[2 * i + 1])) {
            (Some(h), Some(l)) => *o = (h << 4) | l,
            _ => return false,
        }
    }
    true
}

impl TraceId {
    /// Whether the id is not all zeros.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 16]
    }

    /// Parses 32 lower-case hex characters; `None` for anything else,
    /// including the invalid all-zero id.
    ///
    /// ```
    /// use waggle_rum::core::ids::TraceId;
    /// assert!(TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").is_some());
    /// assert!(TraceId::from_hex("00000000000000000000000000000000").is_none());
    /// ```
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut b = [0u8; 16];
        (read_hex(s.as_bytes(), &mut b) && b != [0; 16]).then_some(TraceId(b))
    }

    /// The id as 32 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl SpanId {
    /// Whether the id is not all zeros.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 8]
    }

    /// Parses 16 lower-case hex characters; `None` for anything else,
    /// including the invalid all-zero id.
    ///
    /// ```
    /// use waggle_rum::core::ids::SpanId;
    /// assert_eq!(SpanId::from_hex("b7ad6b7169203331").unwrap().to_hex(), "b7ad6b7169203331");
    /// ```
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut b = [0u8; 8];
        (read_hex(s.as_bytes(), &mut b) && b != [0; 8]).then_some(SpanId(b))
    }

    /// The id as 16 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

const POOL: usize = 256;

/// Hands out random, non-zero ids from a pool refilled 256 bytes at a time
/// by the platform's `crypto.getRandomValues`.
///
/// ```
/// use waggle_rum::core::ids::Ids;
/// let mut n = 0u8;
/// let mut ids = Ids::new();
/// let mut fill = |buf: &mut [u8]| for b in buf { n = n.wrapping_add(1); *b = n; };
/// assert!(ids.trace_id(&mut fill).is_valid());
/// assert!(ids.span_id(&mut fill).is_valid());
/// ```
pub struct Ids {
    pool: [u8; POOL],
    pos: usize,
}

impl Default for Ids {
    fn default() -> Self {
        Ids::new()
    }
}

impl Ids {
    /// An empty pool, filled on first use.
    pub fn new() -> Self {
        Ids { pool: [0; POOL], pos: POOL }
    }

    /// `N` random bytes, not all zero.
    pub fn bytes<const N: usize>(&mut self, fill: &mut dyn FnMut(&mut [u8])) -> [u8; N] {
        loop {
            if self.pos + N > POOL {
                fill(&mut self.pool);
                self.pos = 0;
            }
            let mut out = [0u8; N];
            out.copy_from_slice(&self.pool[self.pos..self.pos + N]);
            self.pos += N;
            // An all-zero id is invalid in W3C trace context: draw again.
            if out.iter().any(|b| *b != 0) {
                return out;
            }
        }
    }

    /// A new random trace id.
    pub fn trace_id(&mut self, fill: &mut dyn FnMut(&mut [u8])) -> TraceId {
        TraceId(self.bytes(fill))
    }

    /// A new random span id.
    pub fn span_id(&mut self, fill: &mut dyn FnMut(&mut [u8])) -> SpanId {
        SpanId(self.bytes(fill))
    }

    /// A uniform random number in 0..1 (jitter, metric ids).
    pub fn unit(&mut self, fill: &mut dyn FnMut(&mut [u8])) -> f64 {
        let b: [u8; 4] = self.bytes(fill);
        f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn zero_ids_are_redrawn() {
        let mut calls = 0;
        let mut fill = |buf: &mut [u8]| {
            calls += 1;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = if calls == 1 { 0 } else { (i % 251) as u8 + 1 };
            }
        };
        let mut ids = Ids::new();
        assert!(ids.trace_id(&mut fill).is_valid());
        assert!(ids.span_id(&mut fill).is_valid());
    }

    #[test]
    fn ids_are_distinct_across_refills() {
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut fill = |buf: &mut [u8]| {
            for b in buf {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
        };
        let mut ids = Ids::new();
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(ids.span_id(&mut fill)));
        }
        assert_eq!(ids.trace_id(&mut fill).to_hex().len(), 32);
        let u = ids.unit(&mut fill);
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn hex_round_trip_and_refusals() {
        let t = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(t.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in ["4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e473", "4bf92f3577b34da6a3ce929d0e0e4736a", "g bf92f3577b34da6a3ce929d0e0e473"] {
            assert!(TraceId::from_hex(bad).is_none(), "{bad}");
        }
        assert!(SpanId::from_hex("0000000000000000").is_none());
    }
}
