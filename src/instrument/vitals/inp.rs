//! Interaction to Next Paint: the 98th percentile of the page's
//! interaction latencies, estimated over the slowest ones
//! (`core::vitals::Inp`), reported when the page is hidden. The page sends
//! `event` entries (observed with `durationThreshold` 40) and
//! `first-input` as `[ENTRY, 6 or 7, interactionId, name, startTime,
//! duration, processingStart, processingEnd, targetPath, navigationId]`,
//! and `performance.interactionCount` with `HIDE`.
//!
//! Attribution: `waggle.web_vital.inp.target`, `.event_type`,
//! `.input_delay`, `.processing_duration`, `.presentation_delay`, and the
//! longest script of the long animation frames it overlapped
//! (`waggle.loaf.script.*`, `core::loaf`).

use alloc::string::String;

use crate::core::span::Attrs;
use crate::core::vitals::{EventEntry, Inp, Vital};
use crate::instrument::path;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

use super::{Report, Vitals};

/// The slowest interactions so far.
#[derive(Default)]
pub struct InpState {
    inp: Inp,
}

/// An `event` (`first_input` false) or `first-input` entry.
pub fn entry(v: &mut Vitals, r: &mut Rec<'_, '_>, first_input: bool) {
    let id = r.num();
    let name = String::from(r.str());
    let start_time = r.num();
    let duration = r.num();
    let processing_start = r.num();
    let processing_end = r.num();
    let p = path::read(r);
    if !v.mine(r.str()) {
        return;
    }
    let interaction_id = if id > 0.0 { id as u64 } else { 0 };
    let target = if interaction_id > 0 || first_input { path::vitals_selector(&p) } else { None };
    v.inp.inp.add(EventEntry { interaction_id, name, start_time, duration, processing_start, processing_end, target, first_input });
}

/// Reports INP as it is now; `count` is `performance.interactionCount`.
pub fn report(v: &mut Vitals, rt: &mut Runtime, count: f64) {
    let count = if count > 0.0 { count as u64 } else { 0 };
    let Some(i) = v.inp.inp.estimate(count) else { return };
    let latency = i.latency;
    let a = i.attribution();
    let mut attrs = Attrs::default();
    if let Some(t) = a.target {
        attrs.put("waggle.web_vital.inp.target", t);
    }
    attrs.put("waggle.web_vital.inp.event_type", a.event_type);
    attrs.put("waggle.web_vital.inp.input_delay", a.input_delay);
    attrs.put("waggle.web_vital.inp.processing_duration", a.processing_duration);
    attrs.put("waggle.web_vital.inp.presentation_delay", a.presentation_delay);
    if let Some(s) = rt.frames.longest_script(a.interaction_time, a.interaction_time + latency) {
        s.put(&mut attrs);
    }
    v.emit(rt, Report { vital: Vital::Inp, value: latency, start_ms: a.interaction_time, end_ms: a.interaction_time + latency, attrs });
}
