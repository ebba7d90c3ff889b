//! Spans that stay open until the page settles (interactions, route
//! changes), on top of [`crate::core::settle`]: while any is open the page
//! is watched (DOM mutations, resources, requests, the timers their work
//! set) and polled.
//!
//! A tracked span is *current* (requests become its children) from the
//! moment it starts until the task that started it is over: the rest of
//! the event dispatch (or the `pushState` caller), the default action that
//! follows it (a link's fragment navigation, a form's `submit`), and every
//! promise callback chained without waiting on the network, because the
//! browser drains the microtask queue before it runs another task. Timers
//! its work sets carry it further: a followed timer runs its callback with
//! the span current again, if the span is still open.

use alloc::vec::Vec;

use crate::core::frustration::Frustration;
use crate::core::ids::SpanId;
use crate::core::settle::{Ended, Reason, Settle, HOLD_MS};
use crate::core::span::Span;
use crate::platform::io::timer;
use crate::platform::protocol::cmd;

use super::{Ctx, Runtime};

/// Most timers remembered as followed at once.
const FOLLOWS: usize = 256;

/// The open spans and the page-watching state.
#[derive(Default)]
pub struct Tracker {
    settle: Settle<Span>,
    watching: bool,
    follows: Vec<(u32, SpanId)>,
    next_follow: u32,
    frustration: Frustration,
    /// Open clicks: how many on their target in the rage window, and
    /// whether it looked actionable.
    clicks: Vec<(SpanId, u32, bool)>,
}

impl Tracker {
    /// Whether a span is open.
    pub fn any(&self) -> bool {
        self.settle.any()
    }

    /// The context of the latest-started span open at `at_ns`, if any.
    pub fn open_at(&self, at_ns: u64) -> Option<Ctx> {
        self.settle.iter().filter(|o| o.item.start_ns <= at_ns).max_by_key(|o| o.item.start_ns).map(|o| Ctx::of(&o.item))
    }

    /// The open span with `id`'s context.
    pub fn context(&self, id: SpanId) -> Option<Ctx> {
        self.settle.get(id).map(|o| Ctx::of(&o.item))
    }
}

impl Runtime {
    /// Starts tracking `span`: current until its task is over (or until
    /// released, when `held`), ended once the page settles. Returns its id.
    pub fn open_tracked(&mut self, span: Span, route: bool, held: bool) -> SpanId {
        let id = span.span_id;
        let ctx = Ctx::of(&span);
        if held {
            self.enter(ctx);
            self.io.timer(timer::HOLD, HOLD_MS);
        } else {
            self.enter_for_task(ctx);
        }
        let parent = span.parent;
        let due = self.tracker.settle.open(span, id, parent, route, self.io.now, held);
        if !self.tracker.watching {
            self.tracker.watching = true;
            let w = self.io.cmd(cmd::WATCH, 1);
            w.bool(true);
        }
        self.io.timer_at(timer::SETTLE, due);
        id
    }

    /// A click at `at_ms` on `target` (its selector), tracked as `span`,
    /// on an element that looks actionable or not: the span carries what
    /// its clicks say when it ends.
    pub fn open_click(&mut self, mut span: Span, at_ms: f64, target: &str, actionable: bool) -> SpanId {
        let clicks = self.tracker.frustration.click(at_ms, target);
        if clicks >= crate::core::frustration::RAGE_CLICKS {
            span.set("waggle.frustration.rage_clicks", clicks as i64);
        }
        let id = self.open_tracked(span, false, false);
        if self.tracker.clicks.len() >= FOLLOWS {
            self.tracker.clicks.remove(0);
        }
        self.tracker.clicks.push((id, clicks, actionable));
        id
    }

    /// The page began something of its own (a request, a route change).
    pub fn page_changed(&mut self) {
        self.tracker.settle.changed_all();
    }

    /// An uncaught error was thrown.
    pub fn page_errored(&mut self) {
        self.tracker.settle.errored_all();
    }

    /// The poll: ends the spans whose page settled.
    pub fn settle_tick(&mut self) {
        let ended = self.tracker.settle.tick(self.io.now, self.pending_requests);
        self.finish_tracked(ended);
        self.schedule_settle();
    }

    fn schedule_settle(&mut self) {
        if self.tracker.settle.any() {
            let due = self.tracker.settle.tick_due();
            self.io.timer_at(timer::SETTLE, due);
        } else if self.tracker.watching {
            self.tracker.watching = false;
            let w = self.io.cmd(cmd::WATCH, 1);
            w.bool(false);
            self.io.timer(timer::SETTLE, -1.0);
        }
    }

    fn finish_tracked(&mut self, ended: Vec<Ended<Span>>) {
        for e in ended {
            self.exit_span(e.id);
            let mut span = e.item;
            let end = self.ns(e.end_ms).max(span.start_ns);
            span.end(end);
            span.set("waggle.end_reason", e.reason.as_str());
            if !e.route {
                // What the user waited on: the longest script in the long
                // frames the interaction overlapped.
                let from = (span.start_ns.saturating_sub(self.io.clock.origin_ns())) as f64 / 1e6;
                if let Some(s) = self.frames.longest_script(from, e.end_ms) {
                    s.put(&mut span.attrs);
                }
            }
            if let Some(i) = self.tracker.clicks.iter().position(|c| c.0 == e.id) {
                let (_, clicks, actionable) = self.tracker.clicks.swap_remove(i);
                let f = &mut self.tracker.frustration;
                let s = f.ended(clicks, actionable, e.changed, e.errored, e.reason == Reason::Settled);
                if s.any() {
                    for (on, key) in [(s.rage, "waggle.frustration.rage"), (s.dead, "waggle.frustration.dead"), (s.error, "waggle.frustration.error")] {
                        if on {
                            span.set(key, true);
                        }
                    }
                    let c = f.counts;
                    span.set("waggle.page.rage_clicks", c.rage as i64);
                    span.set("waggle.page.dead_clicks", c.dead as i64);
                    span.set("waggle.page.error_clicks", c.error as i64);
                }
            }
            if e.route {
                // The view it went to, as named when it ended: a router
                // names the new route (setRoute) right after changing the
                // URL, and a newer route change ends this one before it
                // changes the page.
                span.set("waggle.route.to", self.page.route.as_str());
                span.set("waggle.page.route", self.page.route.as_str());
            }
            self.finish(span);
        }
    }

    /// The page did something at `at_ms` (a DOM mutation, a resource
    /// finished loading).
    pub fn page_activity(&mut self, at_ms: f64) {
        self.tracker.settle.activity_all(at_ms);
    }

    /// Ends every open span now (the page is hidden, or the agent stops).
    pub fn end_tracked(&mut self, reason: Reason) {
        let ended = self.tracker.settle.end_all(self.io.now, reason);
        self.finish_tracked(ended);
        self.schedule_settle();
    }

    /// Ends every open route change: a newer one begins.
    pub fn supersede_routes(&mut self) {
        let ended = self.tracker.settle.supersede_routes();
        self.finish_tracked(ended);
    }

    /// Lets go of held spans (their `hashchange` did not come in time).
    pub fn release_held(&mut self) {
        let held: Vec<SpanId> = self.tracker.settle.iter().filter(|o| o.held).map(|o| o.id).collect();
        for id in held {
            self.release(id);
        }
    }

    /// Lets go of a span held current, once the running task is over;
    /// false if it was not held.
    pub fn release(&mut self, id: SpanId) -> bool {
        if !self.tracker.settle.release(id) {
            return false;
        }
        // Current until the end of this task, then not.
        self.exit_span(id);
        if let Some(ctx) = self.tracker.context(id) {
            self.enter_for_task(ctx);
        }
        true
    }

    /// Makes an open span current again for the rest of this task.
    pub fn reenter(&mut self, id: SpanId) -> bool {
        let Some(ctx) = self.tracker.context(id) else { return false };
        self.enter_for_task(ctx);
        self.tracker.settle.activity(id, self.io.now);
        true
    }

    /// The task that made a span current is over: it is not current any
    /// more, and what it did counts as its activity.
    pub fn task_over(&mut self, token: u32) {
        if let Some(id) = self.exit(token) {
            self.tracker.settle.activity(id, self.io.now);
        }
    }

    /// `setTimeout(fn, delay)` was called with a span current: a token to
    /// run the callback with it current again (0: not followed).
    pub fn follow_timer(&mut self, delay: f64) -> u32 {
        let Some(cur) = self.current() else { return 0 };
        let delay = if delay.is_finite() && delay > 0.0 { delay } else { 0.0 };
        if !self.tracker.settle.note_timer(cur.span_id, self.io.now, self.io.now + delay) {
            return 0;
        }
        self.tracker.next_follow = self.tracker.next_follow.wrapping_add(1).max(1);
        if self.tracker.follows.len() >= FOLLOWS {
            self.tracker.follows.remove(0);
        }
        self.tracker.follows.push((self.tracker.next_follow, cur.span_id));
        self.tracker.next_follow
    }

    /// A followed timer is about to run its callback.
    pub fn timer_runs(&mut self, token: u32) {
        let Some(i) = self.tracker.follows.iter().position(|(t, _)| *t == token) else { return };
        let (_, id) = self.tracker.follows.swap_remove(i);
        // The span may have ended since: a finished span gets no more
        // children, and then this does nothing.
        self.reenter(id);
    }

    /// Ends tracking with `reason` on stop.
    pub fn stop_tracking(&mut self) {
        self.end_tracked(Reason::Shutdown);
        self.tracker.follows.clear();
    }
}
