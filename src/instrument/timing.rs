//! Resource and Navigation Timing entries as the page reads them, and what
//! they add to a span: the network phases as events, sizes and protocol as
//! attributes, and the server span a `Server-Timing: traceparent` names.

use alloc::string::String;

use crate::core::span::{Attrs, Span};
use crate::core::tracecontext::parse_traceparent;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

/// Network phases recorded as events, in entry order after the first four
/// fields.
pub const PHASES: [&str; 9] = [
    "fetchStart",
    "domainLookupStart",
    "domainLookupEnd",
    "connectStart",
    "secureConnectionStart",
    "connectEnd",
    "requestStart",
    "responseStart",
    "workerStart",
];

/// A Resource Timing entry (or the navigation entry's same fields).
///
/// The page sends, in order: `name`, `initiatorType`, `startTime`,
/// `responseEnd`, the [`PHASES`], `responseStatus`, `transferSize`,
/// `encodedBodySize`, `decodedBodySize`, `nextHopProtocol`, and the
/// description of its `serverTiming` entry named `traceparent`.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// The URL.
    pub name: String,
    /// `initiatorType`.
    pub initiator: String,
    /// `startTime`.
    pub start: f64,
    /// `responseEnd`.
    pub response_end: f64,
    /// The phases, as [`PHASES`].
    pub phases: [f64; 9],
    /// `responseStatus`.
    pub status: f64,
    /// `transferSize`.
    pub transfer: f64,
    /// `encodedBodySize`.
    pub encoded: f64,
    /// `decodedBodySize`.
    pub decoded: f64,
    /// `nextHopProtocol`.
    pub protocol: String,
    /// `Server-Timing: traceparent;desc=...`.
    pub server_timing: String,
}

impl Entry {
    /// Reads an entry's fields.
    pub fn read(r: &mut Rec<'_, '_>) -> Entry {
        let mut e = Entry {
            name: String::from(r.str()),
            initiator: String::from(r.str()),
            start: r.num(),
            response_end: r.num(),
            ..Entry::default()
        };
        for p in e.phases.iter_mut() {
            *p = r.num();
        }
        e.status = r.num();
        e.transfer = r.num();
        e.encoded = r.num();
        e.decoded = r.num();
        e.protocol = String::from(r.str());
        e.server_timing = String::from(r.str());
        e
    }

    /// Adds the phases as events, the sizes, status and protocol as
    /// attributes, and the `Server-Timing` link (when `link`).
    pub fn apply(&self, rt: &Runtime, span: &mut Span, link: bool) {
        for (name, t) in PHASES.iter().zip(self.phases) {
            if t > 0.0 {
                span.event(name, rt.ns(t), &Attrs::EMPTY);
            }
        }
        if self.response_end > 0.0 {
            span.event("responseEnd", rt.ns(self.response_end), &Attrs::EMPTY);
        }
        if self.status > 0.0 {
            span.set("http.response.status_code", self.status as i64);
        }
        if self.encoded > 0.0 {
            span.set("http.response.body.size", self.encoded as i64);
        }
        if self.transfer > 0.0 {
            span.set("http.response.size", self.transfer as i64);
        }
        if self.decoded > 0.0 && self.decoded != self.encoded {
            span.set("waggle.response.decoded_body_size", self.decoded as i64);
        }
        if !self.protocol.is_empty() {
            let (name, version) = match self.protocol.as_str() {
                "h2" => ("http", "2"),
                "h3" => ("http", "3"),
                "http/1.1" => ("http", "1.1"),
                "http/1.0" => ("http", "1.0"),
                other => (other, ""),
            };
            span.set("network.protocol.name", name);
            if !version.is_empty() {
                span.set("network.protocol.version", version);
            }
        }
        if link && !span.has_links() {
            if let Some(tp) = parse_traceparent(&self.server_timing) {
                span.link(tp.trace_id, tp.span_id, tp.flags, &Attrs::EMPTY);
            }
        }
    }
}
