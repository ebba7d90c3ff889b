//! Limits on what one span may carry.

use opentelemetry::{Array, StringValue, Value};

/// Bounds on attributes, events and links per span.
///
/// ```
/// use waggle_rum::core::limits::SpanLimits;
/// let limits = SpanLimits { max_attribute_length: 4, ..SpanLimits::default() };
/// assert_eq!(limits.truncate("héllo".into()).as_str(), "héll");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SpanLimits {
    /// Attributes per span (and per event); more are dropped and counted.
    pub max_attributes: usize,
    /// Characters per string attribute value; longer values are truncated.
    pub max_attribute_length: usize,
    /// Events per span.
    pub max_events: usize,
    /// Links per span.
    pub max_links: usize,
}

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits { max_attributes: 128, max_attribute_length: 4096, max_events: 128, max_links: 128 }
    }
}

impl SpanLimits {
    /// Truncates string values (also inside string arrays) to the length
    /// limit, on a character boundary.
    pub fn truncate(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.truncate_str(s)),
            Value::Array(Array::String(items)) => {
                Value::Array(Array::String(items.into_iter().map(|s| self.truncate_str(s)).collect()))
            }
            other => other,
        }
    }

    fn truncate_str(&self, s: StringValue) -> StringValue {
        let text = s.as_str();
        match text.char_indices().nth(self.max_attribute_length) {
            Some((cut, _)) => StringValue::from(text[..cut].to_owned()),
            None => s,
        }
    }
}

/// Truncates a string to at most `max` characters.
pub fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundary_and_inside_arrays() {
        let limits = SpanLimits { max_attribute_length: 3, ..SpanLimits::default() };
        assert_eq!(limits.truncate("ab€cd".into()).as_str(), "ab€");
        assert_eq!(limits.truncate("ab".into()).as_str(), "ab");
        let arr = Value::Array(Array::String(vec!["abcdef".into(), "x".into()]));
        assert_eq!(limits.truncate(arr), Value::Array(Array::String(vec!["abc".into(), "x".into()])));
        assert_eq!(limits.truncate(Value::I64(123456)), Value::I64(123456));
    }
}
