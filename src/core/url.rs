//! URL handling that must not depend on the browser: scrubbing secrets out
//! of `url.full`, splitting out `server.address`/`server.port`, and the
//! string half of the URL allow-lists.

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
    /// Lowercase scheme without `:`.
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

impl<'a> UrlParts<'a> {
    /// Splits an absolute hierarchical URL; `None` for anything else.
    pub fn parse(url: &'a str) -> Option<Self> {
        let (scheme, after) = url.split_once("://")?;
        if scheme.is_empty() || !scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c)) {
            return None;
        }
        let end = after.find(|c| c == '/' || c == '?' || c == '#').unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = if hostport.starts_with('[') {
            let close = hostport.find(']')?;
            let (h, p) = hostport.split_at(close + 1);
            (h, p.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let explicit_port = match port {
            None | Some("") => None,
            Some(p) => Some(p.parse().ok()?),
        };
        if host.is_empty() {
            return None;
        }
        Some(UrlParts { scheme, userinfo, host, explicit_port, rest })
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.explicit_port.unwrap_or(match self.scheme {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => 0,
        })
    }

    /// `scheme://host[:port]` with the port only when it is not the default.
    pub fn origin(&self) -> String {
        let mut o = format!("{}://{}", self.scheme, self.host);
        if let Some(p) = self.explicit_port {
            if Some(p) != default_port(self.scheme) {
                o.push(':');
                o.push_str(&p.to_string());
            }
        }
        o
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Query keys whose values are credentials in signed URLs (S3, GCS, Azure).
pub const SENSITIVE_QUERY_KEYS: [&str; 5] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature", "X-Amz-Signature"];

/// Removes credentials from a URL before it is recorded: `user:password@`
/// becomes `REDACTED:REDACTED@` and the values of sensitive query keys
/// (the built-in list plus `extra_keys`, matched exactly) become `REDACTED`.
///
/// ```
/// use waggle_rum::core::url::scrub;
/// assert_eq!(scrub("https://a:b@x.io/f?sig=abc&n=1", &[]), "https://REDACTED:REDACTED@x.io/f?sig=REDACTED&n=1");
/// ```
pub fn scrub(url: &str, extra_keys: &[String]) -> String {
    let mut out = String::with_capacity(url.len());
    let rest = match UrlParts::parse(url) {
        Some(parts) if parts.userinfo.is_some() => {
            out.push_str(parts.scheme);
            out.push_str("://REDACTED:REDACTED@");
            let start = url.len() - parts.rest.len();
            let host_start = url[..start].rfind('@').map_or(0, |i| i + 1);
            out.push_str(&url[host_start..start]);
            &url[start..]
        }
        _ => url,
    };
    let (before_fragment, fragment) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match before_fragment.split_once('?') {
        None => out.push_str(before_fragment),
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, _)) if is_sensitive(k, extra_keys) => {
                        out.push_str(k);
                        out.push_str("=REDACTED");
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    out.push_str(fragment);
    out
}

fn is_sensitive(key: &str, extra: &[String]) -> bool {
    SENSITIVE_QUERY_KEYS.contains(&key) || extra.iter().any(|k| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_pages_use() {
        let u = UrlParts::parse("http://localhost:4318/v1/traces").unwrap();
        assert_eq!((u.host, u.port(), u.rest), ("localhost", 4318, "/v1/traces"));
        let u = UrlParts::parse("https://[::1]:9/x").unwrap();
        assert_eq!((u.host, u.port()), ("[::1]", 9));
        let u = UrlParts::parse("https://example.com").unwrap();
        assert_eq!((u.port(), u.rest, u.origin()), (443, "", "https://example.com".to_string()));
        assert_eq!(UrlParts::parse("https://example.com:443/").unwrap().origin(), "https://example.com");
        assert!(UrlParts::parse("/relative").is_none());
        assert!(UrlParts::parse("data:text/plain,hi").is_none());
        assert!(UrlParts::parse("http://host:99999/").is_none());
        assert!(UrlParts::parse("http:///x").is_none());
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
    }
}
