//! The W3C parsers take what pages and servers send: they must never panic,
//! what they accept must survive a round trip, and a `tracestate` passed on
//! must itself be valid Level 2 (at most 32 members, 512 characters, keys
//! unique and well formed).
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::tracecontext::{
    parse_traceparent, parse_tracestate, server_timing_traceparent, FLAGS_KNOWN, TRACESTATE_MAX_LEN, TRACESTATE_MAX_MEMBERS,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(tp) = parse_traceparent(s) {
        let h = tp.to_header();
        assert_eq!(h.len(), 55);
        assert!(h.starts_with("00-"));
        assert_eq!(tp.flags & !FLAGS_KNOWN, 0);
        assert!(tp.trace_id.is_valid() && tp.span_id.is_valid());
        assert_eq!(parse_traceparent(&h), Some(tp));
    }
    if let Some(ts) = parse_tracestate(s) {
        assert!(!ts.is_empty() && ts.len() <= TRACESTATE_MAX_LEN, "{ts:?}");
        let members: Vec<&str> = ts.split(',').collect();
        assert!(members.len() <= TRACESTATE_MAX_MEMBERS);
        let mut keys: Vec<&str> = members.iter().map(|m| m.split_once('=').expect("key=value").0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "keys are unique: {ts:?}");
        // Every member kept is valid alone, and the list reads back as itself.
        for m in &members {
            assert_eq!(parse_tracestate(m).as_deref(), Some(*m));
        }
        assert_eq!(parse_tracestate(&ts).as_deref(), Some(ts.as_str()));
    }
    if let Some(tp) = server_timing_traceparent(s) {
        assert_eq!(parse_traceparent(&tp.to_header()), Some(tp));
    }
});
