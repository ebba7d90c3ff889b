//! Numbers to text and back, without `core::fmt`.
//!
//! `core::fmt`'s integer and float printing would cost the shipped module
//! tens of kilobytes (float printing alone some 25 KB), and `no_std` has no
//! `f64::floor`: these are the few operations the agent needs, written out.

use alloc::string::String;
use alloc::vec::Vec;

/// Appends `v` in decimal.
///
/// ```
/// let mut s = Vec::new();
/// waggle_rum::core::num::push_u64(&mut s, 1_724_300_000_123_000_000);
/// assert_eq!(s, b"1724300000123000000");
/// ```
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` in decimal, with a minus sign when negative.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// `v` in decimal, as a string.
///
/// ```
/// assert_eq!(waggle_rum::core::num::u64_str(42), "42");
/// ```
pub fn u64_str(v: u64) -> String {
    let mut out = Vec::new();
    push_u64(&mut out, v);
    bytes_to_string(out)
}

/// Text the caller built from valid UTF-8 pieces.
pub fn bytes_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// Appends a finite number as a JSON number: whole numbers below 1e15 in
/// plain digits, others with up to 15 significant digits, in plain form
/// between 1e-5 and 1e15 and in exponent form outside.
///
/// Fifteen digits keep every value a browser measures (times in
/// milliseconds with microsecond precision, CLS scores) exact as printed;
/// non-finite values print as 0.
///
/// ```
/// let f = |v: f64| { let mut s = Vec::new(); waggle_rum::core::num::push_f64(&mut s, v); String::from_utf8(s).unwrap() };
/// assert_eq!(f(0.25), "0.25");
/// assert_eq!(f(1234.5), "1234.5");
/// assert_eq!(f(-3.0), "-3");
/// assert_eq!(f(1e-7), "1e-7");
/// assert_eq!(f(0.1 + 0.2), "0.3");
/// ```
pub fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 || !v.is_finite() {
        out.push(b'0');
        return;
    }
    if v < 0.0 {
        out.push(b'-');
    }
    let a = v.abs();
    if a < 1e15 && a == trunc(a) {
        push_u64(out, a as u64);
        return;
    }
    // Scale to 15 significant digits: a = digits * 10^(exp - 14).
    let mut exp: i32 = 0;
    let mut m = a;
    while m >= 1e15 {
        m /= 10.0;
        exp += 1;
    }
    while m < 1e14 {
        m *= 10.0;
        exp -= 1;
    }
    // Rounding up next to f64::MAX would print a number no parser
    // accepts; truncate there instead.
    let mut digits = if exp >= 294 { m as u64 } else { (m + 0.5) as u64 };
    if digits >= 1_000_000_000_000_000 {
        digits /= 10;
        exp += 1;
    }
    let mut d = Vec::with_capacity(16);
    push_u64(&mut d, digits);
    while d.len() > 1 && d[d.len() - 1] == b'0' {
        d.pop();
    }
    // The value is d[0].d[1..] × 10^e.
    let e = exp + 14;
    if (-5..15).contains(&e) {
        if e < 0 {
            out.extend_from_slice(b"0.");
            for _ in 0..(-e - 1) {
                out.push(b'0');
            }
            out.extend_from_slice(&d);
        } else {
            let int_len = e as usize + 1;
            for i in 0..int_len {
                out.push(*d.get(i).unwrap_or(&b'0'));
            }
            if d.len() > int_len {
                out.push(b'.');
                out.extend_from_slice(&d[int_len..]);
            }
        }
    } else {
        out.push(d[0]);
        if d.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        push_i64(out, i64::from(e));
    }
}

/// Parses a whole decimal number of at most 19 digits, nothing else
/// around it.
///
/// ```
/// use waggle_rum::core::num::parse_u64;
/// assert_eq!(parse_u64("1724300000000"), Some(1_724_300_000_000));
/// assert_eq!(parse_u64(""), None);
/// assert_eq!(parse_u64("1e3"), None);
/// assert_eq!(parse_u64("-1"), None);
/// ```
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

/// `x` with its fraction dropped, for |x| < 2^63 (larger values are
/// already whole and are returned as they are).
///
/// ```
/// use waggle_rum::core::num::trunc;
/// assert_eq!(trunc(-2.7), -2.0);
/// assert_eq!(trunc(1e300), 1e300);
/// ```
pub fn trunc(x: f64) -> f64 {
    if x.abs() < 9.2e18 {
        x as i64 as f64
    } else {
        x
    }
}

/// The largest whole number not above `x`.
///
/// ```
/// assert_eq!(waggle_rum::core::num::floor(-2.5), -3.0);
/// ```
pub fn floor(x: f64) -> f64 {
    let t = trunc(x);
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// The smallest whole number not below `x`.
///
/// ```
/// assert_eq!(waggle_rum::core::num::ceil(2.1), 3.0);
/// ```
pub fn ceil(x: f64) -> f64 {
    let t = trunc(x);
    if t < x {
        t + 1.0
    } else {
        t
    }
}

/// `x` rounded to the nearest whole number, halves away from zero.
///
/// ```
/// use waggle_rum::core::num::round;
/// assert_eq!((round(2.5), round(-2.5), round(2.49)), (3.0, -3.0, 2.0));
/// ```
pub fn round(x: f64) -> f64 {
    if x < 0.0 {
        -floor(-x + 0.5)
    } else {
        floor(x + 0.5)
    }
}

/// Whether `x` is a whole number a JS number holds exactly as an integer.
pub fn is_safe_integer(x: f64) -> bool {
    x.abs() <= 9_007_199_254_740_991.0 && x == trunc(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = Vec::new();
        push_f64(&mut s, v);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn floats_read_back_as_themselves() {
        let mut state = 0x9E3779B97F4A7C15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if !v.is_finite() {
                continue;
            }
            let text = f(v);
            let back: f64 = text.parse().unwrap_or_else(|_| panic!("{v:e} printed as {text}"));
            assert!(back.is_finite(), "{v:e} printed as {text}");
            let rel = ((back - v) / v).abs();
            assert!(v == 0.0 || rel < 1e-14, "{v:e} printed as {text}");
            // serde_json accepts it as a JSON number.
            let n: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(n.is_number(), "{text}");
        }
    }

    #[test]
    fn browser_values_print_exactly() {
        for (v, s) in [
            (0.1, "0.1"),
            (0.05, "0.05"),
            (0.123456, "0.123456"),
            (1250.75, "1250.75"),
            (16.700000000000003, "16.7"),
            (1e15, "1e15"),
            (123456789012345.6, "123456789012346"),
            (1.5e-5, "0.000015"),
            (2.5e-6, "2.5e-6"),
            (f64::MAX, "1.79769313486231e308"),
            (f64::NAN, "0"),
            (-0.0, "0"),
        ] {
            assert_eq!(f(v), s, "{v:e}");
        }
    }

    #[test]
    fn rounding_helpers() {
        for x in [-3.5, -2.0, -0.4, 0.0, 0.4, 0.5, 1.5, 2.999, 1e17] {
            assert_eq!(floor(x), x.floor(), "{x}");
            assert_eq!(ceil(x), x.ceil(), "{x}");
            assert_eq!(round(x), x.round(), "{x}");
            assert_eq!(trunc(x), x.trunc(), "{x}");
        }
        assert!(is_safe_integer(9_007_199_254_740_991.0) && !is_safe_integer(0.5) && !is_safe_integer(1e17));
        assert_eq!(parse_u64("18446744073709551615"), None);
        assert_eq!(parse_u64("9999999999999999999"), Some(9_999_999_999_999_999_999));
    }
}
