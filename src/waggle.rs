//! The composition root: one [`Runtime`] and the [`Instruments`] of a
//! running agent, and the routing of each observation to its part.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::clock::Clock;
use crate::core::config::{choice_error, consent_value, inst, Config, ConfigValue};
use crate::core::consent::{self, State, Step};
use crate::core::resource::ResourceInfo;
use crate::core::settle::Reason;
use crate::core::vitals::navigation_type;
use crate::delivery::Delivery;
use crate::instrument::document_load::{self, Nav};
use crate::instrument::timing::Entry;
use crate::instrument::vitals::{self, Vitals};
use crate::instrument::{app_spans, errors, interactions, long_frames, requests, route_changes, Instruments};
use crate::platform::io::timer;
use crate::platform::protocol::{cmd, rec};
use crate::platform::wire::{Reader, Rec};
use crate::platform::Io;
use crate::runtime::Runtime;

/// The agent: what `run` feeds observations to.
///
/// ```
/// use waggle_rum::Waggle;
/// let mut w = Waggle::new(|b| b.fill(1));
/// // No observations, no commands.
/// assert!(w.run(&[], 0.0, f64::NAN).is_empty());
/// ```
pub struct Waggle {
    rt: Runtime,
    inst: Option<Instruments>,
}

impl Waggle {
    /// An agent drawing randomness from `fill`.
    pub fn new(fill: fn(&mut [u8])) -> Self {
        Waggle { rt: Runtime::new(Io::new(fill)), inst: None }
    }

    /// Handles the observations in `input` (at `now`, the page's
    /// `performance.now()`, and `wall`, `Date.now()`: the clock checks
    /// them for a sleep), returning the commands for the page.
    pub fn run(&mut self, input: &[u8], now: f64, wall: f64) -> &[u8] {
        self.rt.io.out.clear();
        self.rt.io.now = now;
        self.rt.io.clock.observe(now, wall);
        let mut r = Reader::new(input);
        while let Some(mut rec) = r.record() {
            self.record(&mut rec);
        }
        self.rt.io.out.bytes()
    }

    fn record(&mut self, r: &mut Rec<'_, '_>) {
        let rt = &mut self.rt;
        // What keeps going after shutdown: delivery of what is queued.
        match r.kind {
            rec::INIT => return self.init(r),
            rec::FLUSH => {
                let token = r.u32();
                match rt.delivery.as_mut() {
                    Some(d) => d.flush(&mut rt.io, token),
                    None => done(rt, token),
                }
                return;
            }
            rec::SHUTDOWN => return self.shutdown(r.u32()),
            // Also while stopped by a denial: a grant starts it again.
            rec::CONSENT => {
                let v = r.tree();
                return self.consent(&v);
            }
            rec::ANSWER => {
                let id = r.u32();
                let status = r.opt_num().map(|s| s as u16);
                let retry_after = r.str();
                let date_delay = r.opt_num();
                let body = r.str();
                if let Some(d) = rt.delivery.as_mut() {
                    d.answered(&mut rt.io, id, status, retry_after, date_delay, body);
                }
                return;
            }
            rec::GZIPPED => {
                let id = r.u32();
                let len = r.num();
                if let Some(d) = rt.delivery.as_mut() {
                    d.compressed(&mut rt.io, id, (len >= 0.0).then_some(len as usize));
                }
                return;
            }
            rec::APP_WAITING => {
                let n = r.u32() as usize;
                let dropped = r.num();
                if let Some(d) = rt.delivery.as_mut() {
                    d.app_waiting(&mut rt.io, n, if dropped > 0.0 { dropped as u64 } else { 0 });
                }
                return;
            }
            rec::ONLINE => {
                let online = r.bool();
                if let Some(d) = rt.delivery.as_mut() {
                    d.online(&mut rt.io, online);
                }
                return;
            }
            rec::HIDE => {
                let how = r.u32();
                let count = r.num();
                if let Some(i) = self.inst.as_mut() {
                    i.vitals.hidden(rt, rt.io.now, count);
                    i.errors.flush(rt);
                    i.requests.flush(rt, false);
                    rt.end_tracked(Reason::Hidden);
                }
                rt.views.hidden(how == 1);
                if let Some(d) = rt.delivery.as_mut() {
                    d.hide(&mut rt.io, how > 0, how == 1);
                }
                return;
            }
            rec::SHOW => {
                rt.shown();
                if let Some(d) = rt.delivery.as_mut() {
                    d.show(&mut rt.io);
                }
                return;
            }
            rec::FREEZE => {
                if let Some(d) = rt.delivery.as_mut() {
                    d.freeze(&mut rt.io);
                }
                return;
            }
            rec::UNSENT => {
                let kept = String::from(r.str());
                if let Some(d) = rt.delivery.as_mut() {
                    d.restore(&mut rt.io, &kept);
                }
                return;
            }
            rec::TIMER => {
                let id = r.u32();
                if id == timer::DELIVERY {
                    if let Some(d) = rt.delivery.as_mut() {
                        d.tick(&mut rt.io);
                    }
                } else if let Some(i) = self.inst.as_mut() {
                    match id {
                        timer::SETTLE => rt.settle_tick(),
                        timer::ERRORS => i.errors.tick(rt),
                        timer::TIMINGS => i.requests.tick(rt),
                        timer::HOLD => rt.release_held(),
                        _ => {}
                    }
                }
                return;
            }
            rec::SPANS => {
                if let Some(i) = self.inst.as_mut() {
                    i.app.spans(rt, r);
                } else {
                    app_spans::AppSpans::default().spans(rt, r);
                }
                return;
            }
            _ => {}
        }
        let Some(i) = self.inst.as_mut() else { return };
        match r.kind {
            rec::IDS => app_spans::ids(rt, r),
            rec::ENTER => app_spans::enter(rt, r),
            rec::EXIT => rt.task_over(r.u32()),
            rec::USER => {
                let v = r.tree();
                rt.set_user(&v);
            }
            rec::GLOBALS => {
                let v = r.tree();
                rt.set_globals(&v);
            }
            rec::ROUTE => {
                let v = r.tree();
                rt.set_route(&v);
            }
            rec::SESSION => {
                let stored = r.opt_str().map(String::from);
                rt.session(stored.as_deref(), false);
            }
            rec::ACTIVITY => {
                let kind = String::from(r.str());
                let stored = r.opt_str().map(String::from);
                let trusted = r.bool();
                if stored.is_some() || kind != "scroll" {
                    rt.session(stored.as_deref(), true);
                }
                if trusted && (kind == "keydown" || kind == "pointerdown") {
                    vitals::lcp::finalize(&mut i.vitals, rt);
                }
            }
            rec::EVENT => interactions::event(rt, r),
            rec::REQUEST => i.requests.start(rt, r),
            rec::RESPONSE => i.requests.end(rt, r),
            rec::ENTRY => match r.u32() {
                1 => {
                    let e = Entry::read(r);
                    let rx = r.u32();
                    if !rt.ignored(&e.name, rx) {
                        rt.page_activity(e.response_end);
                    }
                    i.requests.entry(rt, &e);
                }
                3 if rt.config.on(inst::WEB_VITALS) => vitals::fcp::entry(&mut i.vitals, rt, r),
                4 if rt.config.on(inst::WEB_VITALS) => vitals::lcp::entry(&mut i.vitals, r),
                5 if rt.config.on(inst::WEB_VITALS) => vitals::cls::entry(&mut i.vitals, r),
                6 if rt.config.on(inst::WEB_VITALS) => vitals::inp::entry(&mut i.vitals, r, false),
                7 if rt.config.on(inst::WEB_VITALS) => vitals::inp::entry(&mut i.vitals, r, true),
                8 => long_frames::entry(rt, r),
                9 if rt.config.on(inst::WEB_VITALS) => vitals::soft_nav::entry(&mut i.vitals, &i.routes, rt, r),
                10 if rt.config.on(inst::WEB_VITALS) => vitals::soft_nav::paint(&mut i.vitals, r),
                _ => {}
            },
            rec::LOADED => {
                let nav = Nav::read(r);
                if rt.config.on(inst::WEB_VITALS) {
                    vitals::ttfb::loaded(&mut i.vitals, rt, nav.entry.phases[7]);
                }
                if rt.config.on(inst::DOCUMENT_LOAD) {
                    document_load::loaded(rt, &nav, r);
                }
            }
            rec::URL => i.routes.observed(rt, r),
            rec::TIMER_SET => {
                let token = rt.follow_timer(r.num());
                let w = rt.io.cmd(cmd::FOLLOW, 1);
                w.uint(token);
            }
            rec::TIMER_RUN => rt.timer_runs(r.u32()),
            rec::MUTATION => {
                let t = r.num();
                rt.page_activity(t);
                rt.set_title(r.str());
            }
            rec::ERROR => i.errors.error(rt, r),
            // The tests' way to make the agent fail inside, as a bug would:
            // the page must not notice.
            rec::FAULT => panic!("fault"),
            _ => {}
        }
    }

    fn init(&mut self, r: &mut Rec<'_, '_>) {
        let options = r.tree();
        let mut env = r.arr();
        let time_origin = env.num();
        let href = String::from(env.str());
        let origin = String::from(env.str());
        let title = String::from(env.str());
        let user_agent = String::from(env.str());
        let mut brands = Vec::new();
        {
            let mut b = env.arr();
            while b.left() > 0 {
                brands.push(String::from(b.str()));
            }
        }
        let platform = String::from(env.str());
        let mobile = env.opt_bool();
        let language = String::from(env.str());
        let session = env.opt_str().map(String::from);
        let gzip = env.bool();
        let online = env.opt_bool().unwrap_or(true);
        let hidden = env.bool();
        let nav_kind = String::from(env.str());
        let activation = env.num();
        let discarded = env.bool();
        let prerendering = env.bool();
        let view = env.opt_str().map(String::from);
        drop(env);
        let rt = &mut self.rt;
        let mut chosen = r.arr();
        while chosen.left() > 0 {
            let v = chosen.tree();
            match consent_value(&v) {
                Some(c) => rt.consent.choose(c),
                None => bad_consent(rt, &v),
            }
        }
        drop(chosen);
        let config = match Config::parse(&options) {
            Ok(c) => c,
            Err(e) => {
                let w = rt.io.cmd(cmd::FAILED, 2);
                w.str(&e.option);
                w.str(&e.text());
                return;
            }
        };
        if rt.on {
            rt.io.warn("init was called again while the agent runs; the second call is ignored (call shutdown() first)");
            return;
        }
        rt.io.clock = Clock::new(time_origin);
        let url = config.traces_url(&origin);
        if config.debug {
            rt.io.log(1, &config.describe(&options, &url));
        }
        let consent = rt.consent.start(config.consent);
        if consent == State::Denied {
            rt.config = config;
            return self.deny();
        }
        let resource = ResourceInfo {
            service_name: config.service_name.clone(),
            service_version: config.service_version.clone(),
            environment: config.environment.clone(),
            user_agent,
            brands,
            platform,
            mobile,
            language,
        }
        .attributes();
        let keep = rt.delivery.as_ref().is_some_and(|d| d.url() == url);
        if !keep {
            rt.delivery = Some(Delivery::new(url, resource, config.max_export_batch_size, config.scheduled_delay_ms, config.max_queue_size, gzip, online, None));
        }
        if let Some(d) = rt.delivery.as_mut() {
            d.debug = config.debug.then(|| config.trace_url.clone());
            // Also a delivery kept from before shutdown, which may hold.
            d.hold(&mut rt.io, consent == State::Pending);
        }

        let w = rt.io.cmd(cmd::CONFIG, 6);
        w.arr(config.interaction_events.len());
        for e in &config.interaction_events {
            w.str(e);
        }
        w.uint(config.instrumentations);
        w.str(rt.delivery.as_ref().map_or("", |d| d.url()));
        w.uint(config.max_queue_size as u32);
        w.uint(config.max_export_batch_size as u32);
        w.bool(config.session_persist);
        rt.start(config, &origin);
        consent_cmd(rt, consent, false, consent != State::Granted);
        rt.set_page(&href, &title);
        rt.session(session.as_deref(), false);
        rt.views.started(view.as_deref());
        let activation = if activation > 0.0 { activation } else { 0.0 };
        let nav_type = navigation_type(Some(&nav_kind), prerendering || activation > 0.0, discarded);
        let vitals = Vitals::new(rt, activation, nav_type, hidden);
        self.inst = Some(Instruments {
            requests: requests::Requests::default(),
            routes: route_changes::RouteChanges::new(&href),
            errors: errors::Errors::default(),
            vitals,
            app: app_spans::AppSpans::default(),
        });
        if let Some(d) = rt.delivery.as_mut() {
            d.show(&mut rt.io);
        }
    }

    /// `setConsent` once started.
    fn consent(&mut self, v: &ConfigValue) {
        let rt = &mut self.rt;
        let Some(to) = consent_value(v) else { return bad_consent(rt, v) };
        match rt.consent.change(to) {
            Step::Stay => {}
            Step::Refuse => rt.io.warn("setConsent('pending') is ignored once consent was granted or denied"),
            Step::Release => {
                consent_cmd(rt, State::Granted, false, true);
                // The session, checked as for a span, is written now, and
                // the page view the next one links to.
                rt.session(None, false);
                rt.keep_newest_view();
                if let Some(d) = rt.delivery.as_mut() {
                    d.hold(&mut rt.io, false);
                }
                // What earlier pages left in storage can go now too.
                rt.io.cmd(cmd::CLAIM, 0);
            }
            Step::Stop => self.deny(),
            Step::Restart => consent_cmd(rt, State::Granted, true, true),
        }
    }

    /// Consent denied: stops as shutdown does, without sending; the page
    /// removes what the agent stored.
    fn deny(&mut self) {
        let rt = &mut self.rt;
        // First, so the spans ending as it stops go nowhere.
        rt.delivery = None;
        if self.inst.take().is_some() {
            rt.stop_tracking();
            rt.stop();
        }
        // The page's load belongs to before: a later grant records from then.
        rt.sent = u32::MAX;
        consent_cmd(rt, State::Denied, false, true);
    }

    fn shutdown(&mut self, token: u32) {
        let rt = &mut self.rt;
        if let Some(mut i) = self.inst.take() {
            // Instrumentations first, while the agent still runs, so what
            // they hold reaches the final flush.
            i.errors.flush(rt);
            i.requests.flush(rt, true);
            rt.stop_tracking();
            rt.stop();
        }
        match rt.delivery.as_mut() {
            Some(d) => d.flush(&mut rt.io, token),
            None => done(rt, token),
        }
    }
}

/// Tells the page the consent in force; with `debug` and `say`, the
/// console too.
fn consent_cmd(rt: &mut Runtime, state: State, restart: bool, say: bool) {
    if say && rt.config.debug {
        rt.io.log(1, consent::LOG[state.code() as usize]);
    }
    let w = rt.io.cmd(cmd::CONSENT, 2);
    w.uint(state.code());
    w.bool(restart);
}

fn bad_consent(rt: &mut Runtime, v: &ConfigValue) {
    let mut t = String::from("setConsent: ");
    t.push_str(&choice_error(consent::EXPECTED, v));
    t.push_str("; the call is ignored");
    rt.io.warn(&t);
}

fn done(rt: &mut Runtime, token: u32) {
    let w = rt.io.cmd(cmd::DONE, 1);
    w.uint(token);
}
