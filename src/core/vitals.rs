//! Web vitals as the `web-vitals` library defines them: ratings against
//! web.dev's thresholds, CLS session windows, the INP estimate over the
//! slowest interactions, and the CSS selectors that name the elements
//! responsible.
//!
//! The browser shell feeds Performance entries in, already reduced to plain
//! numbers and strings, and decides when a value is final; everything that
//! computes a number lives here so it is tested natively.

/// One of the five vitals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vital {
    /// Largest Contentful Paint, ms.
    Lcp,
    /// Cumulative Layout Shift, unitless.
    Cls,
    /// Interaction to Next Paint, ms.
    Inp,
    /// First Contentful Paint, ms.
    Fcp,
    /// Time to First Byte, ms.
    Ttfb,
}

/// How a value compares with web.dev's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rating {
    /// At or under the "good" threshold.
    Good,
    /// Between the two thresholds.
    NeedsImprovement,
    /// Over the "poor" threshold.
    Poor,
}

impl Rating {
    /// The spelling `web-vitals` and the semantic conventions use.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{Rating, Vital};
    /// assert_eq!(Vital::Inp.rating(350.0).as_str(), "needs-improvement");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::NeedsImprovement => "needs-improvement",
            Rating::Poor => "poor",
        }
    }
}

impl Vital {
    /// Every vital, in the order they usually become final.
    pub const ALL: [Vital; 5] = [Vital::Ttfb, Vital::Fcp, Vital::Lcp, Vital::Cls, Vital::Inp];

    /// The semantic conventions' name: `lcp`, `cls`, `inp`, `fcp`, `ttfb`.
    ///
    /// ```
    /// assert_eq!(waggle_rum::core::vitals::Vital::Ttfb.name(), "ttfb");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Vital::Lcp => "lcp",
            Vital::Cls => "cls",
            Vital::Inp => "inp",
            Vital::Fcp => "fcp",
            Vital::Ttfb => "ttfb",
        }
    }

    /// The span name: the acronym, as dashboards built for Honeycomb's web
    /// SDK (and web-vitals' own `name`) spell it.
    pub fn span_name(self) -> &'static str {
        match self {
            Vital::Lcp => "LCP",
            Vital::Cls => "CLS",
            Vital::Inp => "INP",
            Vital::Fcp => "FCP",
            Vital::Ttfb => "TTFB",
        }
    }

    /// web.dev's (good, poor) thresholds: good up to and including the
    /// first, poor above the second.
    pub fn thresholds(self) -> (f64, f64) {
        match self {
            Vital::Lcp => (2500.0, 4000.0),
            Vital::Cls => (0.1, 0.25),
            Vital::Inp => (200.0, 500.0),
            Vital::Fcp => (1800.0, 3000.0),
            Vital::Ttfb => (800.0, 1800.0),
        }
    }

    /// Rates `value`.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{Rating, Vital};
    /// assert_eq!(Vital::Lcp.rating(2500.0), Rating::Good);
    /// assert_eq!(Vital::Lcp.rating(2500.1), Rating::NeedsImprovement);
    /// assert_eq!(Vital::Cls.rating(0.26), Rating::Poor);
    /// ```
    pub fn rating(self, value: f64) -> Rating {
        let (good, poor) = self.thresholds();
        if value > poor {
            Rating::Poor
        } else if value > good {
            Rating::NeedsImprovement
        } else {
            Rating::Good
        }
    }
}

/// A time measured from navigation start as `web-vitals` measures it: from
/// `activationStart` for a prerendered page, never negative.
///
/// ```
/// use waggle_rum::core::vitals::since_activation;
/// assert_eq!(since_activation(120.5, 0.0), 120.5);
/// assert_eq!(since_activation(80.0, 100.0), 0.0);
/// ```
pub fn since_activation(time: f64, activation_start: f64) -> f64 {
    (time - activation_start).max(0.0)
}

/// `navigation_type` as `web-vitals` reports it, from the navigation
/// entry's `type` and how the page came to be shown.
///
/// ```
/// use waggle_rum::core::vitals::navigation_type;
/// assert_eq!(navigation_type(Some("back_forward"), false, false), "back-forward");
/// assert_eq!(navigation_type(Some("navigate"), true, false), "prerender");
/// ```
pub fn navigation_type(entry_type: Option<&str>, prerendered: bool, was_discarded: bool) -> String {
    if prerendered {
        "prerender".into()
    } else if was_discarded {
        "restore".into()
    } else {
        match entry_type {
            Some(t) if !t.is_empty() => t.replace('_', "-"),
            _ => "navigate".into(),
        }
    }
}

/// One step of an element's path up the DOM, as the shell read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SelectorPart<'a> {
    /// Lower-case tag name for elements; `TEXT` and the like for other nodes.
    pub name: &'a str,
    /// The `id` attribute, empty if none.
    pub id: &'a str,
    /// The `class` attribute as written, empty if none.
    pub classes: &'a str,
}

/// The selector `web-vitals` reports for an element: `#id`, or
/// `tag.class1.class2`, joined by `>` up to the first ancestor with an id,
/// keeping whole parts within `max_len` characters.
///
/// `parts` starts at the element and walks up.
///
/// ```
/// use waggle_rum::core::vitals::{selector, SelectorPart};
/// let parts = [
///     SelectorPart { name: "img", id: "", classes: " hero  big " },
///     SelectorPart { name: "div", id: "main", classes: "x" },
///     SelectorPart { name: "body", id: "", classes: "" },
/// ];
/// assert_eq!(selector(&parts, 100), "#main>img.hero.big");
/// ```
pub fn selector(parts: &[SelectorPart<'_>], max_len: usize) -> String {
    let mut sel = String::new();
    for p in parts {
        let part = if !p.id.is_empty() {
            format!("#{}", p.id)
        } else {
            let mut s = p.name.to_owned();
            for c in p.classes.split_ascii_whitespace() {
                s.push('.');
                s.push_str(c);
            }
            s
        };
        // Measured in bytes: ids and classes are ASCII in practice, and a
        // selector a few characters shorter than the limit is harmless.
        if sel.len() + part.len() > max_len.saturating_sub(1) {
            if sel.is_empty() {
                return crate::core::limits::truncate_chars(&part, max_len).to_owned();
            }
            return sel;
        }
        sel = if sel.is_empty() { part } else { format!("{part}>{sel}") };
        if !p.id.is_empty() {
            break;
        }
    }
    sel
}

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

/// An `event` or `first-input` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct EventEntry {
    /// `interactionId`; 0 for events that are not part of an interaction.
    pub interaction_id: u64,
    /// Event type, such as `pointerdown` or `click`.
    pub name: String,
    /// `startTime`: when the input happened, ms.
    pub start_time: f64,
    /// `duration`: input to next paint, rounded by the browser to 8 ms.
    pub duration: f64,
    /// When the first handler started, ms.
    pub processing_start: f64,
    /// When the last handler returned, ms.
    pub processing_end: f64,
    /// Selector of the event's target, if it is still in the document.
    pub target: Option<String>,
    /// Whether the entry came from the `first-input` observer.
    pub first_input: bool,
}

/// One interaction: the entries sharing an `interactionId`.
#[derive(Clone, Debug, PartialEq)]
pub struct Interaction {
    /// `interactionId`.
    pub id: u64,
    /// Its latency: the longest duration among its entries, ms.
    pub latency: f64,
    /// Its entries (at most [`MAX_ENTRIES_PER_INTERACTION`]).
    pub entries: Vec<EventEntry>,
}

/// Where an interaction's time went, in `web-vitals`' three phases, which
/// add up to its latency.
#[derive(Clone, Debug, PartialEq)]
pub struct InpAttribution {
    /// When the input happened, ms.
    pub interaction_time: f64,
    /// When the next frame was presented, ms.
    pub next_paint: f64,
    /// Input to the first handler, ms.
    pub input_delay: f64,
    /// First handler's start to last handler's end, ms.
    pub processing_duration: f64,
    /// Last handler's end to the next paint, ms.
    pub presentation_delay: f64,
    /// The event that ran longest, such as `click`.
    pub event_type: String,
    /// Selector of its target.
    pub target: Option<String>,
}

/// Interactions kept: the p98 estimate never reaches further down than
/// this for pages with fewer than 500 interactions.
pub const MAX_INTERACTIONS: usize = 10;
/// Entries kept per interaction (pointerdown, pointerup, click and a few
/// more for key presses).
pub const MAX_ENTRIES_PER_INTERACTION: usize = 8;
/// Event Timing rounds durations to 8 ms; entries whose paint is within
/// this of each other were presented in the same frame.
const FRAME_SLACK_MS: f64 = 8.0;

impl Interaction {
    /// The phases of this interaction, from the entries presented in the
    /// same frame as its longest one.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{EventEntry, Inp};
    /// let mut inp = Inp::default();
    /// let e = |name: &str, start: f64, dur: f64, ps: f64, pe: f64| EventEntry {
    ///     interaction_id: 7, name: name.into(), start_time: start, duration: dur,
    ///     processing_start: ps, processing_end: pe, target: Some("#b".into()), first_input: false,
    /// };
    /// inp.add(e("pointerup", 100.0, 344.0, 102.0, 103.0));
    /// inp.add(e("click", 100.0, 344.0, 103.0, 410.0));
    /// let a = inp.estimate(1).unwrap().attribution();
    /// assert_eq!((a.input_delay, a.processing_duration, a.presentation_delay), (2.0, 308.0, 34.0));
    /// assert_eq!(a.event_type, "click");
    /// ```
    pub fn attribution(&self) -> InpAttribution {
        let main = self
            .entries
            .iter()
            .fold(None::<&EventEntry>, |best, e| match best {
                Some(b) if b.duration >= e.duration => Some(b),
                _ => Some(e),
            })
            .expect("an interaction has at least one entry");
        let interaction_time = main.start_time;
        let next_paint = main.start_time + main.duration;
        // The entries presented in the same frame as the longest one (which
        // is among them).
        let group = || self.entries.iter().filter(move |e| (e.start_time + e.duration - next_paint).abs() <= FRAME_SLACK_MS);
        let mut processing_start = main.processing_start;
        let mut processing_end = main.processing_end;
        let mut longest = main;
        for e in group() {
            processing_start = processing_start.min(e.processing_start);
            processing_end = processing_end.max(e.processing_end);
            if e.processing_end - e.processing_start > longest.processing_end - longest.processing_start {
                longest = e;
            }
        }
        let processing_start = processing_start.max(interaction_time).min(next_paint);
        let processing_end = processing_end.max(processing_start).min(next_paint);
        let target = longest
            .target
            .clone()
            .or_else(|| group().find_map(|e| e.target.clone()))
            .or_else(|| self.entries.iter().find_map(|e| e.target.clone()));
        InpAttribution {
            interaction_time,
            next_paint,
            input_delay: processing_start - interaction_time,
            processing_duration: processing_end - processing_start,
            presentation_delay: next_paint - processing_end,
            event_type: longest.name.clone(),
            target,
        }
    }
}

/// INP: the slowest interactions, of which the estimate picks the worst
/// after ignoring one per 50 interactions (web-vitals' p98 approximation).
///
/// ```
/// use waggle_rum::core::vitals::{EventEntry, Inp};
/// let mut inp = Inp::default();
/// let entry = |id: u64, name: &str, ms: f64| EventEntry { interaction_id: id, name: name.into(),
///     start_time: 10.0, duration: ms, processing_start: 11.0, processing_end: 12.0, target: None, first_input: false };
/// inp.add(entry(7, "pointerdown", 48.0));
/// inp.add(entry(7, "click", 56.0));      // same interaction: its latency is the longest entry
/// inp.add(entry(0, "mousemove", 400.0)); // not an interaction
/// assert_eq!(inp.estimate(1).map(|i| (i.id, i.latency)), Some((7, 56.0)));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Inp {
    /// Slowest first, at most [`MAX_INTERACTIONS`].
    longest: Vec<Interaction>,
    min_id: u64,
    max_id: u64,
}

impl Inp {
    /// Adds one entry. Entries without an interaction id are not
    /// interactions, except the first input, which counts as one.
    pub fn add(&mut self, entry: EventEntry) {
        if entry.interaction_id == 0 && !entry.first_input {
            return;
        }
        if entry.interaction_id > 0 {
            self.min_id = if self.min_id == 0 { entry.interaction_id } else { self.min_id.min(entry.interaction_id) };
            self.max_id = self.max_id.max(entry.interaction_id);
        }
        if let Some(i) = self.longest.iter_mut().find(|i| i.id == entry.interaction_id) {
            if entry.duration > i.latency {
                i.latency = entry.duration;
            }
            // The same event arrives from both observers when it was the
            // first input.
            let dup = i
                .entries
                .iter()
                .any(|e| e.name == entry.name && e.start_time == entry.start_time && e.duration == entry.duration);
            if i.entries.len() < MAX_ENTRIES_PER_INTERACTION && !dup {
                i.entries.push(entry);
            }
        } else if self.longest.len() < MAX_INTERACTIONS
            || self.longest.last().is_some_and(|min| entry.duration > min.latency)
        {
            self.longest.push(Interaction { id: entry.interaction_id, latency: entry.duration, entries: vec![entry] });
        } else {
            return;
        }
        // Keep the list slowest first; among equal latencies the earlier
        // interaction stays first. At most one element is out of place, so
        // bubbling it up beats a general sort (and its code size).
        for i in (1..self.longest.len()).rev() {
            if self.longest[i].latency > self.longest[i - 1].latency {
                self.longest.swap(i, i - 1);
            }
        }
        self.longest.truncate(MAX_INTERACTIONS);
    }

    /// Interactions on the page as estimated from the ids seen: Chromium
    /// advances `interactionId` by 7 per interaction. A fallback for
    /// browsers without `performance.interactionCount`.
    pub fn estimated_count(&self) -> u64 {
        if self.max_id == 0 {
            0
        } else {
            (self.max_id - self.min_id) / 7 + 1
        }
    }

    /// The interaction INP reports, given how many interactions the page
    /// has had: the slowest, skipping one per 50 interactions.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{EventEntry, Inp};
    /// let mut inp = Inp::default();
    /// for (id, ms) in [(7, 300.0), (14, 120.0), (21, 96.0)] {
    ///     inp.add(EventEntry { interaction_id: id, name: "click".into(), start_time: id as f64,
    ///         duration: ms, processing_start: 0.0, processing_end: 0.0, target: None, first_input: false });
    /// }
    /// assert_eq!(inp.estimate(3).unwrap().latency, 300.0);
    /// assert_eq!(inp.estimate(120).unwrap().latency, 96.0); // skips two
    /// ```
    pub fn estimate(&self, interaction_count: u64) -> Option<&Interaction> {
        if self.longest.is_empty() {
            return None;
        }
        let count = interaction_count.max(self.estimated_count());
        let index = ((count / 50) as usize).min(self.longest.len() - 1);
        self.longest.get(index)
    }
}

/// Tracks what was last reported for a vital, so a value is sent again
/// only when it changed, with `delta` the change since the last report.
///
/// ```
/// use waggle_rum::core::vitals::Reporter;
/// let mut r = Reporter::default();
/// assert_eq!(r.report(0.0), Some(0.0));    // the first report always goes
/// assert_eq!(r.report(0.0), None);         // unchanged
/// assert_eq!(r.report(0.25), Some(0.25));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Reporter {
    last: Option<f64>,
}

impl Reporter {
    /// The delta to report for `value`, or `None` if nothing changed.
    pub fn report(&mut self, value: f64) -> Option<f64> {
        // NaN and the -1 of "no value yet" are never reported.
        if value.is_nan() || value < 0.0 {
            return None;
        }
        let delta = value - self.last.unwrap_or(0.0);
        if self.last.is_some() && delta == 0.0 {
            return None;
        }
        self.last = Some(value);
        Some(delta)
    }

    /// Whether the vital was reported at least once.
    pub fn reported(&self) -> bool {
        self.last.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(t: f64, v: f64) -> LayoutShift {
        LayoutShift { start_time: t, value: v, had_recent_input: false, target: Some(format!("#s{t}")) }
    }

    #[test]
    fn ratings_at_every_threshold() {
        let cases = [
            (Vital::Lcp, 2500.0, 4000.0),
            (Vital::Fcp, 1800.0, 3000.0),
            (Vital::Cls, 0.1, 0.25),
            (Vital::Inp, 200.0, 500.0),
            (Vital::Ttfb, 800.0, 1800.0),
        ];
        for (v, good, poor) in cases {
            assert_eq!(v.rating(0.0), Rating::Good);
            assert_eq!(v.rating(good), Rating::Good, "{v:?}");
            assert_eq!(v.rating(good * 1.0001), Rating::NeedsImprovement, "{v:?}");
            assert_eq!(v.rating(poor), Rating::NeedsImprovement, "{v:?}");
            assert_eq!(v.rating(poor * 1.0001), Rating::Poor, "{v:?}");
        }
        assert_eq!(Rating::NeedsImprovement.as_str(), "needs-improvement");
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

    fn ev(id: u64, name: &str, start: f64, dur: f64) -> EventEntry {
        EventEntry {
            interaction_id: id,
            name: name.into(),
            start_time: start,
            duration: dur,
            processing_start: start + 1.0,
            processing_end: start + 2.0,
            target: None,
            first_input: false,
        }
    }

    #[test]
    fn inp_groups_by_interaction_and_takes_the_longest_entry() {
        let mut inp = Inp::default();
        inp.add(ev(0, "mousemove", 0.0, 500.0));
        assert!(inp.estimate(0).is_none(), "no interaction id: not an interaction");
        inp.add(ev(7, "pointerdown", 10.0, 48.0));
        inp.add(ev(7, "click", 12.0, 64.0));
        inp.add(ev(14, "keydown", 100.0, 56.0));
        let i = inp.estimate(2).unwrap();
        assert_eq!((i.id, i.latency, i.entries.len()), (7, 64.0, 2));
        assert_eq!(inp.estimated_count(), 2);
    }

    #[test]
    fn inp_first_input_counts_and_is_not_duplicated() {
        let mut inp = Inp::default();
        let mut first = ev(7, "pointerdown", 10.0, 48.0);
        first.first_input = true;
        inp.add(first.clone());
        let mut same = first.clone();
        same.first_input = false;
        inp.add(same);
        assert_eq!(inp.estimate(1).unwrap().entries.len(), 1);
        let mut zero = ev(0, "pointerdown", 5.0, 16.0);
        zero.first_input = true;
        let mut only_first = Inp::default();
        only_first.add(zero);
        assert_eq!(only_first.estimate(0).unwrap().latency, 16.0);
    }

    #[test]
    fn inp_p98_skips_one_per_fifty_interactions() {
        let mut inp = Inp::default();
        for k in 1..=30u64 {
            inp.add(ev(k * 7, "click", k as f64 * 100.0, 40.0 + k as f64));
        }
        // Only the ten slowest are kept: 70..61.
        assert_eq!(inp.longest.len(), MAX_INTERACTIONS);
        assert_eq!(inp.estimate(30).unwrap().latency, 70.0);
        assert_eq!(inp.estimate(49).unwrap().latency, 70.0);
        assert_eq!(inp.estimate(50).unwrap().latency, 69.0);
        assert_eq!(inp.estimate(100).unwrap().latency, 68.0);
        assert_eq!(inp.estimate(100_000).unwrap().latency, 61.0, "never past the list");
        // A slow late interaction displaces the fastest kept one.
        inp.add(ev(31 * 7, "click", 5000.0, 400.0));
        assert_eq!(inp.estimate(0).unwrap().latency, 400.0);
        assert_eq!(inp.longest.last().unwrap().latency, 62.0);
        // The count estimate from ids covers interactions too fast to see.
        assert_eq!(inp.estimated_count(), 31);
    }

    #[test]
    fn inp_attribution_phases_add_up_and_name_the_slow_handler() {
        let mut inp = Inp::default();
        let mk = |name: &str, start: f64, dur: f64, ps: f64, pe: f64, target: Option<&str>| EventEntry {
            interaction_id: 21,
            name: name.into(),
            start_time: start,
            duration: dur,
            processing_start: ps,
            processing_end: pe,
            target: target.map(Into::into),
            first_input: false,
        };
        // pointerdown starts earliest and so has the longest duration; the
        // click handler did the work.
        inp.add(mk("pointerdown", 1000.0, 352.0, 1001.0, 1001.5, Some("#btn")));
        inp.add(mk("pointerup", 1004.0, 344.0, 1005.0, 1005.2, Some("#btn")));
        inp.add(mk("click", 1004.0, 344.0, 1005.3, 1310.0, Some("#btn")));
        let i = inp.estimate(1).unwrap();
        assert_eq!(i.latency, 352.0);
        let a = i.attribution();
        assert_eq!(a.event_type, "click");
        assert_eq!(a.target.as_deref(), Some("#btn"));
        assert_eq!(a.interaction_time, 1000.0);
        assert_eq!(a.next_paint, 1352.0);
        assert_eq!(a.input_delay, 1.0);
        assert_eq!(a.processing_duration, 309.0);
        assert_eq!(a.presentation_delay, 42.0);
        assert_eq!(a.input_delay + a.processing_duration + a.presentation_delay, i.latency);
    }

    #[test]
    fn inp_attribution_clamps_to_the_interaction() {
        let mut inp = Inp::default();
        // Rounding can put processingEnd after startTime + duration.
        inp.add(EventEntry {
            interaction_id: 7,
            name: "keydown".into(),
            start_time: 10.0,
            duration: 40.0,
            processing_start: 8.0,
            processing_end: 53.0,
            target: None,
            first_input: false,
        });
        let a = inp.estimate(1).unwrap().attribution();
        assert_eq!((a.input_delay, a.processing_duration, a.presentation_delay), (0.0, 40.0, 0.0));
    }

    #[test]
    fn selectors_follow_web_vitals() {
        let p = |name, id, classes| SelectorPart { name, id, classes };
        assert_eq!(selector(&[p("h1", "hero", "big")], 100), "#hero");
        assert_eq!(selector(&[p("p", "", ""), p("div", "", "a  b"), p("body", "", ""), p("html", "", "")], 100), "html>body>div.a.b>p");
        // Parts that do not fit are left off, whole.
        let long = "c".repeat(60);
        assert_eq!(selector(&[p("p", "", ""), p("div", "", &long), p("body", "", "")], 40), "p");
        // A single part longer than the limit is cut to it.
        assert_eq!(selector(&[p("p", "", &long)], 10).chars().count(), 10);
        assert_eq!(selector(&[p("TEXT", "", ""), p("span", "x", "")], 100), "#x>TEXT");
        assert_eq!(selector(&[], 100), "");
    }

    #[test]
    fn reporter_reports_first_value_and_changes_only() {
        let mut r = Reporter::default();
        assert!(!r.reported());
        assert_eq!(r.report(-1.0), None, "no value yet");
        assert_eq!(r.report(f64::NAN), None);
        assert_eq!(r.report(120.0), Some(120.0));
        assert!(r.reported());
        assert_eq!(r.report(120.0), None);
        assert_eq!(r.report(200.0), Some(80.0));
    }

    #[test]
    fn navigation_types() {
        assert_eq!(navigation_type(Some("navigate"), false, false), "navigate");
        assert_eq!(navigation_type(Some("reload"), false, false), "reload");
        assert_eq!(navigation_type(Some("back_forward"), false, true), "restore");
        assert_eq!(navigation_type(None, false, false), "navigate");
        assert_eq!(since_activation(5.0, 0.0), 5.0);
    }
}
