//! Frustration signals: what a user's clicks say about a page that did not
//! answer them.
//!
//! - **Rage**: [`RAGE_CLICKS`] or more clicks on the same target (the same
//!   selector) within [`RAGE_WINDOW_MS`]. The click that reaches the count
//!   and every later one of the run carry it; a run counts once per page.
//! - **Dead**: a click on an element that looks actionable ([`ACTIONABLE`])
//!   after which the page changed nothing while the click's span was open:
//!   no DOM mutation, no resource loaded, no request, no route change, and
//!   the span ended by settling (a page that went away did answer).
//! - **Error**: an uncaught exception or unhandled rejection while the
//!   click's span was open.
//!
//! Counts are per document: a route change within the page does not reset
//! them.

use alloc::vec::Vec;

/// Clicks on one target that make a rage click.
pub const RAGE_CLICKS: u32 = 3;
/// The window they fall in, ms.
pub const RAGE_WINDOW_MS: f64 = 1_000.0;
/// Most recent clicks remembered.
const RECENT: usize = 32;

/// The elements a click on which is expected to do something, as a CSS
/// selector the page matches the target (or an ancestor) against. Form
/// fields and labels are left out: a click on them focuses or toggles,
/// which changes no DOM attribute, so they would read as dead.
pub const ACTIONABLE: &str = "a[href],button,input[type=button],input[type=submit],input[type=reset],input[type=image],summary,[role=button],[role=link],[role=menuitem],[role=tab],[onclick]";

/// The signals one click shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// Part of a rage-click run.
    pub rage: bool,
    /// Nothing happened.
    pub dead: bool,
    /// An uncaught error happened.
    pub error: bool,
}

impl Signals {
    /// Whether it shows any.
    pub fn any(self) -> bool {
        self.rage || self.dead || self.error
    }
}

/// A page's recent clicks and its counts.
///
/// ```
/// use waggle_rum::core::frustration::Frustration;
/// let mut f = Frustration::default();
/// assert_eq!(f.click(0.0, "#buy"), 1);
/// assert_eq!(f.click(300.0, "#buy"), 2);
/// assert_eq!(f.click(600.0, "#buy"), 3); // a rage click
/// assert_eq!(f.counts.rage, 1);
/// assert_eq!(f.click(1_700.0, "#buy"), 1); // the run is over
/// ```
#[derive(Debug, Default)]
pub struct Frustration {
    /// Recent clicks: when, and a hash of the target's selector.
    recent: Vec<(f64, u32)>,
    /// The rage run going on: its target and its last click.
    run: Option<(u32, f64)>,
    /// This page's counts so far.
    pub counts: Counts,
}

/// Frustrated clicks on a page: rage runs, dead clicks, error clicks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rage-click runs.
    pub rage: u32,
    /// Dead clicks.
    pub dead: u32,
    /// Clicks during which an error was thrown.
    pub error: u32,
}

impl Frustration {
    /// A click on `target` at `at_ms`: how many clicks on it fall in the
    /// window that ends with this one, this one included.
    pub fn click(&mut self, at_ms: f64, target: &str) -> u32 {
        // Event times only grow; one from before the last (a clock that
        // went back) starts the memory over.
        self.recent.retain(|(t, _)| *t <= at_ms && at_ms - *t < RAGE_WINDOW_MS);
        if self.recent.len() >= RECENT {
            self.recent.remove(0);
        }
        // FNV-1a: selectors that differ are told apart all but never.
        let target = target.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        self.recent.push((at_ms, target));
        let n = self.recent.iter().filter(|(_, s)| *s == target).count() as u32;
        if n >= RAGE_CLICKS {
            if !self.run.is_some_and(|(t, last)| t == target && at_ms - last < RAGE_WINDOW_MS) {
                self.counts.rage += 1;
            }
            self.run = Some((target, at_ms));
        }
        n
    }

    /// What a click's span shows as it ends, counted: `clicks` from
    /// [`Frustration::click`], whether the target looked actionable,
    /// whether the page changed and an error was thrown while it was open,
    /// and whether it ended by settling.
    ///
    /// ```
    /// use waggle_rum::core::frustration::Frustration;
    /// let mut f = Frustration::default();
    /// let s = f.ended(1, true, false, false, true);
    /// assert!(s.dead && !s.rage && !s.error);
    /// // A field's click focuses it and changes nothing: not dead.
    /// assert!(!f.ended(1, false, false, false, true).any());
    /// assert_eq!(f.counts.dead, 1);
    /// ```
    pub fn ended(&mut self, clicks: u32, actionable: bool, changed: bool, errored: bool, settled: bool) -> Signals {
        let s = Signals { rage: clicks >= RAGE_CLICKS, dead: actionable && !changed && !errored && settled, error: errored };
        self.counts.dead += s.dead as u32;
        self.counts.error += s.error as u32;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rage_needs_three_on_one_target_within_a_second() {
        let mut f = Frustration::default();
        assert_eq!(f.click(0.0, "#a"), 1);
        assert_eq!(f.click(100.0, "#b"), 1);
        assert_eq!(f.click(200.0, "#a"), 2);
        assert_eq!(f.click(999.0, "#a"), 3);
        assert_eq!(f.click(1_100.0, "#a"), 3, "the first fell out of the window");
        assert_eq!(f.click(1_150.0, "#a"), 4);
        assert_eq!(f.counts.rage, 1, "one run, counted once");
        assert_eq!(f.click(5_000.0, "#a"), 1);
        f.click(5_100.0, "#a");
        f.click(5_200.0, "#a");
        assert_eq!(f.counts.rage, 2);
    }

    #[test]
    fn a_second_apart_is_not_rage() {
        let mut f = Frustration::default();
        for i in 0..5 {
            assert_eq!(f.click(i as f64 * 1_000.0, "#a"), 1);
        }
        assert_eq!(f.counts.rage, 0);
    }

    #[test]
    fn a_clock_that_goes_back_forgets() {
        let mut f = Frustration::default();
        f.click(500.0, "#a");
        f.click(600.0, "#a");
        assert_eq!(f.click(100.0, "#a"), 1);
    }

    #[test]
    fn memory_is_bounded() {
        let mut f = Frustration::default();
        for i in 0..100 {
            f.click(i as f64, if i % 2 == 0 { "#a" } else { "#b" });
        }
        assert!(f.recent.len() <= RECENT);
    }

    #[test]
    fn dead_needs_an_actionable_target_a_quiet_page_and_a_settled_end() {
        let mut f = Frustration::default();
        assert!(f.ended(1, true, false, false, true).dead);
        assert!(!f.ended(1, true, true, false, true).dead, "the page changed");
        assert!(!f.ended(1, true, false, false, false).dead, "the page went away or timed out");
        assert!(!f.ended(1, false, false, false, true).dead, "not actionable");
        let s = f.ended(1, true, false, true, true);
        assert!(s.error && !s.dead, "an error is an answer, if a bad one");
        assert_eq!(f.counts, Counts { rage: 0, dead: 1, error: 1 });
        assert!(f.ended(3, false, true, false, true).rage);
    }
}
