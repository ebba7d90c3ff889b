//! The span model: what a finished span carries to the exporter.

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceFlags, TraceId};
use opentelemetry::{KeyValue, Value};

use super::limits::SpanLimits;

/// An event inside a span (a Navigation Timing milestone, an exception).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Event name, such as `domInteractive`.
    pub name: String,
    /// Epoch nanoseconds.
    pub time_ns: u64,
    /// Event attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the limits.
    pub dropped_attributes: u32,
}

/// A link to another span, such as the server span named by `Server-Timing`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Linked trace.
    pub trace_id: TraceId,
    /// Linked span.
    pub span_id: SpanId,
    /// The linked span's trace flags.
    pub flags: TraceFlags,
    /// Link attributes.
    pub attributes: Vec<KeyValue>,
}

/// One span, open or finished.
///
/// ```
/// use waggle_rum::core::span::SpanData;
/// use waggle_rum::core::limits::SpanLimits;
/// use opentelemetry::trace::{SpanId, SpanKind, TraceId};
/// let mut span = SpanData::new(
///     "documentLoad", SpanKind::Internal,
///     TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]), None, 1_000,
/// );
/// span.set_attribute(&SpanLimits::default(), "url.full", "https://example.com/".into());
/// span.end_ns = 2_000;
/// assert_eq!(span.attributes.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SpanData {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub span_id: SpanId,
    /// Parent span, if any (it may live in another process).
    pub parent_span_id: Option<SpanId>,
    /// Trace flags (sampled bit).
    pub flags: TraceFlags,
    /// W3C `tracestate` carried from the parent, verbatim.
    pub trace_state: String,
    /// Epoch nanoseconds.
    pub start_ns: u64,
    /// Epoch nanoseconds; 0 while the span is open.
    pub end_ns: u64,
    /// Attributes, in insertion order, keys unique.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the count limit.
    pub dropped_attributes: u32,
    /// Events.
    pub events: Vec<Event>,
    /// Events dropped by the count limit.
    pub dropped_events: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links dropped by the count limit.
    pub dropped_links: u32,
    /// Status.
    pub status: Status,
    /// The shared attributes in force when the span ended: an id in
    /// [`crate::core::context::Contexts`], 0 for none.
    pub context: u32,
}

impl SpanData {
    /// A new open span.
    pub fn new(
        name: impl Into<String>,
        kind: SpanKind,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        start_ns: u64,
    ) -> Self {
        SpanData {
            name: name.into(),
            kind,
            trace_id,
            span_id,
            parent_span_id,
            flags: TraceFlags::SAMPLED,
            trace_state: String::new(),
            start_ns,
            end_ns: 0,
            attributes: Vec::new(),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            links: Vec::new(),
            dropped_links: 0,
            status: Status::Unset,
            context: 0,
        }
    }

    /// Sets an attribute, replacing one of the same key, applying the limits.
    pub fn set_attribute(&mut self, limits: &SpanLimits, key: &str, value: Value) {
        set_attribute(&mut self.attributes, &mut self.dropped_attributes, limits, key, value)
    }

    /// Adds an event, applying the limits.
    pub fn add_event(&mut self, limits: &SpanLimits, name: impl Into<String>, time_ns: u64, attrs: Vec<KeyValue>) {
        if self.events.len() >= limits.max_events {
            self.dropped_events += 1;
            return;
        }
        let mut event = Event { name: name.into(), time_ns, attributes: Vec::new(), dropped_attributes: 0 };
        for kv in attrs {
            set_attribute(&mut event.attributes, &mut event.dropped_attributes, limits, kv.key.as_str(), kv.value);
        }
        self.events.push(event);
    }

    /// Adds a link, applying the limits.
    pub fn add_link(&mut self, limits: &SpanLimits, link: Link) {
        if self.links.len() >= limits.max_links {
            self.dropped_links += 1;
        } else {
            self.links.push(link);
        }
    }

    /// Looks up an attribute's value.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
    }

    /// Sets the end time, never before the start.
    pub fn end(&mut self, end_ns: u64) {
        self.end_ns = end_ns.max(self.start_ns);
    }
}

/// Sets `key` in `attrs`, truncating long strings and counting what the
/// count limit drops.
pub fn set_attribute(attrs: &mut Vec<KeyValue>, dropped: &mut u32, limits: &SpanLimits, key: &str, value: Value) {
    let value = limits.truncate(value);
    if let Some(kv) = attrs.iter_mut().find(|kv| kv.key.as_str() == key) {
        kv.value = value;
        return;
    }
    if attrs.len() >= limits.max_attributes {
        *dropped += 1;
        return;
    }
    attrs.push(KeyValue::new(key.to_owned(), value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> SpanData {
        SpanData::new("s", SpanKind::Internal, TraceId::from_bytes([1; 16]), SpanId::from_bytes([1; 8]), None, 10)
    }

    #[test]
    fn attribute_count_limit_counts_drops_and_replaces_in_place() {
        let limits = SpanLimits { max_attributes: 2, ..SpanLimits::default() };
        let mut s = span();
        s.set_attribute(&limits, "a", 1i64.into());
        s.set_attribute(&limits, "b", 2i64.into());
        s.set_attribute(&limits, "c", 3i64.into());
        s.set_attribute(&limits, "a", 4i64.into());
        assert_eq!(s.attributes.len(), 2);
        assert_eq!(s.dropped_attributes, 1);
        assert_eq!(s.attribute("a"), Some(&Value::I64(4)));
    }

    #[test]
    fn event_and_link_limits() {
        let limits = SpanLimits { max_events: 1, max_links: 0, ..SpanLimits::default() };
        let mut s = span();
        s.add_event(&limits, "e1", 11, vec![]);
        s.add_event(&limits, "e2", 12, vec![]);
        s.add_link(&limits, Link {
            trace_id: TraceId::from_bytes([2; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            flags: TraceFlags::SAMPLED,
            attributes: vec![],
        });
        assert_eq!((s.events.len(), s.dropped_events), (1, 1));
        assert_eq!((s.links.len(), s.dropped_links), (0, 1));
    }

    #[test]
    fn end_never_precedes_start() {
        let mut s = span();
        s.end(5);
        assert_eq!(s.end_ns, 10);
    }
}
