//! Long animation frames: which script held a frame, and which frames are
//! worth a span of their own.
//!
//! The browser reports every frame that took more than 50 ms from its
//! first task to its paint as a `long-animation-frame` entry, with the
//! scripts that ran in it (their source URL, function, what invoked them
//! and for how long). Two things come of that:
//!
//! - **Attribution.** An interaction's span and the INP report name the
//!   script that ran longest in the frames that overlap them
//!   ([`Frames::longest_script`]): that script is what the user waited on.
//! - **Spans.** A frame *blocked* for more than [`BLOCKED_MS`] (its
//!   `blockingDuration`: the time its long tasks and its render kept input
//!   waiting, beyond 50 ms each) becomes a `longAnimationFrame` span, at
//!   most [`PER_MINUTE`] a minute; the frames left out are counted on the
//!   next span that is made.

use alloc::string::String;
use alloc::vec::Vec;

use super::span::Attrs;

/// `blockingDuration` above which a frame becomes a span, ms.
pub const BLOCKED_MS: f64 = 50.0;
/// Most frame spans in [`MINUTE_MS`].
pub const PER_MINUTE: u32 = 10;
/// The window [`PER_MINUTE`] counts in, ms.
pub const MINUTE_MS: f64 = 60_000.0;
/// Frames remembered for attribution: an INP candidate may be older than
/// the last few frames, and frames this long are rare.
const RECENT: usize = 64;
/// Scripts kept per frame, longest first.
pub const SCRIPTS: usize = 5;

/// A script that ran in a frame (a `PerformanceScriptTiming`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// `sourceURL`: the file the function is in.
    pub url: String,
    /// `sourceFunctionName`.
    pub function: String,
    /// `invoker`, e.g. `BUTTON#buy.onclick` or `Window.setTimeout`.
    pub invoker: String,
    /// `invokerType`, e.g. `event-listener`, `user-callback`.
    pub invoker_type: String,
    /// `startTime`, ms on the page's clock.
    pub start: f64,
    /// `duration`, ms.
    pub duration: f64,
    /// `forcedStyleAndLayoutDuration`: layout it forced, ms.
    pub forced_layout: f64,
}

impl Script {
    /// Puts what it says as `waggle.loaf.script.*` attributes: the same
    /// keys on a frame's span, an interaction's span and the INP report.
    ///
    /// ```
    /// use waggle_rum::core::loaf::Script;
    /// use waggle_rum::core::span::Attrs;
    /// let s = Script { function: "onBuy".into(), duration: 150.0, ..Script::default() };
    /// let mut a = Attrs::default();
    /// s.put(&mut a);
    /// let json = String::from_utf8(a.json().to_vec()).unwrap();
    /// assert!(json.starts_with(r#"{"key":"waggle.loaf.script.function","value":{"stringValue":"onBuy"}}"#));
    /// assert!(!json.contains("script.url")); // empty strings are left out
    /// assert_eq!(a.count(), 3);
    /// ```
    pub fn put(&self, a: &mut Attrs) {
        for (k, v) in [
            ("waggle.loaf.script.url", &self.url),
            ("waggle.loaf.script.function", &self.function),
            ("waggle.loaf.script.invoker", &self.invoker),
            ("waggle.loaf.script.invoker_type", &self.invoker_type),
        ] {
            if !v.is_empty() {
                a.put(k, v.as_str());
            }
        }
        a.put("waggle.loaf.script.duration", self.duration);
        a.put("waggle.loaf.script.forced_style_and_layout_duration", self.forced_layout);
    }
}

/// A `long-animation-frame` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// `startTime`, ms.
    pub start: f64,
    /// `duration`, ms.
    pub duration: f64,
    /// `blockingDuration`, ms.
    pub blocking: f64,
    /// `renderStart`, ms (0 when the frame did not render).
    pub render_start: f64,
    /// `styleAndLayoutStart`, ms.
    pub style_layout_start: f64,
    /// Its scripts, longest first, at most [`SCRIPTS`].
    pub scripts: Vec<Script>,
}

impl Frame {
    /// Keeps the [`SCRIPTS`] longest scripts, longest first.
    ///
    /// ```
    /// use waggle_rum::core::loaf::{Frame, Script};
    /// let s = |d: f64| Script { duration: d, ..Script::default() };
    /// let mut f = Frame { scripts: (1..=7).map(|d| s(d as f64)).collect(), ..Frame::default() };
    /// f.rank();
    /// let d: Vec<f64> = f.scripts.iter().map(|s| s.duration).collect();
    /// assert_eq!(d, [7.0, 6.0, 5.0, 4.0, 3.0]);
    /// ```
    pub fn rank(&mut self) {
        // An insertion sort: a frame has a handful of scripts, and the
        // standard sorts cost kilobytes of wasm.
        let s = &mut self.scripts;
        for i in 1..s.len() {
            let mut j = i;
            while j > 0 && s[j - 1].duration < s[j].duration {
                s.swap(j - 1, j);
                j -= 1;
            }
        }
        s.truncate(SCRIPTS);
    }

    /// When it ended, ms.
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }
}

/// What to do with a frame just seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Not blocked enough for a span.
    Quiet,
    /// A span, carrying how many frames were left out before it.
    Span {
        /// Frames blocked enough that the minute's bound left out.
        dropped: u32,
    },
    /// Blocked enough, but the minute's spans are spent.
    Dropped,
}

/// The page's recent long frames and the bound on their spans.
///
/// ```
/// use waggle_rum::core::loaf::{Admit, Frame, Frames, Script};
/// let mut f = Frames::default();
/// let frame = Frame {
///     start: 1000.0,
///     duration: 180.0,
///     blocking: 120.0,
///     scripts: vec![Script { function: "onBuy".into(), duration: 150.0, ..Script::default() }],
///     ..Frame::default()
/// };
/// assert_eq!(f.add(frame), Admit::Span { dropped: 0 });
/// // A click at 1005 ms that the page answered at 1190 ms waited on onBuy.
/// assert_eq!(f.longest_script(1005.0, 1190.0).unwrap().function, "onBuy");
/// assert!(f.longest_script(2000.0, 2100.0).is_none());
/// ```
#[derive(Debug, Default)]
pub struct Frames {
    recent: Vec<Frame>,
    window_start: f64,
    in_window: u32,
    dropped: u32,
}

impl Frames {
    /// Remembers `frame` and says whether it becomes a span.
    pub fn add(&mut self, mut frame: Frame) -> Admit {
        frame.rank();
        let admit = if frame.blocking > BLOCKED_MS {
            if self.in_window == 0 || frame.start - self.window_start >= MINUTE_MS {
                self.window_start = frame.start;
                self.in_window = 0;
            }
            if self.in_window < PER_MINUTE {
                self.in_window += 1;
                Admit::Span { dropped: core::mem::take(&mut self.dropped) }
            } else {
                self.dropped += 1;
                Admit::Dropped
            }
        } else {
            Admit::Quiet
        };
        if self.recent.len() >= RECENT {
            self.recent.remove(0);
        }
        self.recent.push(frame);
        admit
    }

    /// The script that ran longest in the frames overlapping `from..=to`
    /// (ms), if any ran.
    pub fn longest_script(&self, from: f64, to: f64) -> Option<&Script> {
        let mut best: Option<&Script> = None;
        for f in &self.recent {
            if f.start <= to && f.end() >= from {
                if let Some(s) = f.scripts.first() {
                    if best.is_none_or(|b| s.duration > b.duration) {
                        best = Some(s);
                    }
                }
            }
        }
        best
    }

    /// The frame last added.
    pub fn last(&self) -> Option<&Frame> {
        self.recent.last()
    }

    /// Forgets the frames (a new page view from the back-forward cache).
    pub fn clear(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(start: f64, blocking: f64) -> Frame {
        Frame { start, duration: blocking + 50.0, blocking, ..Frame::default() }
    }

    #[test]
    fn only_frames_blocked_over_50_ms_become_spans() {
        let mut f = Frames::default();
        assert_eq!(f.add(frame(0.0, 50.0)), Admit::Quiet);
        assert_eq!(f.add(frame(100.0, 50.5)), Admit::Span { dropped: 0 });
        // Quiet frames are still kept for attribution.
        assert_eq!(f.recent.len(), 2);
    }

    #[test]
    fn at_most_ten_spans_a_minute_and_the_rest_are_counted_on_the_next() {
        let mut f = Frames::default();
        for i in 0..10 {
            assert_eq!(f.add(frame(i as f64 * 1000.0, 100.0)), Admit::Span { dropped: 0 });
        }
        assert_eq!(f.add(frame(20_000.0, 100.0)), Admit::Dropped);
        assert_eq!(f.add(frame(30_000.0, 100.0)), Admit::Dropped);
        // A quiet frame neither spends nor reports.
        assert_eq!(f.add(frame(40_000.0, 10.0)), Admit::Quiet);
        assert_eq!(f.add(frame(60_000.0, 100.0)), Admit::Span { dropped: 2 });
        assert_eq!(f.add(frame(61_000.0, 100.0)), Admit::Span { dropped: 0 });
    }

    #[test]
    fn attribution_takes_the_longest_script_of_the_overlapping_frames() {
        let mut f = Frames::default();
        let s = |name: &str, d: f64| Script { function: name.into(), duration: d, ..Script::default() };
        f.add(Frame { start: 0.0, duration: 100.0, scripts: vec![s("a", 30.0), s("b", 60.0)], ..Frame::default() });
        f.add(Frame { start: 100.0, duration: 100.0, scripts: vec![s("c", 80.0)], ..Frame::default() });
        f.add(Frame { start: 300.0, duration: 100.0, scripts: vec![s("d", 99.0)], ..Frame::default() });
        assert_eq!(f.longest_script(10.0, 50.0).unwrap().function, "b");
        assert_eq!(f.longest_script(50.0, 150.0).unwrap().function, "c");
        assert_eq!(f.longest_script(250.0, 260.0), None);
        // A frame with no script attributes nothing.
        f.add(Frame { start: 500.0, duration: 100.0, ..Frame::default() });
        assert_eq!(f.longest_script(510.0, 520.0), None);
    }

    #[test]
    fn remembers_a_bounded_number_of_frames() {
        let mut f = Frames::default();
        for i in 0..(RECENT + 10) {
            f.add(frame(i as f64, 0.0));
        }
        assert_eq!(f.recent.len(), RECENT);
        assert_eq!(f.recent[0].start, 10.0);
    }
}
