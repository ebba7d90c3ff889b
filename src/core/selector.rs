//! CSS selectors that name the element a user interacted with.
//!
//! A selector is built from the element up: an `id` that is unique in the
//! document ends the walk (`#checkout > button`), otherwise each step is the
//! tag, with `:nth-of-type(n)` when its parent has more than one child of
//! that tag. Class names are left out on purpose: they change with styling
//! and are often generated, which would split one button into many.

use alloc::string::String;
use alloc::vec::Vec;

/// Longest selector recorded, in bytes; deeper paths keep the steps
/// nearest the element.
pub const MAX_SELECTOR_LEN: usize = 200;

/// Most steps walked up from the element.
pub const MAX_SELECTOR_DEPTH: usize = 12;

/// One element on the path from the target up to `body`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// `localName`: lower case for HTML elements.
    pub tag: String,
    /// The element's `id` when it is the only element with that id.
    pub unique_id: Option<String>,
    /// 1-based position among the parent's children with the same tag.
    pub nth_of_type: u32,
    /// How many of the parent's children have this tag.
    pub of_type: u32,
}

/// Joins `steps` (the target first, then its ancestors) into a selector,
/// stopping at the first unique id and at [`MAX_SELECTOR_LEN`].
///
/// ```
/// use waggle_rum::core::selector::{css_selector, Step};
/// let steps = [
///     Step { tag: "button".into(), unique_id: None, nth_of_type: 2, of_type: 2 },
///     Step { tag: "li".into(), unique_id: None, nth_of_type: 1, of_type: 1 },
///     Step { tag: "ul".into(), unique_id: Some("menu".into()), nth_of_type: 1, of_type: 3 },
/// ];
/// assert_eq!(css_selector(&steps), "#menu > li > button:nth-of-type(2)");
/// ```
pub fn css_selector(steps: &[Step]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut len = 0;
    for step in steps.iter().take(MAX_SELECTOR_DEPTH) {
        let part = match &step.unique_id {
            Some(id) => String::from("#") + &css_escape(id),
            None if step.of_type > 1 => {
                let mut p = css_escape(&step.tag);
                p.push_str(":nth-of-type(");
                p.push_str(&super::num::u64_str(u64::from(step.nth_of_type)));
                p.push(')');
                p
            }
            None => css_escape(&step.tag),
        };
        let sep = if parts.is_empty() { 0 } else { 3 };
        if len + sep + part.len() > MAX_SELECTOR_LEN {
            break;
        }
        len += sep + part.len();
        parts.push(part);
        if step.unique_id.is_some() {
            break;
        }
    }
    let mut out = String::with_capacity(len);
    for part in parts.iter().rev() {
        if !out.is_empty() {
            out.push_str(" > ");
        }
        out.push_str(part);
    }
    out
}

/// Escapes an identifier as `CSS.escape` does, so any id makes a valid
/// selector.
///
/// ```
/// use waggle_rum::core::selector::css_escape;
/// assert_eq!(css_escape("main"), "main");
/// assert_eq!(css_escape("1st"), "\\31 st");
/// assert_eq!(css_escape("a.b:c"), "a\\.b\\:c");
/// ```
pub fn css_escape(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len());
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let code = c as u32;
        if c == '\0' {
            out.push('\u{FFFD}');
        } else if (1..=0x1f).contains(&code)
            || code == 0x7f
            || (i == 0 && c.is_ascii_digit())
            || (i == 1 && c.is_ascii_digit() && chars[0] == '-')
        {
            out.push('\\');
            let mut h = alloc::vec::Vec::new();
            super::ids::push_hex(&mut h, &[code as u8]);
            out.push_str(super::num::bytes_to_string(h).trim_start_matches('0'));
            out.push(' ');
        } else if i == 0 && c == '-' && chars.len() == 1 {
            out.push_str("\\-");
        } else if code >= 0x80 || c == '-' || c == '_' || c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(tag: &str, nth: u32, of: u32) -> Step {
        Step { tag: tag.into(), unique_id: None, nth_of_type: nth, of_type: of }
    }

    #[test]
    fn path_to_body_without_ids() {
        let steps = [step("a", 1, 1), step("li", 3, 4), step("ul", 1, 1), step("body", 1, 1)];
        assert_eq!(css_selector(&steps), "body > ul > li:nth-of-type(3) > a");
    }

    #[test]
    fn own_unique_id_is_the_whole_selector() {
        let steps = [Step { tag: "button".into(), unique_id: Some("buy".into()), nth_of_type: 4, of_type: 9 }, step("body", 1, 1)];
        assert_eq!(css_selector(&steps), "#buy");
    }

    #[test]
    fn odd_ids_are_escaped() {
        let steps = [Step { tag: "div".into(), unique_id: Some("react:r1:".into()), ..Default::default() }];
        assert_eq!(css_selector(&steps), "#react\\:r1\\:");
        assert_eq!(css_escape("-"), "\\-");
        assert_eq!(css_escape("-2x"), "-\\32 x");
        assert_eq!(css_escape("a b"), "a\\ b");
        assert_eq!(css_escape("é"), "é");
        assert_eq!(css_escape("a\u{1}"), "a\\1 ");
        assert_eq!(css_escape("x\0"), "x\u{FFFD}");
    }

    #[test]
    fn depth_and_length_are_bounded_keeping_the_target_end() {
        let deep: Vec<Step> = (0..40).map(|_| step("div", 1, 1)).collect();
        let sel = css_selector(&deep);
        assert_eq!(sel.matches("div").count(), MAX_SELECTOR_DEPTH);

        let wide: Vec<Step> = (0..40).map(|_| step("div", 2, 3)).collect();
        let sel = css_selector(&wide);
        assert!(sel.len() <= MAX_SELECTOR_LEN);
        assert_eq!(sel.matches("div:nth-of-type(2)").count(), 9);

        let long_tag = "x".repeat(90);
        let steps: Vec<Step> = (0..5).map(|_| step(&long_tag, 1, 1)).collect();
        let sel = css_selector(&steps);
        assert!(sel.len() <= MAX_SELECTOR_LEN);
        assert_eq!(sel, format!("{long_tag} > {long_tag}"));

        let huge = [step(&"y".repeat(500), 1, 1)];
        assert_eq!(css_selector(&huge), "");
    }
}
