//! Sessions: one id across reloads and tabs, renewed after inactivity or
//! a maximum lifetime.
//!
//! The state is kept as a short string (in `localStorage` by the shell) so
//! every tab of the origin reads and extends the same session.

use alloc::string::String;
use alloc::vec::Vec;

use super::num::{bytes_to_string, parse_u64, push_u64};
use super::sampling::ratio_keeps;

/// Where the session is kept, in `localStorage` (or `sessionStorage`
/// when it is kept per tab).
pub const STORAGE_KEY: &str = "waggle.session";

/// A session as stored.
///
/// ```
/// use waggle_rum::core::session::Session;
/// let s = Session { id: "a".repeat(32), started_ms: 1000.0, last_active_ms: 2000.0 };
/// assert_eq!(Session::parse(&s.serialize()), Some(s));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// 32 lowercase hex characters.
    pub id: String,
    /// When it began, epoch ms.
    pub started_ms: f64,
    /// Last user activity, epoch ms.
    pub last_active_ms: f64,
}

/// Session lifetime bounds, in ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SessionLimits {
    /// Inactivity after which a session ends.
    pub inactivity_ms: f64,
    /// Lifetime after which a session ends.
    pub max_ms: f64,
}

/// What [`resolve`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The session in force.
    pub session: Session,
    /// The session it replaced, when it renewed an expired one.
    pub previous_id: Option<String>,
    /// Whether it began just now.
    pub is_new: bool,
}

impl Session {
    /// `id|started|last_active`.
    pub fn serialize(&self) -> String {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(self.id.as_bytes());
        out.push(b'|');
        push_u64(&mut out, self.started_ms as u64);
        out.push(b'|');
        push_u64(&mut out, self.last_active_ms as u64);
        bytes_to_string(out)
    }

    /// Reads what [`Session::serialize`] wrote; `None` for anything else
    /// (another script's value, a truncated write).
    pub fn parse(s: &str) -> Option<Session> {
        let mut parts = s.split('|');
        let id = parts.next()?;
        let started_ms: f64 = parse_u64(parts.next()?)? as f64;
        let last_active_ms: f64 = parse_u64(parts.next()?)? as f64;
        if parts.next().is_some() || id.len() != 32 || !id.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            return None;
        }
        Some(Session { id: String::from(id), started_ms, last_active_ms })
    }

    /// Whether the session still holds at `now_ms`.
    pub fn alive(&self, now_ms: f64, limits: &SessionLimits) -> bool {
        now_ms - self.last_active_ms < limits.inactivity_ms
            && now_ms - self.started_ms < limits.max_ms
            && now_ms + 60_000.0 >= self.started_ms
    }

    /// Whether a session-sampled agent keeps this session's telemetry.
    pub fn sampled(&self, ratio: f64) -> bool {
        let mut bytes = [0u8; 16];
        super::ids::read_hex(self.id.as_bytes(), &mut bytes);
        ratio_keeps(ratio, &bytes)
    }
}

/// Continues the stored session if it is alive (marking activity when
/// `active`), or starts a new one with `new_id`.
///
/// ```
/// use waggle_rum::core::session::{resolve, SessionLimits};
/// let limits = SessionLimits { inactivity_ms: 15.0 * 60e3, max_ms: 4.0 * 3600e3 };
/// let first = resolve(None, 0.0, &limits, true, || "0".repeat(31) + "1");
/// assert!(first.is_new);
/// let later = resolve(Some(&first.session.serialize()), 60e3, &limits, true, || unreachable!());
/// assert_eq!(later.session.id, first.session.id);
/// ```
pub fn resolve(stored: Option<&str>, now_ms: f64, limits: &SessionLimits, active: bool, new_id: impl FnOnce() -> String) -> Resolved {
    let old = stored.and_then(Session::parse);
    match old {
        Some(mut s) if s.alive(now_ms, limits) => {
            if active {
                s.last_active_ms = s.last_active_ms.max(now_ms);
            }
            Resolved { session: s, previous_id: None, is_new: false }
        }
        old => Resolved {
            session: Session { id: new_id(), started_ms: now_ms, last_active_ms: now_ms },
            previous_id: old.map(|s| s.id),
            is_new: true,
        },
    }
}

/// 16 bytes as 32 lowercase hex characters.
pub fn hex_id(bytes: [u8; 16]) -> String {
    super::ids::hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SessionLimits = SessionLimits { inactivity_ms: 15.0 * 60_000.0, max_ms: 240.0 * 60_000.0 };

    fn id(n: u8) -> String {
        hex_id([n; 16])
    }

    #[test]
    fn continues_within_limits_and_extends_on_activity() {
        let first = resolve(None, 1_000_000.0, &LIMITS, true, || id(1));
        assert!(first.is_new && first.previous_id.is_none());
        let stored = first.session.serialize();
        let r = resolve(Some(&stored), 1_000_000.0 + 14.0 * 60_000.0, &LIMITS, true, || id(2));
        assert!(!r.is_new);
        assert_eq!(r.session.id, id(1));
        assert_eq!(r.session.last_active_ms, 1_000_000.0 + 14.0 * 60_000.0);
        // Passive reads don't extend it.
        let r2 = resolve(Some(&stored), 1_000_000.0 + 60_000.0, &LIMITS, false, || id(2));
        assert_eq!(r2.session.last_active_ms, 1_000_000.0);
    }

    #[test]
    fn renews_after_inactivity_with_previous_id() {
        let s = Session { id: id(1), started_ms: 0.0, last_active_ms: 0.0 };
        let r = resolve(Some(&s.serialize()), 15.0 * 60_000.0, &LIMITS, true, || id(2));
        assert!(r.is_new);
        assert_eq!(r.session.id, id(2));
        assert_eq!(r.previous_id, Some(id(1)));
    }

    #[test]
    fn renews_after_max_lifetime_even_when_active() {
        let s = Session { id: id(1), started_ms: 0.0, last_active_ms: 240.0 * 60_000.0 - 1.0 };
        let r = resolve(Some(&s.serialize()), 240.0 * 60_000.0, &LIMITS, true, || id(3));
        assert_eq!((r.session.id, r.previous_id), (id(3), Some(id(1))));
    }

    #[test]
    fn garbage_in_storage_starts_a_new_session() {
        for bad in ["", "x|1|2", &format!("{}|1", id(1)), &format!("{}|a|2", id(1)), &format!("{}|1|2|3", id(1)), &format!("{}|1|2", "Z".repeat(32))] {
            let r = resolve(Some(bad), 10.0, &LIMITS, true, || id(4));
            assert!(r.is_new && r.previous_id.is_none(), "{bad}");
        }
    }

    #[test]
    fn a_session_from_the_future_is_not_trusted() {
        let s = Session { id: id(1), started_ms: 10_000_000.0, last_active_ms: 10_000_000.0 };
        assert!(resolve(Some(&s.serialize()), 0.0, &LIMITS, true, || id(2)).is_new);
    }

    #[test]
    fn session_sampling_is_stable_per_id() {
        let s = Session { id: id(0xff), started_ms: 0.0, last_active_ms: 0.0 };
        assert!(!s.sampled(0.5));
        let s = Session { id: id(0x01), started_ms: 0.0, last_active_ms: 0.0 };
        assert!(s.sampled(0.5));
        assert!(s.sampled(1.0));
    }
}
