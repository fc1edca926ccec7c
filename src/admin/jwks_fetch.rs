//! Fetching a JWK Set (RFC 7517 §5) from a loopback URL for the admin UI's token inspector.
//!
//! The browser cannot fetch it itself: the UI's Content-Security-Policy allows connections to
//! its own origin only, and a developer's local JWKS endpoint rarely sends CORS headers. So the
//! admin API fetches it, and only from the machine itself: the host must be a loopback address
//! (`127.0.0.0/8`, `::1`) or a name that resolves only to loopback addresses (`localhost`), so
//! the endpoint can never reach another host. Only a JSON object with a `keys` array is
//! returned, so it cannot be used to read arbitrary local pages either. This module decides
//! what is allowed and what the answer means; the HTTP layer does the request.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::AdminError;

/// Largest JWKS document accepted, in bytes (256 KiB).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// How long connecting and answering may take together.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// `POST /admin/api/tools/fetch-jwks`: which JWKS to fetch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchJwksRequest {
    /// An `http` or `https` URL on a loopback host, e.g. `http://127.0.0.1:4000/jwks`.
    pub url: String,
}

/// The fetched JWK Set.
#[derive(Debug, Serialize, ToSchema)]
pub struct FetchedJwks {
    /// The URL as fetched.
    pub url: String,
    /// The JWK Set (RFC 7517 §5), as the server sent it.
    #[schema(value_type = Object)]
    pub jwks: Value,
}

/// Whether a literal IP address is a loopback address.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Parses and checks the URL: `http`/`https`, no user information, a host. Returns the URL and
/// its host when it is a literal loopback address (`Ok((url, None))`) or a name that still has
/// to be resolved and checked (`Ok((url, Some(name)))`). Errors name the `url` field (422).
pub fn check_url(raw: &str) -> Result<(url::Url, Option<String>), AdminError> {
    let bad = |m: String| AdminError::field("url", m);
    let u = url::Url::parse(raw.trim()).map_err(|e| bad(format!("is not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad(format!("uses `{}`; use http or https", u.scheme())));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must not carry a user name or password".into()));
    }
    match u.host() {
        Some(url::Host::Ipv4(ip)) if is_loopback(IpAddr::V4(ip)) => Ok((u, None)),
        Some(url::Host::Ipv6(ip)) if is_loopback(IpAddr::V6(ip)) => Ok((u, None)),
        Some(url::Host::Domain(d))
            if d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost") =>
        {
            let name = d.to_string();
            Ok((u, Some(name)))
        }
        Some(h) => Err(bad(format!(
            "is on `{h}`; only this machine (127.0.0.1, [::1], localhost) can be fetched from here"
        ))),
        None => Err(bad("has no host".into())),
    }
}

/// Checks that every address a name resolved to is loopback.
pub fn check_resolved(name: &str, addrs: &[IpAddr]) -> Result<(), AdminError> {
    if addrs.is_empty() {
        return Err(AdminError::field("url", format!("`{name}` does not resolve")));
    }
    match addrs.iter().find(|a| !is_loopback(**a)) {
        Some(a) => Err(AdminError::field(
            "url",
            format!("`{name}` resolves to {a}, which is not a loopback address"),
        )),
        None => Ok(()),
    }
}

/// Reads the answer: a 200 with a JSON object holding a `keys` array, else an error saying
/// what came back (never the body, which may be any local page).
pub fn parse_answer(url: &url::Url, status: u16, body: &[u8]) -> Result<FetchedJwks, AdminError> {
    let bad = |m: String| AdminError::field("url", m);
    if !(200..300).contains(&status) {
        return Err(bad(format!("answered HTTP {status}, not a JWK Set")));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| bad("did not answer JSON, so it is not a JWK Set".into()))?;
    match v.get("keys") {
        Some(Value::Array(_)) => Ok(FetchedJwks {
            url: url.to_string(),
            jwks: v,
        }),
        _ => Err(bad(
            "answered JSON without a `keys` array, so it is not a JWK Set (RFC 7517 §5)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_allowed() {
        assert!(check_url("http://127.0.0.1:4000/jwks").unwrap().1.is_none());
        assert!(check_url("http://127.8.9.10/jwks").unwrap().1.is_none());
        assert!(check_url("http://[::1]:4000/jwks").unwrap().1.is_none());
        assert_eq!(
            check_url("http://localhost:4000/jwks").unwrap().1.as_deref(),
            Some("localhost")
        );
        for bad in [
            "http://10.0.0.1/jwks",
            "http://example.com/jwks",
            "http://169.254.169.254/latest",
            "file:///etc/passwd",
            "http://user:pw@127.0.0.1/jwks",
            "not a url",
            "http://[::ffff:10.0.0.1]/",
        ] {
            let e = check_url(bad).unwrap_err();
            assert_eq!(e.fields[0].field, "url", "{bad}");
        }
        assert!(check_resolved("localhost", &["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]).is_ok());
        assert!(
            check_resolved(
                "localhost",
                &["127.0.0.1".parse().unwrap(), "10.1.1.1".parse().unwrap()]
            )
            .is_err()
        );
        assert!(check_resolved("localhost", &[]).is_err());
    }

    #[test]
    fn only_a_jwk_set_is_returned() {
        let u = url::Url::parse("http://127.0.0.1/jwks").unwrap();
        assert!(parse_answer(&u, 200, br#"{"keys": []}"#).is_ok());
        assert!(parse_answer(&u, 404, br#"{"keys": []}"#).is_err());
        let e = parse_answer(&u, 200, b"<html>secret page</html>").unwrap_err();
        assert!(!e.message.contains("secret"), "{}", e.message);
        assert!(parse_answer(&u, 200, br#"{"kty": "RSA"}"#).is_err());
    }
}
