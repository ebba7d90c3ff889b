//! What many spans share: the session, page, user and global attributes in
//! force when each ended.
//!
//! Rather than copy these onto every span, each distinct set gets an id; a
//! span records the id, and an export request carries each set once, as
//! the resource attributes of the spans that share it. Backends that
//! flatten resource attributes onto spans (Honeycomb does) show them on
//! every span as before, and a request with thousands of spans carries
//! `session.id` and the page's URL a handful of times instead of thousands.

use alloc::vec::Vec;

use super::span::Attrs;

/// How many sets are remembered: far more than a page goes through
/// between two exports (a set changes on a route change, a session
/// renewal, `setUser` or `setGlobalAttributes`).
const KEPT: usize = 64;

static NONE: Attrs = Attrs::EMPTY;

/// The context sets, newest last, each under its id.
///
/// ```
/// use waggle_rum::core::context::Contexts;
/// use waggle_rum::core::span::Attrs;
/// let at = |route: &str| { let mut a = Attrs::default(); a.put("waggle.page.route", route); a };
/// let mut c = Contexts::default();
/// let a = c.update(at("/"));
/// assert_eq!(c.update(at("/")), a);
/// let b = c.update(at("/cart"));
/// assert_ne!(a, b);
/// assert_eq!(c.get(a), &at("/"));
/// assert_eq!(c.current(), b);
/// ```
#[derive(Debug, Default)]
pub struct Contexts {
    sets: Vec<(u32, Attrs)>,
    next: u32,
}

impl Contexts {
    /// Makes `attrs` the current set, reusing the current id when nothing
    /// changed, and returns the current id.
    pub fn update(&mut self, attrs: Attrs) -> u32 {
        if let Some((id, last)) = self.sets.last() {
            if *last == attrs {
                return *id;
            }
        }
        self.next = self.next.wrapping_add(1).max(1);
        if self.sets.len() >= KEPT {
            self.sets.remove(0);
        }
        self.sets.push((self.next, attrs));
        self.next
    }

    /// The current set's id (0 before any).
    pub fn current(&self) -> u32 {
        self.sets.last().map_or(0, |(id, _)| *id)
    }

    /// The set under `id`; a set too old to be kept falls back to the
    /// oldest kept, the nearest in time; an unknown id gets none.
    pub fn get(&self, id: u32) -> &Attrs {
        match self.sets.iter().find(|(i, _)| *i == id) {
            Some((_, attrs)) => attrs,
            None if id != 0 && id < self.sets.first().map_or(0, |(i, _)| *i) => &self.sets[0].1,
            None => &NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_sets_fall_back_to_the_oldest_kept() {
        let n = |n: i64| {
            let mut a = Attrs::default();
            a.put("n", n);
            a
        };
        let mut c = Contexts::default();
        let first = c.update(n(0));
        for i in 1..=100i64 {
            c.update(n(i));
        }
        assert_eq!(c.get(first), &n(37));
        assert!(c.get(0).is_empty());
        assert!(c.get(10_000).is_empty());
    }
}
