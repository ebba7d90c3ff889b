//! Helpers the instrumentations share.

pub mod guard;
pub mod http;
pub mod js;
pub mod listener;
pub mod patch;
pub mod resource_timing;
pub mod timing;
