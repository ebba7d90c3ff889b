//! Web vitals as the `web-vitals` library defines them: ratings against
//! web.dev's thresholds, CLS session windows, the INP estimate over the
//! slowest interactions, and the CSS selectors that name the elements
//! responsible.
//!
//! The browser shell feeds Performance entries in, already reduced to plain
//! numbers and strings, and decides when a value is final; everything that
//! computes a number lives here so it is tested natively.

use alloc::string::String;

mod cls;
mod inp;
pub mod view;

pub use cls::{Cls, LayoutShift, ShiftWindow, CLS_GAP_MS, CLS_WINDOW_MS};
pub use inp::{EventEntry, Inp, InpAttribution, Interaction, MAX_ENTRIES_PER_INTERACTION, MAX_INTERACTIONS};

/// One of the five vitals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vital {
    /// Largest Contentful Paint, ms.
    Lcp,
    /// Cumulative Layout Shift, unitless.
    Cls,
    /// Interaction to Next Paint, ms.
    Inp,
    /// First Contentful Paint, ms.
    Fcp,
    /// Time to First Byte, ms.
    Ttfb,
}

/// How a value compares with web.dev's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rating {
    /// At or under the "good" threshold.
    Good,
    /// Between the two thresholds.
    NeedsImprovement,
    /// Over the "poor" threshold.
    Poor,
}

impl Rating {
    /// The spelling `web-vitals` and the semantic conventions use.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{Rating, Vital};
    /// assert_eq!(Vital::Inp.rating(350.0).as_str(), "needs-improvement");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::NeedsImprovement => "needs-improvement",
            Rating::Poor => "poor",
        }
    }
}

impl Vital {
    /// Every vital, in the order they usually become final.
    pub const ALL: [Vital; 5] = [Vital::Ttfb, Vital::Fcp, Vital::Lcp, Vital::Cls, Vital::Inp];

    /// The semantic conventions' name: `lcp`, `cls`, `inp`, `fcp`, `ttfb`.
    ///
    /// ```
    /// assert_eq!(waggle_rum::core::vitals::Vital::Ttfb.name(), "ttfb");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Vital::Lcp => "lcp",
            Vital::Cls => "cls",
            Vital::Inp => "inp",
            Vital::Fcp => "fcp",
            Vital::Ttfb => "ttfb",
        }
    }

    /// The span name: the acronym, as dashboards built for Honeycomb's web
    /// SDK (and web-vitals' own `name`) spell it.
    pub fn span_name(self) -> &'static str {
        match self {
            Vital::Lcp => "LCP",
            Vital::Cls => "CLS",
            Vital::Inp => "INP",
            Vital::Fcp => "FCP",
            Vital::Ttfb => "TTFB",
        }
    }

    /// web.dev's (good, poor) thresholds: good up to and including the
    /// first, poor above the second.
    pub fn thresholds(self) -> (f64, f64) {
        match self {
            Vital::Lcp => (2500.0, 4000.0),
            Vital::Cls => (0.1, 0.25),
            Vital::Inp => (200.0, 500.0),
            Vital::Fcp => (1800.0, 3000.0),
            Vital::Ttfb => (800.0, 1800.0),
        }
    }

    /// Rates `value`.
    ///
    /// ```
    /// use waggle_rum::core::vitals::{Rating, Vital};
    /// assert_eq!(Vital::Lcp.rating(2500.0), Rating::Good);
    /// assert_eq!(Vital::Lcp.rating(2500.1), Rating::NeedsImprovement);
    /// assert_eq!(Vital::Cls.rating(0.26), Rating::Poor);
    /// ```
    pub fn rating(self, value: f64) -> Rating {
        let (good, poor) = self.thresholds();
        if value > poor {
            Rating::Poor
        } else if value > good {
            Rating::NeedsImprovement
        } else {
            Rating::Good
        }
    }
}

/// A time measured from navigation start as `web-vitals` measures it: from
/// `activationStart` for a prerendered page, never negative.
///
/// ```
/// use waggle_rum::core::vitals::since_activation;
/// assert_eq!(since_activation(120.5, 0.0), 120.5);
/// assert_eq!(since_activation(80.0, 100.0), 0.0);
/// ```
pub fn since_activation(time: f64, activation_start: f64) -> f64 {
    (time - activation_start).max(0.0)
}

/// `navigation_type` as `web-vitals` reports it, from the navigation
/// entry's `type` and how the page came to be shown.
///
/// ```
/// use waggle_rum::core::vitals::navigation_type;
/// assert_eq!(navigation_type(Some("back_forward"), false, false), "back-forward");
/// assert_eq!(navigation_type(Some("navigate"), true, false), "prerender");
/// ```
pub fn navigation_type(entry_type: Option<&str>, prerendered: bool, was_discarded: bool) -> &'static str {
    if prerendered {
        "prerender"
    } else if was_discarded {
        "restore"
    } else {
        match entry_type {
            Some("reload") => "reload",
            Some("back_forward") => "back-forward",
            Some("prerender") => "prerender",
            _ => "navigate",
        }
    }
}

/// One step of an element's path up the DOM, as the shell read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SelectorPart<'a> {
    /// Lower-case tag name for elements; `TEXT` and the like for other nodes.
    pub name: &'a str,
    /// The `id` attribute, empty if none.
    pub id: &'a str,
    /// The `class` attribute as written, empty if none.
    pub classes: &'a str,
}

/// The selector `web-vitals` reports for an element: `#id`, or
/// `tag.class1.class2`, joined by `>` up to the first ancestor with an id,
/// keeping whole parts within `max_len` characters.
///
/// `parts` starts at the element and walks up.
///
/// ```
/// use waggle_rum::core::vitals::{selector, SelectorPart};
/// let parts = [
///     SelectorPart { name: "img", id: "", classes: " hero  big " },
///     SelectorPart { name: "div", id: "main", classes: "x" },
///     SelectorPart { name: "body", id: "", classes: "" },
/// ];
/// assert_eq!(selector(&parts, 100), "#main>img.hero.big");
/// ```
pub fn selector(parts: &[SelectorPart<'_>], max_len: usize) -> String {
    let mut sel = String::new();
    for p in parts {
        let part = if !p.id.is_empty() {
            String::from("#") + p.id
        } else {
            let mut s = String::from(p.name);
            for c in p.classes.split_ascii_whitespace() {
                s.push('.');
                s.push_str(c);
            }
            s
        };
        // Measured in bytes: ids and classes are ASCII in practice, and a
        // selector a few characters shorter than the limit is harmless.
        if sel.len() + part.len() > max_len.saturating_sub(1) {
            if sel.is_empty() {
                return String::from(crate::core::span::truncate_chars(&part, max_len));
            }
            return sel;
        }
        sel = if sel.is_empty() {
            part
        } else {
            let mut joined = part;
            joined.push('>');
            joined.push_str(&sel);
            joined
        };
        if !p.id.is_empty() {
            break;
        }
    }
    sel
}

/// ```
/// use waggle_rum::core::vitals::Reporter;
/// let mut r = Reporter::default();
/// assert_eq!(r.report(0.0), Some(0.0));    // the first report always goes
/// assert_eq!(r.report(0.0), None);         // unchanged
/// assert_eq!(r.report(0.25), Some(0.25));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Reporter {
    last: Option<f64>,
}

impl Reporter {
    /// The delta to report for `value`, or `None` if nothing changed.
    pub fn report(&mut self, value: f64) -> Option<f64> {
        // NaN and the -1 of "no value yet" are never reported.
        if value.is_nan() || value < 0.0 {
            return None;
        }
        let delta = value - self.last.unwrap_or(0.0);
        if self.last.is_some() && delta == 0.0 {
            return None;
        }
        self.last = Some(value);
        Some(delta)
    }

    /// Whether the vital was reported at least once.
    pub fn reported(&self) -> bool {
        self.last.is_some()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_at_every_threshold() {
        let cases = [
            (Vital::Lcp, 2500.0, 4000.0),
            (Vital::Fcp, 1800.0, 3000.0),
            (Vital::Cls, 0.1, 0.25),
            (Vital::Inp, 200.0, 500.0),
            (Vital::Ttfb, 800.0, 1800.0),
        ];
        for (v, good, poor) in cases {
            assert_eq!(v.rating(0.0), Rating::Good);
            assert_eq!(v.rating(good), Rating::Good, "{v:?}");
            assert_eq!(v.rating(good * 1.0001), Rating::NeedsImprovement, "{v:?}");
            assert_eq!(v.rating(poor), Rating::NeedsImprovement, "{v:?}");
            assert_eq!(v.rating(poor * 1.0001), Rating::Poor, "{v:?}");
        }
        assert_eq!(Rating::NeedsImprovement.as_str(), "needs-improvement");
    }

    #[test]
    fn selectors_follow_web_vitals() {
        let p = |name, id, classes| SelectorPart { name, id, classes };
        assert_eq!(selector(&[p("h1", "hero", "big")], 100), "#hero");
        assert_eq!(selector(&[p("p", "", ""), p("div", "", "a  b"), p("body", "", ""), p("html", "", "")], 100), "html>body>div.a.b>p");
        // Parts that do not fit are left off, whole.
        let long = "c".repeat(60);
        assert_eq!(selector(&[p("p", "", ""), p("div", "", &long), p("body", "", "")], 40), "p");
        // A single part longer than the limit is cut to it.
        assert_eq!(selector(&[p("p", "", &long)], 10).chars().count(), 10);
        assert_eq!(selector(&[p("TEXT", "", ""), p("span", "x", "")], 100), "#x>TEXT");
        assert_eq!(selector(&[], 100), "");
    }

    #[test]
    fn reporter_reports_first_value_and_changes_only() {
        let mut r = Reporter::default();
        assert!(!r.reported());
        assert_eq!(r.report(-1.0), None, "no value yet");
        assert_eq!(r.report(f64::NAN), None);
        assert_eq!(r.report(120.0), Some(120.0));
        assert!(r.reported());
        assert_eq!(r.report(120.0), None);
        assert_eq!(r.report(200.0), Some(80.0));
    }

    #[test]
    fn navigation_types() {
        assert_eq!(navigation_type(Some("navigate"), false, false), "navigate");
        assert_eq!(navigation_type(Some("reload"), false, false), "reload");
        assert_eq!(navigation_type(Some("back_forward"), false, true), "restore");
        assert_eq!(navigation_type(None, false, false), "navigate");
        assert_eq!(since_activation(5.0, 0.0), 5.0);
    }
}
