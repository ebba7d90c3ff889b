//! The functional core: plain Rust with no browser APIs, tested natively.

pub mod clock;
pub mod config;
pub mod context;
pub mod errors;
pub mod export;
pub mod http;
pub mod ids;
pub mod limits;
pub mod otlp;
pub mod resource;
pub mod sampling;
pub mod selector;
pub mod session;
pub mod span;
pub mod tracecontext;
pub mod url;
pub mod vitals;
