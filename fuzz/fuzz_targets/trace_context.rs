//! The W3C parsers take what pages and servers send: they must never panic,
//! and what they accept must survive a round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::tracecontext::{parse_traceparent, parse_tracestate, server_timing_traceparent};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(tp) = parse_traceparent(s) {
        assert_eq!(parse_traceparent(&tp.to_header()), Some(tp));
        assert!(tp.to_header().len() == 55);
    }
    if let Some(ts) = parse_tracestate(s) {
        assert_eq!(parse_tracestate(&ts).as_deref(), Some(ts.as_str()));
    }
    if let Some(tp) = server_timing_traceparent(s) {
        assert_eq!(parse_traceparent(&tp.to_header()), Some(tp));
    }
});
