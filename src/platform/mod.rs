//! The boundary with the page's JavaScript: the wire format, the kinds of
//! observations and commands, and the [`Io`] the layers above write to.

pub mod io;
pub mod protocol;
pub mod wire;

pub use io::Io;
