//! Cumulative Layout Shift: the largest session window of layout shifts
//! (`core::vitals::Cls`), reported when the page is hidden. The page
//! sends `[ENTRY, 5, startTime, value, hadRecentInput, sourcePath,
//! navigationId]`, the path of the first source that is an element.
//!
//! Attribution: `waggle.web_vital.cls.largest_shift_target`,
//! `.largest_shift_value`, `.largest_shift_time`.


use crate::core::span::Attrs;
use crate::core::vitals::{since_activation, Cls, LayoutShift, Vital};
use crate::instrument::path;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

use super::{Report, Vitals};

/// CLS so far.
#[derive(Default)]
pub struct ClsState {
    cls: Cls,
}

/// A `layout-shift` entry.
pub fn entry(v: &mut Vitals, r: &mut Rec<'_, '_>) {
    let start_time = r.num();
    let value = r.num();
    let had_recent_input = r.bool();
    let p = path::read(r);
    let target = if had_recent_input { None } else { path::vitals_selector(&p) };
    if !v.mine(r.str()) {
        return;
    }
    v.cls.cls.add(LayoutShift { start_time, value, had_recent_input, target });
}

/// Reports CLS as it is now.
pub fn report(v: &mut Vitals, rt: &mut Runtime) {
    // As web-vitals does: a page hidden before it painted anything has no
    // CLS to speak of.
    if !v.reported(Vital::Fcp) {
        return;
    }
    let value = v.cls.cls.value();
    let now = rt.io.now;
    let (start_ms, end_ms, attrs) = match v.cls.cls.window() {
        Some(w) => {
            let mut attrs = Attrs::default();
            if let Some(t) = &w.largest_shift.target {
                attrs.put("waggle.web_vital.cls.largest_shift_target", t.as_str());
            }
            attrs.put("waggle.web_vital.cls.largest_shift_value", w.largest_shift.value);
            attrs.put("waggle.web_vital.cls.largest_shift_time", since_activation(w.largest_shift.start_time, v.activation));
            (w.first, w.last, attrs)
        }
        // A CLS of 0 has no shift to point at: the moment of the report.
        None => (now, now, Attrs::default()),
    };
    v.emit(rt, Report { vital: Vital::Cls, value, start_ms, end_ms, attrs });
}
