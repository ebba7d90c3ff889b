//! Waggle: browser real-user monitoring as OpenTelemetry traces.
//!
//! The crate is the agent's decisions, in layers that import one way only:
//!
//! ```text
//! instrument ──▶ runtime ──▶ delivery ──▶ platform ──▶ core
//! ```
//!
//! - [`core`]: plain values and rules (ids, trace context, sampling,
//!   sessions, the span model, OTLP/JSON, settle and route decisions,
//!   vitals, the delivery state machine). No I/O at all.
//! - [`platform`]: the boundary with the page's JavaScript: the wire format
//!   observations arrive in and commands leave in, and the [`platform::Io`]
//!   every layer above writes its commands to.
//! - [`delivery`]: the span queue and the batches under way, driven by
//!   [`core::delivery::Machine`].
//! - [`runtime`]: what spans share (sampling, the current span, the page,
//!   the session, the user) and the spans that stay open until the page
//!   settles.
//! - [`instrument`]: one file per thing observed (a request, a click, a
//!   route change, each web vital, an error, the app's own spans).
//!
//! [`Waggle`] owns one of each and routes each observation to its part.
//! Everything above compiles natively and is tested with `cargo test`; only
//! `wasm.rs` (the exports, the allocator and the panic handler) is
//! WebAssembly-only. The crate is `no_std` so that the shipped module
//! carries neither `std` nor `core::fmt`.
//!
//! ```
//! use waggle_rum::core::tracecontext::parse_traceparent;
//! assert!(parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some());
//! ```
// `no_std` where it ships; natively the tests and the fuzz targets use
// `std`, and the code is the same.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod core;
pub mod delivery;
pub mod instrument;
pub mod platform;
pub mod runtime;
mod waggle;

pub use waggle::Waggle;

#[cfg(target_arch = "wasm32")]
mod wasm;
