//! Waggle: browser real-user monitoring as OpenTelemetry traces.
//!
//! The crate has two halves. [`core`] is plain Rust: the span model, ids,
//! W3C trace context, sampling, limits, the OTLP/JSON encoder and the export
//! policy, all tested natively. `browser` (wasm32 only) is the thin shell
//! that observes the page and ships spans; it is what the npm package loads.
//!
//! ```
//! use waggle_rum::core::tracecontext::parse_traceparent;
//! assert!(parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some());
//! ```
#![warn(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod browser;
