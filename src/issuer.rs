//! The issuer: its identifier exactly as configured and the URLs derived from it. A value
//! passed down (design §6: several issuers later), never a global.

/// The issuer identifier and the URLs derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Exactly as configured: the `iss` of every token and discovery's `issuer`.
    pub id: String,
    base: String,
    /// The issuer's path (`""` for `http://localhost:8000`, `"/realms/dev"` for a path issuer).
    pub path: String,
    /// `scheme://host[:port]`.
    pub origin: String,
}

impl Issuer {
    /// Validates an issuer URL (http or https, no query or fragment: OIDC Discovery §3).
    pub fn parse(id: &str) -> Result<Issuer, String> {
        let url = url::Url::parse(id).map_err(|e| format!("issuer `{id}` is not a URL: {e}"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!("issuer `{id}` must use http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("issuer `{id}` must not have a query or fragment"));
        }
        if url.host_str().is_none() {
            return Err(format!("issuer `{id}` has no host"));
        }
        let base = id.trim_end_matches('/').to_string();
        let path = url.path().trim_end_matches('/').to_string();
        Ok(Issuer {
            id: id.to_string(),
            base,
            path,
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The absolute URL of an endpoint at `path` (a router path constant).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The issuer's host (with port), for the admin guard.
    pub fn host(&self) -> Option<String> {
        let url = url::Url::parse(&self.id).ok()?;
        let host = url.host_str()?;
        Some(match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        })
    }
}

/// Checks a back-channel base URL (`[server] backchannel_url`): http or https, a host, no
/// user information, query or fragment. The error says which rule it breaks.
pub fn check_back_channel_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!("`{url}` must use http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("`{url}` must not have a query or fragment"));
    }
    if parsed.host_str().is_none() {
        return Err(format!("`{url}` has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("`{url}` must not contain user information"));
    }
    Ok(parsed)
}

impl Issuer {
    /// The back-channel base URL (`[server] backchannel_url`): the address containers and
    /// back-ends use for server-to-server endpoints, such as `http://latchkey:8000`. Validated
    /// like an issuer; when it has no path, the issuer's own path is appended (the endpoints
    /// live under it either way). The result's `id` is the back-channel base, never an `iss`.
    pub fn back_channel(&self, url: &str) -> Result<Issuer, String> {
        let parsed = check_back_channel_url(url)?;
        let trimmed = url.trim_end_matches('/');
        let base = if parsed.path().trim_end_matches('/').is_empty() {
            format!("{trimmed}{}", self.path)
        } else {
            trimmed.to_string()
        };
        Issuer::parse(&base).map_err(|e| e.replace("issuer ", ""))
    }

    /// Whether a request's `Host` header (or HTTP/2 `:authority`), `host[:port]`, names this
    /// URL's host and port: host names compare case-insensitively, a missing port is the
    /// scheme's default (80 or 443). Only an exact match counts; nothing is ever built from the
    /// header itself.
    pub fn serves_host(&self, host_header: &str) -> bool {
        let Ok(url) = url::Url::parse(&self.id) else {
            return false;
        };
        let Some(want_host) = url.host_str() else {
            return false;
        };
        let Some(want_port) = url.port_or_known_default() else {
            return false;
        };
        let given = host_header.trim();
        // Only what an authority without user information may hold (RFC 9110 §7.2).
        if given.is_empty()
            || !given
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
        {
            return false;
        }
        let Ok(seen) = url::Url::parse(&format!("{}://{given}/", url.scheme())) else {
            return false;
        };
        // `url` lowercases host names and drops a default port.
        seen.host_str() == Some(want_host) && seen.port_or_known_default() == Some(want_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_channel_keeps_the_issuer_path_unless_it_names_one() {
        let i = Issuer::parse("http://localhost:8000/realms/dev").unwrap();
        let b = i.back_channel("http://latchkey:8000").unwrap();
        assert_eq!(b.url("/token"), "http://latchkey:8000/realms/dev/token");
        let b = i.back_channel("http://latchkey:8000/other/").unwrap();
        assert_eq!(b.url("/token"), "http://latchkey:8000/other/token");
        for bad in [
            "latchkey:8000",
            "ftp://latchkey",
            "http://latchkey:8000/?a=b",
            "http://u:p@latchkey/",
        ] {
            assert!(i.back_channel(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_exact_host_and_port_match() {
        let b = Issuer::parse("http://localhost:8000")
            .unwrap()
            .back_channel("http://Latchkey:8000")
            .unwrap();
        assert!(b.serves_host("latchkey:8000"));
        assert!(b.serves_host("LATCHKEY:8000"));
        assert!(!b.serves_host("latchkey"), "port 80 is not 8000");
        assert!(!b.serves_host("latchkey:8001"));
        assert!(!b.serves_host("latchkey.evil:8000"));
        assert!(!b.serves_host("evil@latchkey:8000"));
        assert!(!b.serves_host("localhost:8000"));
        assert!(!b.serves_host(""));
        let b = Issuer::parse("http://localhost:8000")
            .unwrap()
            .back_channel("http://latchkey")
            .unwrap();
        assert!(b.serves_host("latchkey"));
        assert!(b.serves_host("latchkey:80"));
        let v6 = Issuer::parse("http://localhost:8000")
            .unwrap()
            .back_channel("http://[::1]:9000")
            .unwrap();
        assert!(v6.serves_host("[::1]:9000"));
    }
}
