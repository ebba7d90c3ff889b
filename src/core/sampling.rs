//! Head sampling: a ratio of new traces, parent-based for continued ones.

/// Whether the last eight bytes of `id` (big-endian, shifted right by one)
/// fall under `ratio` of the 63-bit range: OpenTelemetry's
/// `TraceIdRatioBased` test, so any component can repeat the decision.
///
/// A trace that continues a parent (a server's `<meta name="traceparent">`)
/// follows the parent's sampled flag instead, so browser and backend agree.
///
/// ```
/// use waggle_rum::core::sampling::ratio_keeps;
/// assert!(ratio_keeps(1.0, &[0xff; 16]));
/// assert!(!ratio_keeps(0.0, &[0; 16]));
/// assert!(ratio_keeps(0.5, &[0; 16]));
/// assert!(!ratio_keeps(0.5, &[0xff; 16]));
/// ```
pub fn ratio_keeps(ratio: f64, id: &[u8; 16]) -> bool {
    if ratio >= 1.0 || ratio.is_nan() {
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
}
