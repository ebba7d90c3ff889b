//! What many spans share: the session, page, user and global attributes in
//! force when each ended.
//!
//! Rather than copy these onto every span, each distinct set gets an id; a
//! span records the id, and an export request carries each set once, as
//! the resource attributes of the spans that share it. Backends that
//! flatten resource attributes onto spans (Honeycomb does) show them on
//! every span as before, and a request with thousands of spans carries
//! `session.id` and `page.url` a handful of times instead of thousands.

use std::collections::VecDeque;

use opentelemetry::KeyValue;

/// How many sets are remembered: far more than a page goes through
/// between two exports (a set changes on a route change, a session
/// renewal, `setUser` or `setGlobalAttributes`).
const KEPT: usize = 64;

/// The context sets, newest last, each under its id.
///
/// ```
/// use opentelemetry::KeyValue;
/// use waggle_rum::core::context::Contexts;
/// let mut c = Contexts::default();
/// let a = c.update(vec![KeyValue::new("page.route", "/")]);
/// assert_eq!(c.update(vec![KeyValue::new("page.route", "/")]), a);
/// let b = c.update(vec![KeyValue::new("page.route", "/cart")]);
/// assert_ne!(a, b);
/// assert_eq!(c.get(a)[0].value.as_str(), "/");
/// assert_eq!(c.current(), b);
/// ```
#[derive(Debug, Default)]
pub struct Contexts {
    sets: VecDeque<(u32, Vec<KeyValue>)>,
    next: u32,
}

impl Contexts {
    /// Makes `attrs` the current set, reusing the current id when nothing
    /// changed, and returns the current id.
    pub fn update(&mut self, attrs: Vec<KeyValue>) -> u32 {
        if let Some((id, last)) = self.sets.back() {
            if *last == attrs {
                return *id;
            }
        }
        self.next = self.next.wrapping_add(1);
        if self.sets.len() >= KEPT {
            self.sets.pop_front();
        }
        self.sets.push_back((self.next, attrs));
        self.next
    }

    /// The current set's id (0 before any).
    pub fn current(&self) -> u32 {
        self.sets.back().map_or(0, |(id, _)| *id)
    }

    /// The set under `id`; a set too old to be kept falls back to the
    /// oldest kept, the nearest in time; an unknown id gets none.
    pub fn get(&self, id: u32) -> &[KeyValue] {
        match self.sets.iter().find(|(i, _)| *i == id) {
            Some((_, attrs)) => attrs,
            None if id != 0 && id < self.sets.front().map_or(0, |(i, _)| *i) => &self.sets[0].1,
            None => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_sets_fall_back_to_the_oldest_kept() {
        let mut c = Contexts::default();
        let first = c.update(vec![KeyValue::new("n", 0i64)]);
        for n in 1..=100i64 {
            c.update(vec![KeyValue::new("n", n)]);
        }
        assert_eq!(c.get(first)[0].value, opentelemetry::Value::I64(37));
        assert!(c.get(0).is_empty());
        assert!(c.get(10_000).is_empty());
    }
}
