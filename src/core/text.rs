//! Small string searches without `core::str::pattern`'s two-way searcher,
//! which costs the shipped module more than these strings ever need.

/// The byte index of the first `needle` in `hay`.
///
/// ```
/// use waggle_rum::core::text::find;
/// assert_eq!(find("a: b: c", ": "), Some(1));
/// assert_eq!(find("abc", ""), Some(0));
/// assert_eq!(find("abc", "x"), None);
/// ```
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| &h[i..i + n.len()] == n)
}

/// `hay` split around the first `needle`.
///
/// ```
/// assert_eq!(waggle_rum::core::text::split_once("k=v=w", "="), Some(("k", "v=w")));
/// ```
pub fn split_once<'a>(hay: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find(hay, needle)?;
    Some((&hay[..i], &hay[i + needle.len()..]))
}

/// Whether `hay` contains `needle`.
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}
