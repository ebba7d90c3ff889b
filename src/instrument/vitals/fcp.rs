//! First Contentful Paint: navigation start to the `paint` entry named
//! `first-contentful-paint`, reported as soon as it comes, once per page
//! view. The page sends `paint` entries as `[ENTRY, 3, name, startTime]`.

use crate::core::vitals::{since_activation, Vital};
use crate::platform::wire::Rec;
use crate::runtime::{once, Runtime};

use super::{Report, Vitals};

/// A `paint` entry.
pub fn entry(v: &mut Vitals, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    let name = r.str();
    let start = r.num();
    if name != "first-contentful-paint" || start >= v.first_hidden || rt.sent & once::FCP != 0 {
        return;
    }
    rt.sent |= once::FCP;
    let a = v.activation;
    let value = since_activation(start, a);
    v.emit(rt, Report { vital: Vital::Fcp, value, start_ms: a, end_ms: a + value, attrs: crate::core::span::Attrs::default() });
}
