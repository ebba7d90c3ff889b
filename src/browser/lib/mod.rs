//! Helpers the instrumentations share.

pub mod js;
pub mod listener;
pub mod patch;
