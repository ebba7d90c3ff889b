//! Trace and span ids from a random byte source.
//!
//! The browser shell fills the pool from `crypto.getRandomValues`; drawing
//! 256 bytes at a time keeps the JS boundary off the per-span path.

use opentelemetry::trace::{SpanId, TraceId};

const POOL: usize = 256;

/// Hands out non-zero 128-bit trace ids and 64-bit span ids.
///
/// ```
/// use waggle_rum::core::ids::IdGenerator;
/// let mut counter = 0u8;
/// let mut ids = IdGenerator::new(move |buf: &mut [u8]| {
///     for b in buf { counter = counter.wrapping_add(1); *b = counter; }
/// });
/// assert_ne!(ids.trace_id(), opentelemetry::trace::TraceId::INVALID);
/// assert_ne!(ids.span_id(), opentelemetry::trace::SpanId::INVALID);
/// ```
pub struct IdGenerator {
    pool: [u8; POOL],
    pos: usize,
    fill: Box<dyn FnMut(&mut [u8])>,
}

impl IdGenerator {
    /// Creates a generator drawing from `fill`, which must write random
    /// bytes into the whole slice it is given.
    pub fn new(fill: impl FnMut(&mut [u8]) + 'static) -> Self {
        IdGenerator { pool: [0; POOL], pos: POOL, fill: Box::new(fill) }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        loop {
            if self.pos + N > POOL {
                (self.fill)(&mut self.pool);
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

    /// A new random, non-zero trace id.
    pub fn trace_id(&mut self) -> TraceId {
        TraceId::from_bytes(self.take::<16>())
    }

    /// A new random, non-zero span id.
    pub fn span_id(&mut self) -> SpanId {
        SpanId::from_bytes(self.take::<8>())
    }

    /// 16 random bytes, for session ids and other opaque tokens.
    pub fn bytes16(&mut self) -> [u8; 16] {
        self.take::<16>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn zero_ids_are_redrawn() {
        let mut calls = 0;
        let mut ids = IdGenerator::new(move |buf: &mut [u8]| {
            calls += 1;
            // First pool is all zeros; the generator must refill rather
            // than hand out an invalid id.
            for (i, b) in buf.iter_mut().enumerate() {
                *b = if calls == 1 { 0 } else { (i % 251) as u8 + 1 };
            }
        });
        assert_ne!(ids.trace_id(), TraceId::INVALID);
        assert_ne!(ids.span_id(), SpanId::INVALID);
    }

    #[test]
    fn ids_are_distinct_across_refills() {
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut ids = IdGenerator::new(move |buf: &mut [u8]| {
            for b in buf {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
        });
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(ids.span_id()));
        }
        let t = ids.trace_id();
        assert_eq!(format!("{t}").len(), 32);
    }
}
