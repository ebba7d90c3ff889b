//! Wall-clock time for spans, exact to the microsecond.
//!
//! Browsers give time as `f64` milliseconds: `performance.timeOrigin` (epoch)
//! plus `performance.now()` or a Performance Timing value (both relative to
//! the origin). Multiplying epoch milliseconds by 1e6 overflows the 53-bit
//! mantissa and drifts, so each value is rounded to whole microseconds on its
//! own (exact for any epoch value before the year 2255) and only then scaled
//! to nanoseconds in integer arithmetic.

/// Rounds a millisecond value to whole microseconds.
///
/// ```
/// assert_eq!(waggle_rum::core::clock::ms_to_us(1724300000123.456), 1_724_300_000_123_456);
/// assert_eq!(waggle_rum::core::clock::ms_to_us(0.0005), 1);
/// ```
pub fn ms_to_us(ms: f64) -> i64 {
    if !ms.is_finite() {
        return 0;
    }
    super::num::round(ms * 1000.0) as i64
}

/// A clock anchored at the page's `performance.timeOrigin`.
///
/// ```
/// use waggle_rum::core::clock::Clock;
/// let clock = Clock::new(1724300000000.25);
/// assert_eq!(clock.epoch_ns(1250.5), 1_724_300_001_250_750_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    origin_us: i64,
}

impl Clock {
    /// Anchors the clock at `time_origin_ms` (epoch milliseconds).
    pub fn new(time_origin_ms: f64) -> Self {
        Clock { origin_us: ms_to_us(time_origin_ms) }
    }

    /// Epoch nanoseconds of a time `rel_ms` after the origin (a value of
    /// `performance.now()` or a Performance Timing field).
    pub fn epoch_ns(&self, rel_ms: f64) -> u64 {
        let us = self.origin_us + ms_to_us(rel_ms);
        if us <= 0 {
            0
        } else {
            us as u64 * 1000
        }
    }

    /// Epoch milliseconds of a time `rel_ms` after the origin.
    pub fn epoch_ms(&self, rel_ms: f64) -> f64 {
        self.origin_us as f64 / 1000.0 + rel_ms
    }

    /// Epoch nanoseconds of the origin itself.
    pub fn origin_ns(&self) -> u64 {
        self.epoch_ns(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_float_drift_at_epoch_scale() {
        let clock = Clock::new(1_724_300_000_123.456);
        // The naive (ms * 1e6) as u64 gives ...123456000064 here.
        assert_eq!(clock.epoch_ns(0.0), 1_724_300_000_123_456_000);
        assert_eq!(clock.epoch_ns(0.001), 1_724_300_000_123_457_000);
    }

    #[test]
    fn durations_match_rounded_entries() {
        let clock = Clock::new(1_763_745_000_000.1);
        let (start, end) = (12.3, 456.7891);
        let d = clock.epoch_ns(end) - clock.epoch_ns(start);
        assert_eq!(d, ((ms_to_us(end) - ms_to_us(start)) * 1000) as u64);
        assert_eq!(d, 444_489_000);
    }

    #[test]
    fn sweep_is_exact_to_the_microsecond() {
        let origin = 1_763_745_123_456.789;
        let clock = Clock::new(origin);
        for i in 0..100_000u32 {
            let rel = f64::from(i) * 0.137;
            let expected_us = 1_763_745_123_456_789i64 + (f64::from(i) * 137.0).round() as i64;
            assert_eq!(clock.epoch_ns(rel), expected_us as u64 * 1000, "at {rel}");
        }
    }

    #[test]
    fn bad_values_do_not_panic() {
        let clock = Clock::new(f64::NAN);
        assert_eq!(clock.epoch_ns(f64::INFINITY), 0);
        assert_eq!(Clock::new(1000.0).epoch_ns(-5000.0), 0);
    }
}
