//! Wall-clock time for spans, exact to the microsecond.
//!
//! Browsers give time as `f64` milliseconds: `performance.timeOrigin` (epoch)
//! plus `performance.now()` or a Performance Timing value (both relative to
//! the origin). Multiplying epoch milliseconds by 1e6 overflows the 53-bit
//! mantissa and drifts, so each value is rounded to whole microseconds on its
//! own (exact for any epoch value before the year 2255) and only then scaled
//! to nanoseconds in integer arithmetic.
//!
//! `performance.now()` stops while the device sleeps (on macOS, Linux,
//! Android), and `Date.now()` does not. The clock compares the two each
//! time the agent runs ([`Clock::observe`]): when the wall clock has run
//! ahead of the page's by more than [`SLEEP_MS`], the device slept, and
//! every page time after the last look before it is moved on by the time
//! slept. A span that began before the sleep and ended after it then lasts
//! as long as it did on the wall, and spans after a resume are not stamped
//! hours in the past.

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

/// How far the wall clock may run ahead of the page's between two looks
/// before it counts as a sleep, ms: more than timer jitter and clock
/// drift, less than any sleep worth correcting.
pub const SLEEP_MS: f64 = 1_000.0;
/// Sleeps remembered apart; older ones are merged into one offset for all
/// times before them.
const STEPS: usize = 8;

/// A clock anchored at the page's `performance.timeOrigin`.
///
/// ```
/// use waggle_rum::core::clock::Clock;
/// let mut clock = Clock::new(1724300000000.25);
/// assert_eq!(clock.epoch_ns(1250.5), 1_724_300_001_250_750_000);
/// // The page's clock at 2 s, the wall's a minute later: a sleep.
/// clock.observe(1000.0, 1724300001000.25);
/// assert_eq!(clock.observe(2000.0, 1724300062000.25), Some(60_000.0));
/// assert_eq!(clock.epoch_ns(999.0), 1_724_300_000_999_250_000); // before: as it was
/// assert_eq!(clock.epoch_ns(2000.0), 1_724_300_062_000_250_000); // after: moved on
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    origin_us: i64,
    /// Wall minus page clock at the first look, ms; NaN before it.
    base: f64,
    /// The page time of the last look.
    seen: f64,
    /// Page times after `.0` are `.1` µs later (cumulative), oldest first.
    steps: [(f64, i64); STEPS],
    n: usize,
    /// The offset of times before the first step kept.
    floor: i64,
}

impl Clock {
    /// Anchors the clock at `time_origin_ms` (epoch milliseconds).
    pub fn new(time_origin_ms: f64) -> Self {
        Clock { origin_us: ms_to_us(time_origin_ms), base: f64::NAN, seen: 0.0, steps: [(0.0, 0); STEPS], n: 0, floor: 0 }
    }

    /// Compares the page's clock (`rel_ms`, `performance.now()`) with the
    /// wall's (`wall_ms`, `Date.now()`); returns how long the device
    /// slept, if it did since the last look. A wall clock set back is
    /// taken as the new reference, not as a sleep.
    pub fn observe(&mut self, rel_ms: f64, wall_ms: f64) -> Option<f64> {
        if !rel_ms.is_finite() || !wall_ms.is_finite() {
            return None;
        }
        let gap = wall_ms - self.epoch_ms(rel_ms);
        let seen = self.seen;
        self.seen = rel_ms.max(seen);
        if self.base.is_nan() || gap - self.base < -SLEEP_MS {
            self.base = gap;
            return None;
        }
        let slept = gap - self.base;
        if slept <= SLEEP_MS {
            return None;
        }
        let offset = self.offset_us(f64::INFINITY) + ms_to_us(slept);
        if self.n == STEPS {
            self.floor = self.steps[0].1;
            self.steps.copy_within(1.., 0);
            self.n -= 1;
        }
        self.steps[self.n] = (seen, offset);
        self.n += 1;
        Some(slept)
    }

    /// The offset of page time `rel_ms`, µs.
    fn offset_us(&self, rel_ms: f64) -> i64 {
        let mut o = self.floor;
        for &(from, off) in &self.steps[..self.n] {
            if rel_ms > from {
                o = off;
            }
        }
        o
    }

    /// Epoch nanoseconds of a time `rel_ms` after the origin (a value of
    /// `performance.now()` or a Performance Timing field).
    pub fn epoch_ns(&self, rel_ms: f64) -> u64 {
        let us = self.origin_us + ms_to_us(rel_ms) + self.offset_us(rel_ms);
        if us <= 0 {
            0
        } else {
            us as u64 * 1000
        }
    }

    /// Epoch milliseconds of a time `rel_ms` after the origin.
    pub fn epoch_ms(&self, rel_ms: f64) -> f64 {
        (self.origin_us + self.offset_us(rel_ms)) as f64 / 1000.0 + rel_ms
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

    const T0: f64 = 1_763_745_000_000.0;

    #[test]
    fn a_sleep_moves_later_times_on_and_keeps_earlier_ones() {
        let mut c = Clock::new(T0);
        // The two clocks differ by a few ms from the start: that is the
        // reference, not a sleep.
        assert_eq!(c.observe(100.0, T0 + 104.0), None);
        assert_eq!(c.observe(5_000.0, T0 + 5_004.5), None);
        // Asleep at about 5 s on the page's clock, for an hour.
        assert_eq!(c.observe(5_010.0, T0 + 3_605_014.0), Some(3_600_000.0));
        assert_eq!(c.epoch_ns(4_000.0), (T0 as u64 + 4_000) * 1_000_000);
        assert_eq!(c.epoch_ns(5_010.0), (T0 as u64 + 3_605_010) * 1_000_000);
        // A span across the sleep lasts as long as it did on the wall.
        let d = c.epoch_ns(6_000.0) - c.epoch_ns(1_000.0);
        assert_eq!(d, 3_605_000_000_000);
        // No second sleep without a second jump.
        assert_eq!(c.observe(7_000.0, T0 + 3_607_004.0), None);
    }

    #[test]
    fn drift_and_jitter_under_a_second_are_not_sleeps() {
        let mut c = Clock::new(T0);
        c.observe(0.0, T0);
        assert_eq!(c.observe(60_000.0, T0 + 60_999.0), None);
        assert_eq!(c.epoch_ns(60_000.0), (T0 as u64 + 60_000) * 1_000_000);
    }

    #[test]
    fn a_wall_clock_set_back_is_the_new_reference() {
        let mut c = Clock::new(T0);
        c.observe(0.0, T0);
        assert_eq!(c.observe(1_000.0, T0 - 3_600_000.0), None);
        assert_eq!(c.epoch_ns(1_000.0), (T0 as u64 + 1_000) * 1_000_000, "page times stay as they were");
        // A sleep after it is measured against the new reference.
        assert_eq!(c.observe(2_000.0, T0 - 3_600_000.0 + 1_000.0 + 30_000.0), Some(30_000.0));
    }

    #[test]
    fn many_sleeps_keep_the_latest_apart() {
        let mut c = Clock::new(T0);
        c.observe(0.0, T0);
        let mut wall = T0;
        for i in 1..=12 {
            wall += 1_000.0 + 10_000.0;
            assert_eq!(c.observe(f64::from(i) * 1_000.0, wall), Some(10_000.0));
        }
        // The latest times carry all twelve sleeps.
        assert_eq!(c.epoch_ns(12_500.0), (T0 as u64 + 12_500 + 120_000) * 1_000_000);
        // Old ones merged: times before the kept steps carry the merged offset.
        assert_eq!(c.epoch_ns(500.0), (T0 as u64 + 500 + 40_000) * 1_000_000);
    }

    #[test]
    fn bad_values_do_not_panic() {
        let clock = Clock::new(f64::NAN);
        assert_eq!(clock.epoch_ns(f64::INFINITY), 0);
        assert_eq!(Clock::new(1000.0).epoch_ns(-5000.0), 0);
    }
}
