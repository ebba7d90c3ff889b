//! Cumulative Layout Shift: session windows of layout shifts.

use alloc::string::String;

/// A `layout-shift` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutShift {
    /// `startTime`, ms.
    pub start_time: f64,
    /// The shift score.
    pub value: f64,
    /// Shifts right after input are expected and do not count.
    pub had_recent_input: bool,
    /// Selector of the node that moved most, if the entry named one.
    pub target: Option<String>,
}

/// CLS by session windows: shifts less than 1 s apart and within 5 s of the
/// window's first shift form a window; CLS is the largest window's sum.
///
/// Holds only the current and the largest window's sums and their largest
/// shift, so memory stays constant however much a page shifts.
///
/// ```
/// use waggle_rum::core::vitals::{Cls, LayoutShift};
/// let mut cls = Cls::default();
/// let shift = |t: f64, v: f64| LayoutShift { start_time: t, value: v, had_recent_input: false, target: None };
/// cls.add(shift(100.0, 0.05));
/// cls.add(shift(600.0, 0.05));   // same window: 0.1
/// cls.add(shift(3000.0, 0.08));  // new window, smaller
/// assert!((cls.value() - 0.1).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cls {
    current: Option<ShiftWindow>,
    largest: Option<ShiftWindow>,
}

/// One session window.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftWindow {
    /// Sum of the window's shifts.
    pub value: f64,
    /// `startTime` of its first shift.
    pub first: f64,
    /// `startTime` of its last shift.
    pub last: f64,
    /// Its largest shift (the later one on a tie, as `web-vitals` picks).
    pub largest_shift: LayoutShift,
}

/// Gap that ends a session window, ms.
pub const CLS_GAP_MS: f64 = 1000.0;
/// Longest session window, ms.
pub const CLS_WINDOW_MS: f64 = 5000.0;

impl Cls {
    /// Adds one entry, in the order the browser reported them.
    pub fn add(&mut self, shift: LayoutShift) {
        if shift.had_recent_input {
            return;
        }
        let joins = self.current.as_ref().is_some_and(|w| {
            w.value > 0.0 && shift.start_time - w.last < CLS_GAP_MS && shift.start_time - w.first < CLS_WINDOW_MS
        });
        match self.current.as_mut() {
            Some(w) if joins => {
                w.value += shift.value;
                w.last = shift.start_time;
                if shift.value >= w.largest_shift.value {
                    w.largest_shift = shift;
                }
            }
            _ => {
                self.current = Some(ShiftWindow {
                    value: shift.value,
                    first: shift.start_time,
                    last: shift.start_time,
                    largest_shift: shift,
                });
            }
        }
        let current = self.current.as_ref().expect("set above");
        if current.value > self.largest.as_ref().map_or(0.0, |w| w.value) {
            self.largest = Some(current.clone());
        }
    }

    /// The CLS value so far (0 with no shifts).
    pub fn value(&self) -> f64 {
        self.largest.as_ref().map_or(0.0, |w| w.value)
    }

    /// The window that makes the value, if any shift counted.
    pub fn window(&self) -> Option<&ShiftWindow> {
        self.largest.as_ref()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn shift(t: f64, v: f64) -> LayoutShift {
        LayoutShift { start_time: t, value: v, had_recent_input: false, target: Some(std::format!("#s{t}")) }
    }


    #[test]
    fn cls_windows_split_on_gap_and_length() {
        let mut cls = Cls::default();
        // Window 1: 0.1 + 0.1 (gap 900 ms).
        cls.add(shift(0.0, 0.1));
        cls.add(shift(900.0, 0.1));
        // 1000 ms gap: window 2 starts.
        cls.add(shift(1900.0, 0.05));
        assert!((cls.value() - 0.2).abs() < 1e-12);
        // Window 2 keeps growing with small gaps until 5 s from its start.
        for i in 1..=10 {
            cls.add(shift(1900.0 + 500.0 * i as f64, 0.05));
        }
        // 1900..6400 sums ten shifts; 6900 - 1900 is not under 5000, so the
        // last shift opens window 3.
        let w = cls.window().unwrap();
        assert_eq!((w.first, w.last), (1900.0, 6400.0));
        assert!((cls.value() - 0.5).abs() < 1e-12, "{}", cls.value());
    }

    #[test]
    fn cls_ignores_input_shifts_and_finds_the_largest_shift() {
        let mut cls = Cls::default();
        cls.add(LayoutShift { had_recent_input: true, ..shift(0.0, 5.0) });
        assert_eq!(cls.value(), 0.0);
        assert!(cls.window().is_none());
        cls.add(shift(10.0, 0.02));
        cls.add(shift(20.0, 0.07));
        cls.add(shift(30.0, 0.07));
        cls.add(shift(40.0, 0.01));
        let w = cls.window().unwrap();
        assert_eq!(w.largest_shift.target.as_deref(), Some("#s30"), "later shift wins a tie");
        assert_eq!((w.first, w.last), (10.0, 40.0));
    }

    #[test]
    fn cls_sum_is_in_arrival_order_like_the_page_computes_it() {
        let mut cls = Cls::default();
        let values = [0.1, 0.2, 0.30000000000000004, 0.0123];
        let mut expected = 0.0;
        for (i, v) in values.iter().enumerate() {
            cls.add(shift(i as f64 * 10.0, *v));
            expected += v;
        }
        assert_eq!(cls.value(), expected);
    }

}
