//! The span model: what a finished span carries to the encoder, and the
//! limits it is held to.
//!
//! Attributes, events and links are kept as the OTLP/JSON they will be
//! sent as, written once when they are set: encoding a span is then mostly
//! copying, a span is one allocation per list rather than one per
//! attribute, and its size on the wire is known exactly before it is
//! encoded. Keys are not checked for repeats: the agent sets each once,
//! and the app's spans are given unique keys by the page's side.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::ids::{push_hex, SpanId, TraceId};
use super::num::{push_f64, push_i64, push_u64};

/// A span name: the agent's own are static, the app's are owned.
pub type Key = Cow<'static, str>;

/// Bounds on what one span may carry, as OpenTelemetry's SDKs default
/// them (attribute values cut at 4096 characters rather than unbounded).
pub mod limits {
    /// Attributes per span, event and link; more are dropped and counted.
    pub const ATTRIBUTES: u32 = 128;
    /// Characters per string value; longer values are cut.
    pub const VALUE_CHARS: usize = 4096;
    /// Events per span.
    pub const EVENTS: u32 = 128;
    /// Links per span.
    pub const LINKS: u32 = 128;
}

/// An attribute value OTLP can carry.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `stringValue`.
    Str(String),
    /// `intValue`.
    Int(i64),
    /// `doubleValue`.
    F64(f64),
    /// `boolValue`.
    Bool(bool),
    /// `arrayValue` of primitive values (no nesting).
    Arr(Vec<Value>),
}

impl Value {
    /// A JS number as OTLP wants it: whole numbers a JS number holds
    /// exactly become `intValue`, others `doubleValue`.
    ///
    /// ```
    /// use waggle_rum::core::span::Value;
    /// assert_eq!(Value::number(3.0), Value::Int(3));
    /// assert_eq!(Value::number(0.5), Value::F64(0.5));
    /// ```
    pub fn number(n: f64) -> Value {
        if super::num::is_safe_integer(n) {
            Value::Int(n as i64)
        } else {
            Value::F64(n)
        }
    }
}

/// `text` cut to at most `max` characters.
///
/// ```
/// assert_eq!(waggle_rum::core::span::truncate_chars("héllo", 2), "hé");
/// ```
pub fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// Appends `s` as a JSON string literal.
///
/// ```
/// let mut out = Vec::new();
/// waggle_rum::core::span::json_string(&mut out, "a\"b\n\u{1}é");
/// assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\n\u0001é""#);
/// ```
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        if esc == 0 {
            out.extend_from_slice(b"u00");
            push_hex(out, &[b]);
        } else {
            out.push(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// What can be an attribute's value: written straight into the list's
/// JSON.
pub trait AttrValue {
    /// Appends the OTLP `AnyValue` object.
    fn write(&self, out: &mut Vec<u8>);
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(b"{\"stringValue\":");
    json_string(out, truncate_chars(s, limits::VALUE_CHARS));
    out.push(b'}');
}

fn write_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(b"{\"intValue\":\"");
    push_i64(out, v);
    out.extend_from_slice(b"\"}");
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(b"{\"doubleValue\":");
    // JSON has no NaN or infinities; the protobuf JSON mapping spells
    // them as strings, which the Collector accepts.
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else {
        push_f64(out, v);
    }
    out.push(b'}');
}

impl AttrValue for &str {
    fn write(&self, out: &mut Vec<u8>) {
        write_str(out, self)
    }
}

impl AttrValue for String {
    fn write(&self, out: &mut Vec<u8>) {
        write_str(out, self)
    }
}

impl AttrValue for i64 {
    fn write(&self, out: &mut Vec<u8>) {
        write_int(out, *self)
    }
}

impl AttrValue for f64 {
    fn write(&self, out: &mut Vec<u8>) {
        write_f64(out, *self)
    }
}

impl AttrValue for bool {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"{\"boolValue\":true}" } else { b"{\"boolValue\":false}" });
    }
}

impl AttrValue for &Value {
    fn write(&self, out: &mut Vec<u8>) {
        (*self).write(out)
    }
}

impl AttrValue for Value {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Value::Str(s) => write_str(out, s),
            Value::Int(i) => write_int(out, *i),
            Value::F64(f) => write_f64(out, *f),
            Value::Bool(b) => b.write(out),
            Value::Arr(items) => {
                out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.extend_from_slice(b"]}}");
            }
        }
    }
}

/// An attribute list, kept as its OTLP/JSON (the items, without the
/// brackets), with the count the limit allows and what it dropped.
///
/// ```
/// use waggle_rum::core::span::Attrs;
/// let mut a = Attrs::default();
/// a.put("http.response.status_code", 200i64);
/// a.put("url.full", "https://x.test/");
/// assert_eq!(a.count(), 2);
/// assert!(a.json().starts_with(br#"{"key":"http.response.status_code","value":{"intValue":"200"}}"#));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attrs {
    json: Vec<u8>,
    count: u32,
    dropped: u32,
}

impl Attrs {
    /// An empty list.
    pub const EMPTY: Attrs = Attrs { json: Vec::new(), count: 0, dropped: 0 };

    /// Adds `key` with `value`, unless the list is full (then counted as
    /// dropped). Strings are cut at [`limits::VALUE_CHARS`] characters.
    #[inline]
    pub fn put(&mut self, key: &str, value: impl AttrValue) {
        if self.key(key) {
            value.write(&mut self.json);
            self.json.push(b'}');
        }
    }

    #[inline(never)]
    fn key(&mut self, key: &str) -> bool {
        if self.count >= limits::ATTRIBUTES {
            self.dropped += 1;
            return false;
        }
        if self.count > 0 {
            self.json.push(b',');
        }
        self.count += 1;
        self.json.extend_from_slice(b"{\"key\":");
        json_string(&mut self.json, key);
        self.json.extend_from_slice(b",\"value\":");
        true
    }

    /// Adds every attribute of `other`, under the limits.
    pub fn append(&mut self, other: &Attrs) {
        if other.is_empty() {
            return;
        }
        let room = limits::ATTRIBUTES.saturating_sub(self.count);
        if other.count <= room {
            if self.count > 0 {
                self.json.push(b',');
            }
            self.json.extend_from_slice(&other.json);
            self.count += other.count;
        } else {
            self.dropped += other.count;
        }
        self.dropped += other.dropped;
    }

    /// Whether the list holds an attribute named `key`. (The written
    /// `{"key":"..."` can only be an item's start: inside a string value
    /// its quotes would be escaped.)
    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    /// The JSON of `key`'s value, from its `AnyValue` object to the end of
    /// the list, when the list holds it.
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        let mut needle = Vec::with_capacity(key.len() + 20);
        needle.extend_from_slice(b"{\"key\":");
        json_string(&mut needle, key);
        needle.extend_from_slice(b",\"value\":");
        let at = self.json.windows(needle.len()).position(|w| w == needle)?;
        Some(&self.json[at + needle.len()..])
    }

    /// The items, as JSON without the brackets.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// How many attributes the list holds.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// How many the limit dropped.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// OTLP's span kinds the agent uses.
pub mod kind {
    /// `SPAN_KIND_INTERNAL`.
    pub const INTERNAL: u8 = 1;
    /// `SPAN_KIND_CLIENT`.
    pub const CLIENT: u8 = 3;
}

/// OTLP's status codes.
pub mod status {
    /// Unset.
    pub const UNSET: u8 = 0;
    /// Ok.
    pub const OK: u8 = 1;
    /// Error.
    pub const ERROR: u8 = 2;
}

/// One span.
///
/// ```
/// use waggle_rum::core::ids::{SpanId, TraceId};
/// use waggle_rum::core::span::{kind, Span};
/// let mut span = Span::new("documentLoad", kind::INTERNAL, TraceId([1; 16]), SpanId([2; 8]), None, 1_000);
/// span.set("url.full", "https://example.com/");
/// span.end(2_000);
/// assert_eq!(span.attrs.count(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Name.
    pub name: Key,
    /// OTLP span kind.
    pub kind: u8,
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub span_id: SpanId,
    /// Parent span, if any (it may live in another process).
    pub parent: Option<SpanId>,
    /// W3C trace flags: bit 0 sampled, bit 1 random trace id.
    pub flags: u8,
    /// W3C `tracestate` carried from the parent.
    pub trace_state: String,
    /// Epoch nanoseconds.
    pub start_ns: u64,
    /// Epoch nanoseconds; 0 while open.
    pub end_ns: u64,
    /// Attributes.
    pub attrs: Attrs,
    events: Vec<u8>,
    n_events: u32,
    dropped_events: u32,
    links: Vec<u8>,
    n_links: u32,
    dropped_links: u32,
    /// Status code ([`status`]).
    pub status: u8,
    /// Status message (errors only).
    pub message: String,
    /// The shared attributes in force when the span ended: an id in
    /// [`crate::core::context::Contexts`], 0 for none.
    pub context: u32,
}

impl Span {
    /// A new open span.
    #[inline]
    pub fn new(name: impl Into<Key>, kind: u8, trace_id: TraceId, span_id: SpanId, parent: Option<SpanId>, start_ns: u64) -> Self {
        Span::open(name.into(), kind, trace_id, span_id, parent, start_ns)
    }

    #[inline(never)]
    fn open(name: Key, kind: u8, trace_id: TraceId, span_id: SpanId, parent: Option<SpanId>, start_ns: u64) -> Self {
        Span {
            name,
            kind,
            trace_id,
            span_id,
            parent,
            flags: 1,
            trace_state: String::new(),
            start_ns,
            end_ns: 0,
            attrs: Attrs::default(),
            events: Vec::new(),
            n_events: 0,
            dropped_events: 0,
            links: Vec::new(),
            n_links: 0,
            dropped_links: 0,
            status: status::UNSET,
            message: String::new(),
            context: 0,
        }
    }

    /// Whether the sampled flag is set.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// Sets an attribute under the limits.
    #[inline]
    pub fn set(&mut self, key: &str, value: impl AttrValue) {
        self.attrs.put(key, value);
    }

    /// Adds an event under the limits.
    pub fn event(&mut self, name: &str, time_ns: u64, attrs: &Attrs) {
        if self.n_events >= limits::EVENTS {
            self.dropped_events += 1;
            return;
        }
        let out = &mut self.events;
        if self.n_events > 0 {
            out.push(b',');
        }
        self.n_events += 1;
        out.extend_from_slice(b"{\"timeUnixNano\":\"");
        push_u64(out, time_ns);
        out.extend_from_slice(b"\",\"name\":");
        json_string(out, name);
        list(out, b"attributes", attrs);
        out.push(b'}');
    }

    /// Adds a link to another span under the limits.
    pub fn link(&mut self, trace_id: TraceId, span_id: SpanId, flags: u8, attrs: &Attrs) {
        if self.n_links >= limits::LINKS {
            self.dropped_links += 1;
            return;
        }
        let out = &mut self.links;
        if self.n_links > 0 {
            out.push(b',');
        }
        self.n_links += 1;
        ids(out, &trace_id.0, &span_id.0);
        out.extend_from_slice(b",\"flags\":");
        push_u64(out, u64::from(flags));
        list(out, b"attributes", attrs);
        out.push(b'}');
    }

    /// Whether the span has a link.
    pub fn has_links(&self) -> bool {
        self.n_links > 0
    }

    /// Sets an error status with `message` (cut to the value limit).
    pub fn error(&mut self, message: &str) {
        self.status = status::ERROR;
        self.message = String::from(truncate_chars(message, limits::VALUE_CHARS));
    }

    /// Ends the span, never before it started.
    pub fn end(&mut self, end_ns: u64) {
        self.end_ns = end_ns.max(self.start_ns);
    }

    /// About how many bytes the span takes in a body: exact but for the
    /// numbers' widths.
    pub fn size(&self) -> usize {
        200 + self.name.len() + self.trace_state.len() + self.message.len() + self.attrs.json.len() + self.events.len() + self.links.len()
    }

    /// Appends the span as an OTLP/JSON `Span`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        ids(out, &self.trace_id.0, &self.span_id.0);
        if let Some(p) = &self.parent {
            out.extend_from_slice(b",\"parentSpanId\":\"");
            push_hex(out, &p.0);
            out.push(b'"');
        }
        if !self.trace_state.is_empty() {
            field(out, b"traceState");
            json_string(out, &self.trace_state);
        }
        field(out, b"flags");
        push_u64(out, u64::from(self.flags));
        field(out, b"name");
        json_string(out, &self.name);
        field(out, b"kind");
        push_u64(out, u64::from(self.kind));
        nanos(out, b"startTimeUnixNano", self.start_ns);
        nanos(out, b"endTimeUnixNano", self.end_ns.max(self.start_ns));
        list(out, b"attributes", &self.attrs);
        if self.n_events > 0 {
            raw_list(out, b"events", &self.events);
        }
        count(out, b"droppedEventsCount", self.dropped_events);
        if self.n_links > 0 {
            raw_list(out, b"links", &self.links);
        }
        count(out, b"droppedLinksCount", self.dropped_links);
        field(out, b"status");
        out.push(b'{');
        if !self.message.is_empty() {
            out.extend_from_slice(b"\"message\":");
            json_string(out, &self.message);
            out.push(b',');
        }
        out.extend_from_slice(b"\"code\":");
        push_u64(out, u64::from(self.status));
        out.extend_from_slice(b"}}");
    }
}

fn field(out: &mut Vec<u8>, name: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\":");
}

fn count(out: &mut Vec<u8>, name: &[u8], n: u32) {
    if n > 0 {
        field(out, name);
        push_u64(out, u64::from(n));
    }
}

fn nanos(out: &mut Vec<u8>, name: &[u8], v: u64) {
    field(out, name);
    out.push(b'"');
    push_u64(out, v);
    out.push(b'"');
}

fn ids(out: &mut Vec<u8>, trace: &[u8], span: &[u8]) {
    out.extend_from_slice(b"{\"traceId\":\"");
    push_hex(out, trace);
    out.extend_from_slice(b"\",\"spanId\":\"");
    push_hex(out, span);
    out.push(b'"');
}

fn raw_list(out: &mut Vec<u8>, name: &[u8], items: &[u8]) {
    field(out, name);
    out.push(b'[');
    out.extend_from_slice(items);
    out.push(b']');
}

/// `,"name":[...]` and the dropped count, for a non-empty list.
fn list(out: &mut Vec<u8>, name: &[u8], a: &Attrs) {
    if !a.is_empty() {
        raw_list(out, name, &a.json);
    }
    count(out, b"droppedAttributesCount", a.dropped);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> Span {
        Span::new("s", kind::INTERNAL, TraceId([1; 16]), SpanId([1; 8]), None, 10)
    }

    fn json(s: &Span) -> serde_json::Value {
        let mut out = Vec::new();
        s.encode(&mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn the_attribute_count_limit_counts_what_it_drops() {
        let mut s = span();
        for i in 0..limits::ATTRIBUTES as i64 + 3 {
            s.set(&format!("k{i}"), i);
        }
        let j = json(&s);
        assert_eq!(j["attributes"].as_array().unwrap().len(), limits::ATTRIBUTES as usize);
        assert_eq!(j["droppedAttributesCount"], 3);
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let mut s = span();
        s.set("long", "é".repeat(5000));
        s.set("arr", Value::Arr(vec![Value::Str("x".repeat(5000))]));
        let j = json(&s);
        assert_eq!(j["attributes"][0]["value"]["stringValue"].as_str().unwrap().chars().count(), limits::VALUE_CHARS);
        assert_eq!(j["attributes"][1]["value"]["arrayValue"]["values"][0]["stringValue"].as_str().unwrap().len(), limits::VALUE_CHARS);
    }

    #[test]
    fn event_and_link_limits_and_end() {
        let mut s = span();
        let mut a = Attrs::default();
        a.put("k", "v");
        for _ in 0..limits::EVENTS + 1 {
            s.event("e", 11, &a);
        }
        for _ in 0..limits::LINKS + 2 {
            s.link(TraceId([2; 16]), SpanId([2; 8]), 1, &Attrs::default());
        }
        s.end(5);
        let j = json(&s);
        assert_eq!(j["events"].as_array().unwrap().len(), limits::EVENTS as usize);
        assert_eq!(j["events"][0]["attributes"][0]["value"]["stringValue"], "v");
        assert_eq!((j["droppedEventsCount"].as_u64(), j["droppedLinksCount"].as_u64()), (Some(1), Some(2)));
        assert_eq!(j["endTimeUnixNano"], "10");
        assert!(s.size() > s.attrs.json().len());
    }
}
