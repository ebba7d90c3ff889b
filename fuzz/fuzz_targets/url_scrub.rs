//! URL scrubbing and parsing see every URL a page requests: no panics,
//! scrubbing is idempotent, credentials never survive it, and neither does
//! the value of a sensitive query key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::url::{absolute, route_of, same_origin, scrub, without_fragment, UrlParts, SENSITIVE_QUERY_KEYS};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let extra = vec!["token".to_string()];
    let out = scrub(s, &extra);
    assert_eq!(scrub(&out, &extra), out, "idempotent");
    if let Some(parts) = UrlParts::parse(s) {
        let _ = (parts.port(), parts.origin(), parts.address());
        if parts.userinfo.is_some() {
            let scrubbed = UrlParts::parse(&out).expect("still a URL");
            assert_eq!(scrubbed.userinfo, Some("REDACTED:REDACTED"), "{s:?} -> {out:?}");
        }
    }
    let query = without_fragment(&out).split_once('?').map(|(_, q)| q).unwrap_or("");
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            if SENSITIVE_QUERY_KEYS.contains(&k) || k == "token" {
                assert_eq!(v, "REDACTED", "{s:?} -> {out:?}");
            }
        }
    }
    let _ = (route_of(s), absolute(s, "https://page.test"), same_origin(s, "https://page.test"));
});
