//! Interaction to Next Paint: the slowest interactions and where their
//! time went.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

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

#[cfg(test)]
mod tests {
    use super::*;

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

}
