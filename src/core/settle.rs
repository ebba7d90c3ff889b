//! When a span that waits for the page to settle ends: interactions
//! (clicks) and route changes.
//!
//! Such a span ends when the page has been quiet for [`QUIET_MS`]: no
//! fetch or XHR under way, no DOM mutation, no resource finishing loading,
//! no timer it set (due within [`TIMER_WAIT_MS`]) still to fire, no open
//! span of its own still open, and no gap in the watching (a poll that
//! runs late means the main thread was busy or starved, and the window
//! starts over). Its end is the last of those activities, not the moment
//! the quiet window ran out, so a click that changes nothing lasts as long
//! as its handlers ran. A bound ([`INTERACTION_MAX_MS`],
//! [`ROUTE_CHANGE_MAX_MS`]) ends spans on pages that never go quiet
//! (animations written as DOM updates, long polling).
//!
//! The signals are page-wide: a request started by something else (a
//! poller) keeps every open span open too, up to its bound. The reason a
//! span ended is one of [`Reason`].

use alloc::vec::Vec;

use super::ids::SpanId;

/// How long the page must stay quiet for a span to end, ms.
pub const QUIET_MS: f64 = 100.0;
/// Longest an interaction span stays open, ms.
pub const INTERACTION_MAX_MS: f64 = 10_000.0;
/// Longest a route-change span stays open, ms.
pub const ROUTE_CHANGE_MAX_MS: f64 = 5_000.0;
/// How often the page is looked at while a span is open, ms.
pub const POLL_MS: f64 = 16.0;
/// Longest delay of a timer a span waits for, ms; a later timer still
/// runs with the span current if it is open by then.
pub const TIMER_WAIT_MS: f64 = 1_000.0;
/// Longest a span is held current waiting for the event that releases
/// it (a fragment navigation's `hashchange`), ms.
pub const HOLD_MS: f64 = 1_000.0;
/// A poll this much later than asked for starts the quiet window over, ms.
pub const LATE_MS: f64 = 50.0;

/// Why a span ended: `waggle.end_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The page went quiet.
    Settled,
    /// The bound ran out.
    Timeout,
    /// A newer route change began.
    Superseded,
    /// The page was hidden or left.
    Hidden,
    /// The agent was shut down.
    Shutdown,
}

impl Reason {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Settled => "settled",
            Reason::Timeout => "timeout",
            Reason::Superseded => "superseded",
            Reason::Hidden => "hidden",
            Reason::Shutdown => "shutdown",
        }
    }
}

/// One open span's watch.
#[derive(Clone, Debug)]
pub struct Open<T> {
    /// What the caller keeps with it (the span).
    pub item: T,
    /// Its id.
    pub id: SpanId,
    /// Its parent, if that is open too.
    pub parent: Option<SpanId>,
    /// A route change (true) or an interaction.
    pub route: bool,
    start_ms: f64,
    last_activity_ms: f64,
    quiet_since_ms: f64,
    busy_until_ms: f64,
    deadline_ms: f64,
    /// Current until released, rather than until its task is over.
    pub held: bool,
    /// The page changed while it was open: a DOM mutation, a resource
    /// loaded, a request or a route change began.
    pub changed: bool,
    /// An uncaught error was thrown while it was open.
    pub errored: bool,
}

impl<T> Open<T> {
    fn saw(&mut self, at_ms: f64) {
        self.last_activity_ms = self.last_activity_ms.max(at_ms);
        self.quiet_since_ms = self.quiet_since_ms.max(at_ms);
    }
}

/// A span that ended, with its end time (ms) and why.
#[derive(Debug)]
pub struct Ended<T> {
    /// The caller's item.
    pub item: T,
    /// Its id.
    pub id: SpanId,
    /// When it ended, ms.
    pub end_ms: f64,
    /// Why.
    pub reason: Reason,
    /// A route change (true) or an interaction.
    pub route: bool,
    /// As [`Open::changed`].
    pub changed: bool,
    /// As [`Open::errored`].
    pub errored: bool,
}

/// The open spans and what the page did since each began.
///
/// ```
/// use waggle_rum::core::ids::SpanId;
/// use waggle_rum::core::settle::{Reason, Settle, POLL_MS};
/// let mut s = Settle::default();
/// s.open("click", SpanId([1; 8]), None, false, 0.0, false);
/// s.activity_all(30.0);                  // a DOM mutation
/// let mut ended = Vec::new();
/// while ended.is_empty() {
///     ended = s.tick(s.tick_due(), 0);  // polled every 16 ms
/// }
/// assert_eq!((ended[0].end_ms, ended[0].reason), (30.0, Reason::Settled));
/// ```
#[derive(Debug)]
pub struct Settle<T> {
    open: Vec<Open<T>>,
    requests_seen: bool,
    tick_due_ms: f64,
}

impl<T> Default for Settle<T> {
    fn default() -> Self {
        Settle { open: Vec::new(), requests_seen: false, tick_due_ms: f64::INFINITY }
    }
}

impl<T> Settle<T> {
    /// Whether anything is open (the page is watched, and polled).
    pub fn any(&self) -> bool {
        !self.open.is_empty()
    }

    /// The open spans.
    pub fn iter(&self) -> impl Iterator<Item = &Open<T>> {
        self.open.iter()
    }

    /// The open span with `id`.
    pub fn get(&self, id: SpanId) -> Option<&Open<T>> {
        self.open.iter().find(|o| o.id == id)
    }

    /// Starts watching a span opened at `now`; `held` keeps it current
    /// until [`Settle::release`]. Returns when the next poll is due.
    pub fn open(&mut self, item: T, id: SpanId, parent: Option<SpanId>, route: bool, now: f64, held: bool) -> f64 {
        let max = if route { ROUTE_CHANGE_MAX_MS } else { INTERACTION_MAX_MS };
        let parent = parent.filter(|p| self.open.iter().any(|o| o.id == *p));
        self.open.push(Open {
            item,
            id,
            parent,
            route,
            start_ms: now,
            last_activity_ms: now,
            quiet_since_ms: now,
            busy_until_ms: now,
            deadline_ms: now + max,
            held,
            changed: false,
            errored: false,
        });
        self.tick_due_ms = self.tick_due_ms.min(now + POLL_MS);
        self.tick_due_ms
    }

    fn lineage(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(2);
        out.push(i);
        let mut cur = i;
        while let Some(p) = self.open[cur].parent {
            match self.open.iter().position(|o| o.id == p) {
                Some(j) if !out.contains(&j) => {
                    out.push(j);
                    cur = j;
                }
                _ => break,
            }
        }
        out
    }

    /// Something the span's own work did at `at_ms` (a timer it set ran):
    /// it and its open parents stay open at least that long.
    pub fn activity(&mut self, id: SpanId, at_ms: f64) {
        if let Some(i) = self.open.iter().position(|o| o.id == id) {
            for j in self.lineage(i) {
                self.open[j].saw(at_ms);
            }
        }
    }

    /// Something the page did at `at_ms` (a DOM mutation, a resource that
    /// finished loading): every span open by then stays open that long.
    pub fn activity_all(&mut self, at_ms: f64) {
        for o in self.open.iter_mut() {
            if at_ms >= o.start_ms {
                o.saw(at_ms);
                o.changed = true;
            }
        }
    }

    /// The page began something of its own (a request, a route change):
    /// every open span saw the page change.
    pub fn changed_all(&mut self) {
        for o in self.open.iter_mut() {
            o.changed = true;
        }
    }

    /// An uncaught error: every open span saw it.
    pub fn errored_all(&mut self) {
        for o in self.open.iter_mut() {
            o.errored = true;
        }
    }

    /// A timer the span's work set at `now`, due at `due_ms`. The span
    /// waits for it if it is due within [`TIMER_WAIT_MS`]; it is followed
    /// (runs with the span current) if the span is open and the timer is
    /// due before the span's bound.
    pub fn note_timer(&mut self, id: SpanId, now: f64, due_ms: f64) -> bool {
        let Some(i) = self.open.iter().position(|o| o.id == id) else { return false };
        if due_ms > self.open[i].deadline_ms {
            return false;
        }
        if due_ms - now <= TIMER_WAIT_MS {
            for j in self.lineage(i) {
                let o = &mut self.open[j];
                o.busy_until_ms = o.busy_until_ms.max(due_ms);
            }
        }
        true
    }

    /// Lets go of a held span; false if it was not held.
    pub fn release(&mut self, id: SpanId) -> bool {
        self.open.iter_mut().find(|o| o.id == id).is_some_and(|o| core::mem::take(&mut o.held))
    }

    /// The poll at `now`, with `pending` requests under way: the spans
    /// that ended, parents after their children.
    pub fn tick(&mut self, now: f64, pending: u32) -> Vec<Ended<T>> {
        // A poll that runs late means the main thread was busy or the page
        // got no time: nothing could be watched meanwhile, so the quiet
        // window starts over. The end stays at the last activity seen.
        if now - self.tick_due_ms > LATE_MS {
            for o in self.open.iter_mut() {
                o.quiet_since_ms = o.quiet_since_ms.max(now);
            }
        }
        // A request that ended since the last poll ended at most a poll
        // ago: counting it as now keeps every span's end at or after its
        // requests' ends.
        if pending > 0 || self.requests_seen {
            for o in self.open.iter_mut() {
                o.saw(now);
            }
        }
        self.requests_seen = pending > 0;
        let mut ended = Vec::new();
        loop {
            let open = &self.open;
            let due = open.iter().position(|o| {
                let has_child = open.iter().any(|c| c.parent == Some(o.id));
                now >= o.deadline_ms
                    || (!has_child && pending == 0 && now >= o.busy_until_ms && now - o.quiet_since_ms >= QUIET_MS)
            });
            let Some(i) = due else { break };
            let o = self.open.remove(i);
            let (end_ms, reason) =
                if now >= o.deadline_ms { (now, Reason::Timeout) } else { (o.last_activity_ms, Reason::Settled) };
            self.ended(o, end_ms, reason, &mut ended);
        }
        self.tick_due_ms = if self.open.is_empty() { f64::INFINITY } else { now + POLL_MS };
        ended
    }

    /// When the next poll is due (infinite when nothing is open).
    pub fn tick_due(&self) -> f64 {
        self.tick_due_ms
    }

    fn ended(&mut self, o: Open<T>, end_ms: f64, reason: Reason, out: &mut Vec<Ended<T>>) {
        // Its parents cannot end before it does.
        if let Some(p) = o.parent {
            self.activity(p, end_ms);
        }
        out.push(Ended { item: o.item, id: o.id, end_ms, reason, route: o.route, changed: o.changed, errored: o.errored });
    }

    /// Ends every open route change (a newer one begins), each at its
    /// last activity: what it did last, not when the user moved on.
    pub fn supersede_routes(&mut self) -> Vec<Ended<T>> {
        let mut out = Vec::new();
        while let Some(i) = self.open.iter().position(|o| o.route) {
            let o = self.open.remove(i);
            let end = o.last_activity_ms;
            self.ended(o, end, Reason::Superseded, &mut out);
        }
        out
    }

    /// Ends everything at `now` (hidden, shutdown).
    pub fn end_all(&mut self, now: f64, reason: Reason) -> Vec<Ended<T>> {
        let mut out = Vec::new();
        // Children first, so parents end after them.
        while !self.open.is_empty() {
            let i = (0..self.open.len()).rev().find(|&i| !self.open.iter().any(|c| c.parent == Some(self.open[i].id))).unwrap_or(0);
            let o = self.open.remove(i);
            self.ended(o, now, reason, &mut out);
        }
        self.tick_due_ms = f64::INFINITY;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> SpanId {
        SpanId([n; 8])
    }

    /// Polls on time until `until` (inclusive), with `pending` requests.
    fn poll<T>(s: &mut Settle<T>, until: f64, pending: u32) -> Vec<Ended<T>> {
        let mut out = Vec::new();
        while s.tick_due() <= until {
            out.extend(s.tick(s.tick_due(), pending));
        }
        out
    }

    #[test]
    fn an_ended_span_says_whether_the_page_changed_or_threw_while_it_was_open() {
        let mut s = Settle::default();
        s.open(1, id(1), None, false, 100.0, false);
        s.activity(id(1), 120.0); // its own handler ran: no change
        let quiet = poll(&mut s, 1_000.0, 0);
        assert!(!quiet[0].changed && !quiet[0].errored);

        s.open(2, id(2), None, false, 2_000.0, false);
        s.activity_all(1_990.0); // a mutation from before it opened
        s.errored_all();
        let e = poll(&mut s, 3_000.0, 0);
        assert!(!e[0].changed && e[0].errored);

        s.open(3, id(3), None, false, 4_000.0, false);
        s.activity_all(4_010.0);
        assert!(poll(&mut s, 5_000.0, 0)[0].changed);

        s.open(4, id(4), None, false, 6_000.0, false);
        s.changed_all(); // a request began
        assert!(poll(&mut s, 7_000.0, 0)[0].changed);
    }

    #[test]
    fn a_click_that_changes_nothing_lasts_as_long_as_its_handler() {
        let mut s = Settle::default();
        s.open((), id(1), None, false, 100.0, false);
        s.activity(id(1), 104.0);
        assert!(poll(&mut s, 200.0, 0).is_empty());
        let e = poll(&mut s, 220.0, 0);
        assert_eq!((e.len(), e[0].end_ms, e[0].reason), (1, 104.0, Reason::Settled));
        assert!(!s.any() && s.tick_due().is_infinite());
    }

    #[test]
    fn requests_keep_it_open_and_the_end_is_after_the_last_one() {
        let mut s = Settle::default();
        s.open((), id(1), None, false, 0.0, false);
        assert!(poll(&mut s, 48.0, 1).is_empty());
        // The request ended between 48 and 64: counted as 64.
        let e = poll(&mut s, 1000.0, 0);
        assert_eq!(e[0].end_ms, 64.0);
    }

    #[test]
    fn timers_within_a_second_keep_it_open_later_ones_do_not() {
        let mut s = Settle::default();
        s.open((), id(1), None, false, 0.0, false);
        assert!(s.note_timer(id(1), 0.0, 300.0));
        assert!(poll(&mut s, 290.0, 0).is_empty());
        // A 3 s toast: followed (the span may still be open), not waited for.
        assert!(s.note_timer(id(1), 290.0, 3290.0));
        s.activity(id(1), 301.0);
        let e = poll(&mut s, 1000.0, 0);
        assert_eq!(e[0].end_ms, 301.0);
        // A timer due after the bound is not followed.
        s.open((), id(2), None, false, 1000.0, false);
        assert!(!s.note_timer(id(2), 1000.0, 12_000.0));
        assert!(!s.note_timer(id(9), 1000.0, 1001.0));
    }

    #[test]
    fn a_parent_waits_for_its_children_and_ends_no_earlier() {
        let mut s = Settle::default();
        s.open("click", id(1), None, false, 0.0, false);
        s.open("route", id(2), Some(id(1)), true, 1.0, false);
        poll(&mut s, 16.0, 0);
        s.activity(id(2), 80.0);
        let e = poll(&mut s, 1000.0, 0);
        assert_eq!(e.iter().map(|e| (e.item, e.end_ms)).collect::<Vec<_>>(), vec![("route", 80.0), ("click", 80.0)]);
    }

    #[test]
    fn bounds_late_polls_and_supersession() {
        let mut s = Settle::default();
        s.open((), id(1), None, true, 0.0, false);
        let mut ended = Vec::new();
        while ended.is_empty() {
            let t = s.tick_due();
            s.activity_all(t);
            ended = s.tick(t, 0);
        }
        assert_eq!(ended[0].reason, Reason::Timeout);
        assert!(ended[0].end_ms >= ROUTE_CHANGE_MAX_MS && ended[0].end_ms < ROUTE_CHANGE_MAX_MS + POLL_MS);
        // A poll 300 ms late starts the quiet window over.
        s.open((), id(2), None, false, 10_000.0, false);
        assert!(s.tick(10_300.0, 0).is_empty());
        assert_eq!(poll(&mut s, 11_000.0, 0)[0].end_ms, 10_000.0);
        s.open((), id(3), None, true, 20_000.0, false);
        s.activity_all(20_050.0);
        let e = s.supersede_routes();
        assert_eq!((e[0].reason, e[0].end_ms), (Reason::Superseded, 20_050.0));
        s.open((), id(4), None, false, 30_000.0, true);
        assert!(s.release(id(4)) && !s.release(id(4)));
        let e = s.end_all(30_010.0, Reason::Hidden);
        assert_eq!((e.len(), e[0].reason), (1, Reason::Hidden));
    }
}
