//! Helpers the instrumentations share.

pub mod http;
pub mod js;
pub mod listener;
pub mod patch;
pub mod resource_timing;
pub mod timing;
