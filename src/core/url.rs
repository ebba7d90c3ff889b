//! URL handling that must not depend on the browser: scrubbing secrets out
//! of `url.full`, splitting out `server.address`/`server.port`, origins,
//! and the route a page's URL names.

use alloc::string::String;
use alloc::vec::Vec;

/// An absolute URL split into the parts the agent reads.
///
/// ```
/// use waggle_rum::core::url::UrlParts;
/// let u = UrlParts::parse("https://user:pw@api.example.com:8443/v1?q=1#x").unwrap();
/// assert_eq!(u.host, "api.example.com");
/// assert_eq!(u.port(), 8443);
/// assert_eq!(u.origin(), "https://api.example.com:8443");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Scheme without `:`.
    pub scheme: &'a str,
    /// `user:password` before `@`, if any.
    pub userinfo: Option<&'a str>,
    /// Host name or bracketed IPv6 address.
    pub host: &'a str,
    /// Explicit port, if any.
    pub explicit_port: Option<u16>,
    /// Path, query and fragment.
    pub rest: &'a str,
}

/// The byte index of the first of `set` in `s`, or its length.
fn find_any(s: &str, set: &[u8]) -> usize {
    s.bytes().position(|c| set.contains(&c)).unwrap_or(s.len())
}

impl<'a> UrlParts<'a> {
    /// Splits an absolute hierarchical URL; `None` for anything else.
    pub fn parse(url: &'a str) -> Option<Self> {
        let colon = url.bytes().position(|c| c == b':')?;
        let scheme = &url[..colon];
        let after = url[colon..].strip_prefix("://")?;
        if scheme.is_empty() || !scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c)) {
            return None;
        }
        let (authority, rest) = after.split_at(find_any(after, b"/?#"));
        let (userinfo, hostport) = match authority.bytes().rposition(|c| c == b'@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = if hostport.starts_with('[') {
            let close = hostport.bytes().position(|c| c == b']')?;
            let (h, p) = hostport.split_at(close + 1);
            (h, p.strip_prefix(':'))
        } else {
            match hostport.bytes().rposition(|c| c == b':') {
                Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
                None => (hostport, None),
            }
        };
        let explicit_port = match port {
            None | Some("") => None,
            Some(p) => Some(u16::try_from(super::num::parse_u64(p)?).ok()?),
        };
        if host.is_empty() {
            return None;
        }
        Some(UrlParts { scheme, userinfo, host, explicit_port, rest })
    }

    /// The port: explicit, or the scheme's default (0 if it has none).
    pub fn port(&self) -> u16 {
        self.explicit_port.or_else(|| default_port(self.scheme)).unwrap_or(0)
    }

    /// `scheme://host[:port]` as `location.origin` spells it: the default
    /// port left out.
    pub fn origin(&self) -> String {
        let mut o = Vec::with_capacity(self.scheme.len() + self.host.len() + 9);
        o.extend_from_slice(self.scheme.as_bytes());
        o.extend_from_slice(b"://");
        o.extend_from_slice(self.host.as_bytes());
        if let Some(p) = self.explicit_port.filter(|p| Some(*p) != default_port(self.scheme)) {
            o.push(b':');
            super::num::push_u64(&mut o, u64::from(p));
        }
        super::num::bytes_to_string(o)
    }

    /// The host without IPv6 brackets: `server.address`.
    pub fn address(&self) -> &'a str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.as_bytes() {
        b"http" | b"ws" => Some(80),
        b"https" | b"wss" => Some(443),
        _ => None,
    }
}

/// Whether `url` is an absolute `http:` or `https:` URL: the only requests
/// that get client spans (a `data:` or `blob:` fetch never reaches a
/// server, so there is nothing to trace or to propagate to).
///
/// ```
/// use waggle_rum::core::url::is_http;
/// assert!(is_http("https://api.example.com/x") && is_http("HTTP://x.test/"));
/// assert!(!is_http("blob:https://example.com/1234"));
/// ```
pub fn is_http(url: &str) -> bool {
    UrlParts::parse(url).is_some_and(|p| p.scheme.eq_ignore_ascii_case("http") || p.scheme.eq_ignore_ascii_case("https"))
}

/// Whether the absolute `url` has the page's `origin` (as
/// `location.origin` spells it: no default port, lower-case host).
///
/// ```
/// use waggle_rum::core::url::same_origin;
/// assert!(same_origin("http://localhost:8080/api", "http://localhost:8080"));
/// assert!(same_origin("https://example.com:443/", "https://example.com"));
/// assert!(!same_origin("http://127.0.0.1:8080/api", "http://localhost:8080"));
/// ```
pub fn same_origin(url: &str, origin: &str) -> bool {
    UrlParts::parse(url).is_some_and(|p| p.origin().eq_ignore_ascii_case(origin))
}

/// `url` without its fragment: the browser keeps fragments out of the
/// request, and Resource Timing entries are compared without them.
///
/// ```
/// use waggle_rum::core::url::without_fragment;
/// assert_eq!(without_fragment("https://x.test/a?b#c"), "https://x.test/a?b");
/// ```
pub fn without_fragment(url: &str) -> &str {
    &url[..find_any(url, b"#")]
}

/// The route a page's URL names: its path, plus the fragment when it is a
/// hash route (`#/...`); any other fragment is an anchor, not a route.
///
/// ```
/// use waggle_rum::core::url::route_of;
/// assert_eq!(route_of("https://shop.test/products/42?x=1#reviews"), "/products/42");
/// assert_eq!(route_of("https://shop.test/app/#/cart?y=2"), "/app/#/cart?y=2");
/// assert_eq!(route_of("https://shop.test"), "/");
/// ```
pub fn route_of(href: &str) -> String {
    let Some(parts) = UrlParts::parse(href) else { return String::new() };
    let rest = parts.rest;
    let path_end = find_any(rest, b"?#");
    let mut out = String::from(if path_end == 0 { "/" } else { &rest[..path_end] });
    let hash = &rest[find_any(rest, b"#")..];
    if hash.starts_with("#/") {
        out.push_str(hash);
    }
    out
}

/// `url` resolved against the page's `origin` when it is a path on the
/// page's origin (`/collector`); absolute URLs are returned as they are.
///
/// ```
/// use waggle_rum::core::url::absolute;
/// assert_eq!(absolute("/otel", "https://shop.test"), "https://shop.test/otel");
/// assert_eq!(absolute("https://otel.test", "https://shop.test"), "https://otel.test");
/// ```
pub fn absolute(url: &str, origin: &str) -> String {
    let mut out = String::new();
    if url.starts_with('/') && !url.starts_with("//") {
        out.push_str(origin);
    }
    out.push_str(url);
    out
}

/// Query keys whose values are redacted from every recorded URL: the
/// signed-URL keys the semantic conventions name.
pub const SENSITIVE_QUERY_KEYS: [&str; 5] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature", "X-Amz-Signature"];

/// A URL made safe to record: credentials become `REDACTED:REDACTED`, and
/// the values of sensitive query keys (the built-in ones and `extra_keys`)
/// become `REDACTED`. The fragment is kept as it is.
///
/// ```
/// use waggle_rum::core::url::scrub;
/// assert_eq!(scrub("https://u:p@x.io/a?sig=s&b=1", &[]), "https://REDACTED:REDACTED@x.io/a?sig=REDACTED&b=1");
/// ```
pub fn scrub(url: &str, extra_keys: &[String]) -> String {
    let mut out = String::with_capacity(url.len() + 16);
    let rest = match UrlParts::parse(url) {
        Some(parts) if parts.userinfo.is_some() => {
            out.push_str(parts.scheme);
            out.push_str("://REDACTED:REDACTED@");
            let start = url.len() - parts.rest.len();
            let host_start = url[..start].bytes().rposition(|c| c == b'@').map_or(0, |i| i + 1);
            out.push_str(&url[host_start..start]);
            &url[start..]
        }
        _ => url,
    };
    let hash = find_any(rest, b"#");
    let (before_fragment, fragment) = rest.split_at(hash);
    let q = find_any(before_fragment, b"?");
    out.push_str(&before_fragment[..q]);
    if q < before_fragment.len() {
        out.push('?');
        for (i, pair) in before_fragment[q + 1..].split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            let eq = find_any(pair, b"=");
            let key = &pair[..eq];
            if eq < pair.len() && (SENSITIVE_QUERY_KEYS.contains(&key) || extra_keys.iter().any(|k| k == key)) {
                out.push_str(key);
                out.push_str("=REDACTED");
            } else {
                out.push_str(pair);
            }
        }
    }
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_pages_use() {
        let u = UrlParts::parse("http://localhost:4318/v1/traces").unwrap();
        assert_eq!((u.host, u.port(), u.rest), ("localhost", 4318, "/v1/traces"));
        let u = UrlParts::parse("https://[::1]:9/x").unwrap();
        assert_eq!((u.host, u.port(), u.address()), ("[::1]", 9, "::1"));
        let u = UrlParts::parse("https://example.com").unwrap();
        assert_eq!((u.port(), u.rest, u.origin().as_str()), (443, "", "https://example.com"));
        assert_eq!(UrlParts::parse("https://example.com:443/").unwrap().origin(), "https://example.com");
        assert!(UrlParts::parse("/relative").is_none());
        assert!(UrlParts::parse("data:text/plain,hi").is_none());
        assert!(UrlParts::parse("http://host:99999/").is_none());
        assert!(UrlParts::parse("http:///x").is_none());
        assert!(UrlParts::parse("ftp://x.test/f").is_some() && !is_http("ftp://x.test/f"));
    }

    #[test]
    fn scrubs_credentials_and_signed_query_values() {
        assert_eq!(scrub("https://x.io/a?b=1#f", &[]), "https://x.io/a?b=1#f");
        assert_eq!(
            scrub("https://u:p@s3.io/k?AWSAccessKeyId=AK&Signature=s&Expires=1#frag?sig=x", &[]),
            "https://REDACTED:REDACTED@s3.io/k?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1#frag?sig=x"
        );
        assert_eq!(scrub("https://x.io/?token=t&a", &["token".into()]), "https://x.io/?token=REDACTED&a");
        assert_eq!(scrub("https://u@x.io", &[]), "https://REDACTED:REDACTED@x.io");
        assert_eq!(scrub("not a url?sig=1", &[]), "not a url?sig=REDACTED");
        assert_eq!(scrub("https://x.io/?sig", &[]), "https://x.io/?sig");
    }

    #[test]
    fn origins() {
        let page = "http://localhost:8080";
        assert!(same_origin("http://LOCALHOST:8080/", page));
        assert!(!same_origin("http://localhost:8081/", page));
        assert!(!same_origin("https://localhost:8080/", page));
        assert!(!same_origin("http://localhost.evil.test:8080/", page));
        assert!(!same_origin("http://localhost:8080@evil.test/", page));
        assert!(same_origin("http://example.com:80/x", "http://example.com"));
        assert!(!same_origin("/relative", page));
        assert_eq!(without_fragment("http://a.test/#x#y"), "http://a.test/");
    }
}
