//! Which view an entry belongs to. A soft navigation (an SPA route change
//! the browser recognizes) begins a view with vitals of its own; the
//! browser tags each entry with the `navigationId` of the view it happened
//! in, and may report a view's first paints before the navigation itself.

use alloc::string::String;
use alloc::vec::Vec;

/// Views whose entries arrived before the view did, kept at most.
const EARLY: usize = 4;

/// Whether an entry of view `entry` counts toward view `view` (empty:
/// the page load's view, or a browser that tags nothing, takes all).
///
/// ```
/// use waggle_rum::core::vitals::view::belongs;
/// assert!(belongs("", "7"));     // the page load's view
/// assert!(belongs("9", "9"));
/// assert!(!belongs("9", "7"));   // a late entry of the view before
/// assert!(belongs("9", ""));     // a browser without navigation ids
/// ```
pub fn belongs(view: &str, entry: &str) -> bool {
    view.is_empty() || entry.is_empty() || view == entry
}

/// Values that arrived for views not yet begun, by `navigationId`.
///
/// ```
/// use waggle_rum::core::vitals::view::Early;
/// let mut e = Early::default();
/// e.keep("9", 120.0);
/// e.keep("9", 180.0); // a larger paint of the same view replaces it
/// assert_eq!(e.take("9"), Some(180.0));
/// assert_eq!(e.take("9"), None);
/// ```
#[derive(Debug)]
pub struct Early<T> {
    items: Vec<(String, T)>,
}

impl<T> Default for Early<T> {
    fn default() -> Self {
        Early { items: Vec::new() }
    }
}

impl<T> Early<T> {
    /// Keeps `value` for view `nav`, the latest per view, for the last
    /// few views.
    pub fn keep(&mut self, nav: &str, value: T) {
        self.items.retain(|e| e.0 != nav);
        if self.items.len() >= EARLY {
            self.items.remove(0);
        }
        self.items.push((String::from(nav), value));
    }

    /// Takes what was kept for view `nav`.
    pub fn take(&mut self, nav: &str) -> Option<T> {
        let i = self.items.iter().position(|e| e.0 == nav)?;
        Some(self.items.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_few_views() {
        let mut e = Early::default();
        for (i, nav) in ["1", "2", "3", "4", "5"].iter().enumerate() {
            e.keep(nav, i);
        }
        assert_eq!(e.take("1"), None, "the oldest went");
        assert_eq!(e.take("2"), Some(1));
        assert_eq!(e.take("5"), Some(4));
    }

    #[test]
    fn a_view_keeps_its_latest_value_only() {
        let mut e = Early::default();
        e.keep("1", 'a');
        e.keep("2", 'b');
        e.keep("1", 'c');
        assert_eq!(e.take("1"), Some('c'));
        assert_eq!(e.take("1"), None);
        assert_eq!(e.take("2"), Some('b'));
    }
}
