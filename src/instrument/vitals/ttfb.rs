//! Time to First Byte: navigation start to the first byte of the
//! document's response (`responseStart`), reported once the page has
//! loaded, once per page view.

use crate::core::vitals::{since_activation, Vital};
use crate::runtime::{once, Runtime};

use super::{Report, Vitals};

/// The navigation entry is complete: `response_start` is its
/// `responseStart`.
pub fn loaded(v: &mut Vitals, rt: &mut Runtime, response_start: f64) {
    if rt.sent & once::TTFB != 0 || response_start <= 0.0 || response_start > rt.io.now {
        return;
    }
    rt.sent |= once::TTFB;
    let a = v.activation;
    let value = since_activation(response_start, a);
    v.emit(rt, Report { vital: Vital::Ttfb, value, start_ms: a, end_ms: a + value, attrs: crate::core::span::Attrs::default() });
}
