//! The functional core: plain values and rules, no I/O, tested natively.

pub mod clock;
pub mod config;
pub mod consent;
pub mod context;
pub mod debug;
pub mod delivery;
pub mod errors;
pub mod export;
pub mod frustration;
pub mod http;
pub mod ids;
pub mod num;
pub mod otlp;
pub mod resource;
pub mod route;
pub mod sampling;
pub mod selector;
pub mod session;
pub mod settle;
pub mod span;
pub mod spill;
pub mod text;
pub mod tracecontext;
pub mod url;
pub mod vitals;
