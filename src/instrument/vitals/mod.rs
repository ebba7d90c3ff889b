//! Web vitals from the browser's own Performance entries, computed as the
//! `web-vitals` library computes them (`core::vitals`), one file per
//! metric, each reported once it is final:
//!
//! - TTFB once the page has loaded, FCP as soon as it paints;
//! - LCP at the first trusted key press or click, or when the page is
//!   hidden, whichever comes first;
//! - CLS and INP when the page is hidden, and again at a later hide if the
//!   value changed.
//!
//! Each report is a root span named by the vital's acronym (`LCP`, `CLS`,
//! `INP`, `FCP`, `TTFB`) spanning what it measures: navigation start to the
//! paint (LCP, FCP) or first byte (TTFB); the interaction's input to its
//! next paint (INP); the first to the last shift of the window that makes
//! CLS (or the moment of the report for a CLS of 0). The span carries the
//! semantic conventions' `browser.web_vital.*` attributes (`name`,
//! `value`, `delta`, `id`, `rating`, `navigation_type`), and a
//! `browser.web_vital` event with the same. Attribution, which no
//! convention covers yet, is Waggle's own: `waggle.web_vital.lcp.*`,
//! `.cls.*`, `.inp.*`. Times in attributes are
//! milliseconds; `*_time` ones are measured from navigation start like the
//! values.
//!
//! The page reports entries as `[ENTRY, type, ...fields]` (see each file)
//! and its state in `INIT` and `HIDE`.

pub mod cls;
pub mod fcp;
pub mod inp;
pub mod lcp;
pub mod soft_nav;
pub mod ttfb;

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::num::push_u64;
use crate::core::span::{kind, Attrs};
use crate::core::vitals::view::{belongs, Early};
use crate::core::vitals::{Reporter, Vital};
use crate::runtime::{Ctx, Runtime};

/// What every vital needs to know about the page view.
pub struct Vitals {
    /// `activationStart` (prerendered pages).
    pub activation: f64,
    /// `navigation_type` as `web-vitals` spells it.
    pub navigation_type: &'static str,
    /// When the page was first hidden: paints after it do not count.
    pub first_hidden: f64,
    reporters: [Reporter; 5],
    ids: [String; 5],
    /// The LCP candidate.
    pub lcp: lcp::Lcp,
    /// CLS so far.
    pub cls: cls::ClsState,
    /// The slowest interactions.
    pub inp: inp::InpState,
    /// The view's `navigationId`, once a soft navigation began it (empty
    /// for the page load's view, which takes every entry).
    pub nav: String,
    /// A soft navigation's: its URL, and the route change it came with.
    pub url: Option<String>,
    /// ... the route change's context (the view's vitals are its children).
    pub parent: Option<Ctx>,
    /// `performance.interactionCount` when the view began.
    pub count_base: f64,
    /// Candidates for soft navigations not yet seen (the browser reports
    /// a view's first contentful paint before the navigation itself).
    pub early: Early<lcp::Candidate>,
}

fn index(v: Vital) -> usize {
    match v {
        Vital::Lcp => 0,
        Vital::Cls => 1,
        Vital::Inp => 2,
        Vital::Fcp => 3,
        Vital::Ttfb => 4,
    }
}

/// One value ready to become a span.
pub struct Report {
    /// Which.
    pub vital: Vital,
    /// Its value.
    pub value: f64,
    /// What it measures starts, ms.
    pub start_ms: f64,
    /// ... and ends, ms.
    pub end_ms: f64,
    /// Attribution attributes.
    pub attrs: Attrs,
}

impl Vitals {
    /// A page view's vitals.
    pub fn new(rt: &mut Runtime, activation: f64, navigation_type: &'static str, hidden: bool) -> Self {
        // web-vitals' id: unique per vital and page view, kept across a
        // vital's reports so their deltas can be summed.
        let mut ids: [String; 5] = Default::default();
        let now = rt.io.clock.epoch_ms(rt.io.now) as u64;
        for id in ids.iter_mut() {
            let mut s = Vec::from(&b"w1-"[..]);
            push_u64(&mut s, now);
            s.push(b'-');
            push_u64(&mut s, (rt.io.unit() * 8_999_999_999_999.0) as u64 + 1_000_000_000_000);
            *id = crate::core::num::bytes_to_string(s);
        }
        Vitals {
            activation,
            navigation_type,
            first_hidden: if hidden { 0.0 } else { f64::INFINITY },
            reporters: Default::default(),
            ids,
            lcp: lcp::Lcp::default(),
            cls: cls::ClsState::default(),
            inp: inp::InpState::default(),
            nav: String::new(),
            url: None,
            parent: None,
            count_base: 0.0,
            early: Early::default(),
        }
    }

    /// Whether an entry of the view `nav` counts toward this view's.
    pub fn mine(&self, nav: &str) -> bool {
        belongs(&self.nav, nav)
    }

    /// Whether `v` was reported.
    pub fn reported(&self, v: Vital) -> bool {
        self.reporters[index(v)].reported()
    }

    /// Makes a span of `r`, if its value changed since the last report.
    pub fn emit(&mut self, rt: &mut Runtime, r: Report) {
        let Some(delta) = self.reporters[index(r.vital)].report(r.value) else { return };
        let start = rt.ns(r.start_ms);
        let mut span = rt.start_span(r.vital.span_name(), kind::INTERNAL, self.parent.as_ref(), start);
        span.end(rt.ns(r.end_ms));
        if let Some(u) = &self.url {
            span.set("url.full", u.as_str());
        }
        let mut event = Attrs::default();
        event.put("browser.web_vital.name", r.vital.name());
        event.put("browser.web_vital.value", r.value);
        event.put("browser.web_vital.delta", delta);
        event.put("browser.web_vital.id", self.ids[index(r.vital)].as_str());
        event.put("browser.web_vital.rating", r.vital.rating(r.value).as_str());
        event.put("browser.web_vital.navigation_type", self.navigation_type);
        span.attrs.append(&event);
        span.attrs.append(&r.attrs);
        let t = span.end_ns;
        span.event("browser.web_vital", t, &event);
        rt.finish(span);
    }

    /// The page was hidden at `at`: LCP is final, and CLS and INP are
    /// reported with what they are now.
    pub fn hidden(&mut self, rt: &mut Runtime, at: f64, interaction_count: f64) {
        self.first_hidden = self.first_hidden.min(at);
        self.report(rt, interaction_count);
    }

    /// LCP is final, and CLS and INP are reported with what they are now;
    /// `interaction_count` is the page's.
    pub fn report(&mut self, rt: &mut Runtime, interaction_count: f64) {
        lcp::finalize(self, rt);
        cls::report(self, rt);
        inp::report(self, rt, interaction_count - self.count_base);
    }
}
