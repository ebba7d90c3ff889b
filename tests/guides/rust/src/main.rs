// The service is docs/guides.md's Rust example, extracted by build.rs.
include!(concat!(env!("OUT_DIR"), "/guide.rs"));
