//! Spans that stay open until the page settles: interactions and route
//! changes.
//!
//! A tracked span is *current* (requests become its children) from the
//! moment it starts until a task the agent queues at that moment runs: that
//! covers the rest of the event dispatch (or the `pushState` caller), the
//! default action that follows it (a link's fragment navigation, a form's
//! `submit`), and every promise callback chained without waiting on the
//! network, because the browser drains the microtask queue before it runs
//! another task. Timers it sets carry it further (see `timers.rs`). The
//! exit task is queued with `scheduler.postTask` at `user-blocking`
//! priority where the browser has it, `setTimeout(0)` elsewhere; a task of
//! some other origin that the browser runs first (rare: a network callback,
//! a timer already due) also sees the span current.
//!
//! It *ends* when the page has been quiet for [`QUIET_MS`]: no fetch or XHR
//! under way (`Agent::pending_requests`, polled every [`POLL_MS`]), no DOM
//! mutation, no resource finishing loading, no timer it set (due within
//! [`TIMER_WAIT_MS`]) still to fire, no tracked child still open, and no
//! gap in the watching (a poll that runs late means the main thread was
//! busy or starved, and the window starts over). Its end time is the last of those activities, not the moment the
//! quiet window ran out, so a click that changes nothing lasts as long as
//! its handlers ran. A bound ([`INTERACTION_MAX_MS`],
//! [`ROUTE_CHANGE_MAX_MS`]) ends spans on pages that never go quiet
//! (animations written as DOM updates, long polling).
//!
//! The signals are page-wide: a request started by something else (a
//! poller) keeps every open span open too, up to its bound.
//! `waggle.end_reason` says why each span ended: `settled`, `timeout`,
//! `superseded` (a newer route change began), `hidden` (the page was hidden
//! or unloaded, as when a clicked link leads to another document), or
//! `shutdown`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Reflect};
use opentelemetry::trace::SpanId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::span::SpanData;

use super::agent::{context_of, with_agent, ParentContext};
use super::lib::guard;
use super::lib::js;
use super::lib::listener::Listener;
use super::timers::FollowTimers;

/// How long the page must stay quiet for a span to end, in ms.
pub const QUIET_MS: f64 = 100.0;
/// Longest an interaction span stays open, in ms.
pub const INTERACTION_MAX_MS: f64 = 10_000.0;
/// Longest a route-change span stays open, in ms.
pub const ROUTE_CHANGE_MAX_MS: f64 = 5_000.0;
/// How often requests under way are looked at while a span is open, in ms.
pub const POLL_MS: f64 = 16.0;
/// Longest delay of a timer a span waits for, in ms; a later timer still
/// runs with the span current if it is open by then.
pub const TIMER_WAIT_MS: f64 = 1_000.0;
/// Longest a span is held current waiting for the event that releases
/// it, in ms.
pub const HOLD_MS: f64 = 1_000.0;
/// A poll this much later than asked for starts the quiet window over, in
/// ms.
const LATE_MS: f64 = 50.0;

/// What a tracked span stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A click or another configured event.
    Interaction,
    /// A `routeChange`.
    RouteChange,
}

struct Open {
    span: SpanData,
    kind: Kind,
    start_ms: f64,
    /// The span's end, should it end now.
    last_activity_ms: f64,
    /// Since when the page is known to have been quiet: activity moves it,
    /// and so does a stretch the agent could not watch.
    quiet_since_ms: f64,
    busy_until_ms: f64,
    deadline_ms: f64,
    /// Current until released, rather than until its task is over.
    held: bool,
}

#[derive(Default)]
struct State {
    open: Vec<Open>,
    watching: bool,
    tick_scheduled: bool,
    tick_due_ms: f64,
    requests_seen: bool,
}

/// Shared by the interaction and route-change instrumentations: the open
/// spans, the observers that watch the page while any is open, and the
/// `setTimeout` hook. Dropping the last owner removes all of them.
pub struct Tracker {
    state: RefCell<State>,
    set_timeout: JsValue,
    scheduler: JsValue,
    post_task: JsValue,
    mutations: JsValue,
    resources: JsValue,
    _on_mutation: Closure<dyn FnMut(JsValue)>,
    _on_resource: Closure<dyn FnMut(JsValue)>,
    _timers: Option<FollowTimers>,
    _hidden: Vec<Listener>,
}

thread_local! {
    static TRACKER: RefCell<Weak<Tracker>> = const { RefCell::new(Weak::new()) };
}

/// The running tracker, if an instrumentation that uses it is on.
pub fn tracker() -> Option<Rc<Tracker>> {
    TRACKER.with(|t| t.borrow().upgrade())
}

/// The tracker, started if this is its first user.
pub fn acquire() -> Rc<Tracker> {
    if let Some(t) = tracker() {
        return t;
    }
    let t = Rc::new(Tracker::new());
    TRACKER.with(|cell| *cell.borrow_mut() = Rc::downgrade(&t));
    t
}

fn construct(ctor: &str, callback: &JsValue) -> JsValue {
    let Ok(ctor) = js::get(&js::global(), ctor).dyn_into::<Function>() else { return JsValue::UNDEFINED };
    Reflect::construct(&ctor, &Array::of1(callback)).unwrap_or(JsValue::UNDEFINED)
}

impl Tracker {
    fn new() -> Self {
        // Captured before the hook goes in: the agent's own timers must not
        // count as work the page scheduled.
        let set_timeout = js::get(&js::global(), "setTimeout");
        let scheduler = js::get(&js::global(), "scheduler");
        let post_task = js::get(&scheduler, "postTask");
        let on_mutation = Closure::wrap(Box::new(|_records: JsValue| {
            // The text of <title> changes with the view; keep page.title fresh.
            with_agent(|a| a.refresh_page());
            if let Some(t) = tracker() {
                t.activity_all(js::now());
            }
        }) as Box<dyn FnMut(JsValue)>);
        let on_resource = Closure::wrap(Box::new(|list: JsValue| {
            let entries = js::call(&list, "getEntries", &[]);
            let Ok(entries) = entries.dyn_into::<Array>() else { return };
            let mut latest = 0.0f64;
            for entry in entries.iter() {
                let url = js::string(&entry, "name").unwrap_or_default();
                // The exporter's own requests (and ignored URLs) are not the
                // page's work.
                if with_agent(|a| a.ignored(&url)).unwrap_or(true) {
                    continue;
                }
                latest = latest.max(js::num(&entry, "responseEnd"));
            }
            if latest > 0.0 {
                if let Some(t) = tracker() {
                    t.activity_all(latest);
                }
            }
        }) as Box<dyn FnMut(JsValue)>);
        let mutations = construct("MutationObserver", &guard::callback(on_mutation.as_ref()));
        let resources = construct("PerformanceObserver", &guard::callback(on_resource.as_ref()));
        let window = js::global();
        let document = js::get(&window, "document");
        let hidden = {
            let document = document.clone();
            move |_| {
                if js::string(&document, "visibilityState").as_deref() == Some("hidden") {
                    if let Some(t) = tracker() {
                        t.finish_all("hidden");
                    }
                }
            }
        };
        // visibilitychange is fired at the document: a capture listener on
        // window runs before the exporter's flush there, so these spans go
        // with it. On window itself listeners run in the order they were
        // added, so spans ended at pagehide (where visibilitychange did not
        // come first) may miss the exporter's last flush.
        let mut hidden_listeners = Vec::with_capacity(2);
        hidden_listeners.extend(Listener::new(&window, "visibilitychange", true, hidden));
        hidden_listeners.extend(Listener::new(&window, "pagehide", true, |_| {
            if let Some(t) = tracker() {
                t.finish_all("hidden");
            }
        }));
        Tracker {
            state: RefCell::new(State::default()),
            set_timeout,
            scheduler,
            post_task,
            mutations,
            resources,
            _on_mutation: on_mutation,
            _on_resource: on_resource,
            _timers: FollowTimers::start(),
            _hidden: hidden_listeners,
        }
    }

    /// Runs `f` after `ms` with the page's original `setTimeout`, so the
    /// hook never mistakes the agent's timers for the page's.
    pub fn later(&self, ms: f64, f: Box<dyn FnOnce()>) {
        self.timeout(&guard::callback(&Closure::once_into_js(f)), ms);
    }

    fn timeout(&self, callback: &JsValue, ms: f64) {
        if let Some(st) = self.set_timeout.dyn_ref::<Function>() {
            let _ = Reflect::apply(st, &js::global(), &Array::of2(callback, &JsValue::from_f64(ms)));
        }
    }

    /// Starts tracking `span`: it becomes current until the running task
    /// (and the microtasks it queued) is over, and ends once the page
    /// settles. A new route change ends one still open.
    pub fn open(&self, span: SpanData, kind: Kind) {
        let id = span.span_id;
        self.track(span, kind, false);
        self.exit_after_task(id);
    }

    /// Like [`Tracker::open`], but the span stays current until
    /// [`Tracker::release`] (at most [`HOLD_MS`]): a fragment navigation's
    /// route change is current until the `hashchange` it announced, a task
    /// later, has been handled.
    pub fn open_held(&self, span: SpanData, kind: Kind) {
        let id = span.span_id;
        self.track(span, kind, true);
        self.later(
            HOLD_MS,
            Box::new(move || {
                if let Some(t) = tracker() {
                    t.release(id);
                }
            }),
        );
    }

    /// Ends what [`Tracker::open_held`] began, once the running task is
    /// over; false if the span was not held.
    pub fn release(&self, span_id: SpanId) -> bool {
        let held = {
            let Ok(mut st) = self.state.try_borrow_mut() else { return false };
            st.open.iter_mut().find(|o| o.span.span_id == span_id).is_some_and(|o| std::mem::take(&mut o.held))
        };
        if held {
            self.exit_after_task(span_id);
        }
        held
    }

    fn track(&self, span: SpanData, kind: Kind, held: bool) {
        let now = js::now();
        with_agent(|a| a.enter(&span));
        let max = match kind {
            Kind::Interaction => INTERACTION_MAX_MS,
            Kind::RouteChange => ROUTE_CHANGE_MAX_MS,
        };
        self.state.borrow_mut().open.push(Open {
            span,
            kind,
            start_ms: now,
            last_activity_ms: now,
            quiet_since_ms: now,
            busy_until_ms: now,
            deadline_ms: now + max,
            held,
        });
        self.watch();
    }

    /// Ends every open route change, because a newer one begins; each ends
    /// at its last activity.
    pub fn supersede_route_changes(&self) {
        let done: Vec<Open> = {
            let mut st = self.state.borrow_mut();
            let (done, keep) = std::mem::take(&mut st.open).into_iter().partition(|o| o.kind == Kind::RouteChange);
            st.open = keep;
            done
        };
        for o in done {
            // What it did last, not the moment the user moved on.
            let end = o.last_activity_ms;
            self.finish(o, end, "superseded");
        }
    }

    /// Makes an open span current again for the rest of this task (a
    /// `hashchange` that follows the `popstate` of the same navigation).
    pub fn reenter(&self, span_id: SpanId) -> bool {
        let Some(ctx) = self.context(span_id) else { return false };
        with_agent(|a| a.context.push(ctx));
        self.activity(span_id, js::now());
        self.exit_after_task(span_id);
        true
    }

    /// The context of an open span.
    fn context(&self, span_id: SpanId) -> Option<ParentContext> {
        let st = self.state.try_borrow().ok()?;
        st.open.iter().find(|o| o.span.span_id == span_id).map(|o| context_of(&o.span))
    }

    /// Records a timer the span's work set, due at `due_ms`: the span stays
    /// open until then if that is within [`TIMER_WAIT_MS`] (a toast hidden
    /// after 5 s is not part of the click). False (and nothing recorded) if
    /// the span is no longer open or the timer is due after the span's
    /// bound.
    pub fn note_timer(&self, span_id: SpanId, due_ms: f64) -> bool {
        let Ok(mut st) = self.state.try_borrow_mut() else { return false };
        let Some(i) = st.open.iter().position(|o| o.span.span_id == span_id) else { return false };
        if due_ms > st.open[i].deadline_ms {
            return false;
        }
        if due_ms - js::now() > TIMER_WAIT_MS {
            return true;
        }
        for j in lineage(&st.open, i) {
            let o = &mut st.open[j];
            o.busy_until_ms = o.busy_until_ms.max(due_ms);
        }
        true
    }

    /// Something the span's work did at `at_ms` (a timer callback ran, its
    /// task ended): it and its open parents stay open at least that long.
    pub fn activity(&self, span_id: SpanId, at_ms: f64) {
        let Ok(mut st) = self.state.try_borrow_mut() else { return };
        let Some(i) = st.open.iter().position(|o| o.span.span_id == span_id) else { return };
        for j in lineage(&st.open, i) {
            st.open[j].saw(at_ms);
        }
    }

    fn activity_all(&self, at_ms: f64) {
        let Ok(mut st) = self.state.try_borrow_mut() else { return };
        for o in st.open.iter_mut() {
            if at_ms >= o.start_ms {
                o.saw(at_ms);
            }
        }
    }

    /// Takes the span out of the current context once the running task,
    /// and every microtask it queued, is over.
    ///
    /// Until then any other task that runs sees the span current, so the
    /// exit should come as early as it can: `scheduler.postTask` at
    /// `user-blocking` priority is queued ahead of normal tasks (timers,
    /// most network callbacks) where the browser has it; elsewhere
    /// `setTimeout(0)`.
    fn exit_after_task(&self, span_id: SpanId) {
        let exit: Box<dyn FnOnce()> = Box::new(move || {
            with_agent(|a| a.exit(span_id));
            if let Some(t) = tracker() {
                t.activity(span_id, js::now());
            }
        });
        let exit: JsValue = guard::callback(&Closure::once_into_js(exit)).into();
        if let Some(post) = self.post_task.dyn_ref::<Function>() {
            let opts = js_sys::Object::new();
            js::set(&opts, "priority", &"user-blocking".into());
            if Reflect::apply(post, &self.scheduler, &Array::of2(&exit, &opts)).is_ok() {
                return;
            }
        }
        self.timeout(&exit, 0.0);
    }

    fn watch(&self) {
        {
            let mut st = self.state.borrow_mut();
            if !st.tick_scheduled {
                st.tick_scheduled = true;
                st.tick_due_ms = js::now() + POLL_MS;
                self.later(POLL_MS, Box::new(tick));
            }
            if st.watching {
                return;
            }
            st.watching = true;
        }
        let document = js::get(&js::global(), "document");
        let opts = js_sys::Object::new();
        for key in ["subtree", "childList", "attributes", "characterData"] {
            js::set(&opts, key, &JsValue::TRUE);
        }
        js::call(&self.mutations, "observe", &[document, opts.into()]);
        let opts = js_sys::Object::new();
        js::set(&opts, "type", &"resource".into());
        js::call(&self.resources, "observe", &[opts.into()]);
    }

    fn unwatch(&self) {
        js::call(&self.mutations, "disconnect", &[]);
        js::call(&self.resources, "disconnect", &[]);
        self.state.borrow_mut().watching = false;
    }

    fn tick(&self) {
        let now = js::now();
        let pending = with_agent(|a| a.pending_requests).unwrap_or(0);
        {
            let mut st = self.state.borrow_mut();
            st.tick_scheduled = false;
            // A tick that runs late means the main thread was busy (a long
            // task) or the renderer got no time: nothing could be watched
            // meanwhile, so the quiet window starts over. The end stays at
            // the last activity actually seen.
            if now - st.tick_due_ms > LATE_MS {
                for o in st.open.iter_mut() {
                    o.quiet_since_ms = o.quiet_since_ms.max(now);
                }
            }
            // A request that ended since the last look ended at most
            // POLL_MS ago: counting it as now keeps every span's end at or
            // after its requests' ends.
            if pending > 0 || st.requests_seen {
                for o in st.open.iter_mut() {
                    o.saw(now);
                }
            }
            st.requests_seen = pending > 0;
        }
        loop {
            let next = {
                let mut st = self.state.borrow_mut();
                let open = &st.open;
                let due = open.iter().position(|o| {
                    let has_child = open.iter().any(|c| c.span.parent_span_id == Some(o.span.span_id));
                    now >= o.deadline_ms
                        || (!has_child && pending == 0 && now >= o.busy_until_ms && now - o.quiet_since_ms >= QUIET_MS)
                });
                due.map(|i| st.open.remove(i))
            };
            let Some(o) = next else { break };
            let (end, reason) = if now >= o.deadline_ms { (now, "timeout") } else { (o.last_activity_ms, "settled") };
            self.finish(o, end, reason);
        }
        let any_open = !self.state.borrow().open.is_empty();
        if any_open {
            let mut st = self.state.borrow_mut();
            if !st.tick_scheduled {
                st.tick_scheduled = true;
                st.tick_due_ms = now + POLL_MS;
                drop(st);
                self.later(POLL_MS, Box::new(tick));
            }
        } else {
            self.unwatch();
        }
    }

    fn finish_all(&self, reason: &'static str) {
        let now = js::now();
        let open = std::mem::take(&mut self.state.borrow_mut().open);
        for o in open {
            self.finish(o, now, reason);
        }
        self.unwatch();
    }

    fn finish(&self, o: Open, end_ms: f64, reason: &'static str) {
        let mut span = o.span;
        // Its parents cannot end before it does.
        if let Some(parent) = span.parent_span_id {
            self.activity(parent, end_ms);
        }
        with_agent(|a| {
            a.exit(span.span_id);
            // A route change's page.title is read now, so it is the one
            // its view set (a newer route change ends this one before the
            // page context moves on).
            a.refresh_page();
            let end = a.clock.epoch_ns(end_ms).max(span.start_ns);
            span.end(end);
            a.attr(&mut span, "waggle.end_reason", reason);
            a.finish(span);
        });
    }
}

impl Open {
    fn saw(&mut self, at_ms: f64) {
        self.last_activity_ms = self.last_activity_ms.max(at_ms);
        self.quiet_since_ms = self.quiet_since_ms.max(at_ms);
    }
}

/// `open[i]` and the open spans it descends from.
fn lineage(open: &[Open], i: usize) -> Vec<usize> {
    let mut out = vec![i];
    let mut cur = i;
    while let Some(p) = open[cur].span.parent_span_id {
        match open.iter().position(|o| o.span.span_id == p) {
            Some(j) if !out.contains(&j) => {
                out.push(j);
                cur = j;
            }
            _ => break,
        }
    }
    out
}

fn tick() {
    if let Some(t) = tracker() {
        t.tick();
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        // shutdown() detaches the instrumentations while the agent still
        // runs, so spans still open go out with its final flush.
        self.finish_all("shutdown");
    }
}
