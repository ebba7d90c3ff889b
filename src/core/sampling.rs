//! Head sampling: a ratio of new traces, parent-based for continued ones.

use opentelemetry::trace::{TraceFlags, TraceId};

/// Decides whether a new trace is recorded.
///
/// A trace that continues a parent (a server's `<meta name="traceparent">`)
/// follows the parent's sampled flag so browser and backend agree; a new one
/// is kept when its trace id falls under the ratio, the same test as
/// OpenTelemetry's `TraceIdRatioBased`, so any component can repeat it.
///
/// ```
/// use waggle_rum::core::sampling::Sampler;
/// use opentelemetry::trace::{TraceFlags, TraceId};
/// let s = Sampler::new(0.0);
/// assert!(!s.sample(None, TraceId::from_bytes([7; 16])));
/// assert!(s.sample(Some(TraceFlags::SAMPLED), TraceId::from_bytes([7; 16])));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampler {
    ratio: f64,
}

impl Sampler {
    /// A sampler keeping `ratio` (clamped to 0..=1) of new traces.
    pub fn new(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() { 1.0 } else { ratio.clamp(0.0, 1.0) };
        Sampler { ratio }
    }

    /// The configured ratio.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether a trace is recorded: parent-based when `parent` is given.
    pub fn sample(&self, parent: Option<TraceFlags>, trace_id: TraceId) -> bool {
        match parent {
            Some(flags) => flags.is_sampled(),
            None => ratio_keeps(self.ratio, &trace_id.to_bytes()),
        }
    }
}

/// Whether the last eight bytes of `id` (big-endian, shifted right by one)
/// fall under `ratio` of the 63-bit range.
pub fn ratio_keeps(ratio: f64, id: &[u8; 16]) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&id[8..]);
    let x = u64::from_be_bytes(low) >> 1;
    let bound = (ratio * (1u64 << 63) as f64) as u64;
    x < bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_keeps_about_the_ratio() {
        let mut state = 0x9E3779B97F4A7C15u64;
        let mut kept = 0;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&state.to_be_bytes());
            if ratio_keeps(0.25, &id) {
                kept += 1;
            }
        }
        assert!((4500..5500).contains(&kept), "{kept}");
    }

    #[test]
    fn parent_decides_when_present() {
        let s = Sampler::new(1.0);
        assert!(!s.sample(Some(TraceFlags::NOT_SAMPLED), TraceId::from_bytes([1; 16])));
        assert!(s.sample(None, TraceId::from_bytes([1; 16])));
        assert_eq!(Sampler::new(f64::NAN).ratio(), 1.0);
        assert_eq!(Sampler::new(7.0).ratio(), 1.0);
    }
}
