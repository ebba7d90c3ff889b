//! URL scrubbing and parsing see every URL a page requests.
#![no_main]
use libfuzzer_sys::fuzz_target;
use waggle_rum::core::url::{scrub, UrlParts};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let extra = vec!["token".to_string()];
    let out = scrub(s, &extra);
    // Scrubbing is idempotent.
    assert_eq!(scrub(&out, &extra), out);
    if let Some(parts) = UrlParts::parse(s) {
        let _ = (parts.port(), parts.origin());
        if let Some(scrubbed) = UrlParts::parse(&out) {
            assert!(scrubbed.userinfo.is_none() || scrubbed.userinfo == Some("REDACTED:REDACTED"));
        }
    }
});
