//! The defensive fetcher: every URL Latchkey fetches because a client told it to (a Client ID
//! Metadata Document, a client's or trusted issuer's `jwks_uri`) goes through [`Defensive`].
//! `logo_uri` and the other display URLs of client metadata are never fetched.
//!
//! Rules (docs/security.md, docs/modern.md):
//! - `http` and `https` only; no user information in the URL; no cookies, no `Authorization`,
//!   no `Referer` are ever sent.
//! - Which hosts: `[fetch] allowed_hosts` when set (exact names, `*.suffix` wildcards, IP
//!   literals); by default any host over https and only loopback hosts over http. A name used
//!   over plain http must resolve to loopback addresses only, checked on the addresses the
//!   connection actually uses (no DNS-rebinding window).
//! - At most [`Limits::max_redirects`] redirects, each target checked like the first URL.
//! - The whole exchange (every redirect included) within [`Limits::timeout`]; the body at most
//!   [`Limits::max_bytes`] (a larger `Content-Length` is refused before reading).
//!
//! This module uses hyper's client, not axum, so the protocol layer may call it through the
//! [`Fetch`] trait (tests install their own).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

use crate::model::FetchSettings;

/// Bounds of one fetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// The whole exchange, redirects included.
    pub timeout: Duration,
    /// Redirects followed (each target re-checked); one more is an error.
    pub max_redirects: u8,
}

/// What a fetch returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status of the last response.
    pub status: u16,
    /// The URL finally answered (after redirects).
    pub url: url::Url,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// `Cache-Control`, if any.
    pub cache_control: Option<String>,
    /// The body (at most `max_bytes`).
    pub body: Bytes,
}

/// An HTTP GET for small documents that a client named; the error says why, in words
/// ("is not allowed: ...", "did not answer within 5 s", "answered more than 5 KiB").
pub trait Fetch: Send + Sync {
    /// GETs `url` under `policy` within `limits`, sending `Accept: accept`.
    fn get<'a>(
        &'a self,
        url: &'a url::Url,
        policy: &'a FetchSettings,
        limits: Limits,
        accept: &'a str,
    ) -> BoxFuture<'a, Result<Fetched, String>>;
}

/// The real fetcher (hyper over rustls, the platform's roots or Mozilla's).
pub struct Defensive;

impl Fetch for Defensive {
    fn get<'a>(
        &'a self,
        url: &'a url::Url,
        policy: &'a FetchSettings,
        limits: Limits,
        accept: &'a str,
    ) -> BoxFuture<'a, Result<Fetched, String>> {
        Box::pin(get(url, policy, limits, accept))
    }
}

/// Whether an address is loopback (`127.0.0.0/8`, `::1`, or an IPv4-mapped loopback).
pub fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Whether a host (name or literal, as in a URL) is a loopback host: a loopback literal,
/// `localhost` or a name under `.localhost` (RFC 6761 §6.3).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => is_loopback_ip(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => is_loopback_ip(IpAddr::V6(*ip)),
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// Checks one `[fetch] allowed_hosts` entry: a host name, `*.` followed by one, or an IP
/// literal (IPv6 with or without brackets); no scheme, port or path.
pub fn check_host_pattern(p: &str) -> Result<(), String> {
    let wildcard = p.starts_with("*.");
    let bare = p.strip_prefix("*.").unwrap_or(p);
    let unbracketed = bare.trim_start_matches('[').trim_end_matches(']');
    if !wildcard && unbracketed.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if bare.contains('*') {
        return Err(format!("`{p}`: a wildcard may only be a leading `*.`"));
    }
    let valid = !bare.is_empty()
        && !bare.starts_with('.')
        && !bare.ends_with('.')
        && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{p}` is not a host name, `*.domain` or IP address (no scheme, port or path)"
        ))
    }
}

/// Checks a URL against the policy before any connection: the scheme, user information, a
/// host, and which hosts (see the module documentation). Returns whether the connection must
/// reach loopback addresses only (plain http). Errors are sentences ("... is not allowed").
pub fn check_url(u: &url::Url, policy: &FetchSettings) -> Result<bool, String> {
    let https = match u.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(format!(
                "{u} is not allowed: only http and https URLs are fetched, not `{other}`"
            ));
        }
    };
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!("{u} is not allowed: it carries a user name or password"));
    }
    let Some(host) = u.host() else {
        return Err(format!("{u} is not allowed: it has no host"));
    };
    let loopback = is_loopback_host(&host);
    let host_text = host.to_string();
    if !policy.allowed_hosts.is_empty() && !policy.allowed_hosts.iter().any(|p| host_matches(p, &host_text)) {
        return Err(format!(
            "{u} is not allowed: `{host_text}` is not in [fetch] allowed_hosts ({})",
            policy.allowed_hosts.join(", ")
        ));
    }
    if !https && !loopback {
        return Err(format!(
            "{u} is not allowed: plain http is fetched only from this machine (127.0.0.1, [::1], localhost); use https"
        ));
    }
    Ok(!https)
}

/// The TLS settings (built once: reading the platform's roots costs milliseconds).
fn tls() -> Result<&'static rustls::ClientConfig, String> {
    static TLS: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs_load();
        for c in native {
            let _ = roots.add(c);
        }
        if roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .map_err(|e| format!("TLS set-up failed: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

fn rustls_native_certs_load() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// Resolves names for one fetch: with `loopback_only`, every address must be loopback (else
/// the connection is refused naming the address).
fn resolver(
    loopback_only: bool,
) -> impl tower::Service<
    Name,
    Response = std::vec::IntoIter<SocketAddr>,
    Error = std::io::Error,
    Future = BoxFuture<'static, Result<std::vec::IntoIter<SocketAddr>, std::io::Error>>,
> + Clone {
    tower::service_fn(
        move |name: Name| -> BoxFuture<'static, Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> {
            Box::pin(async move {
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
                if loopback_only && let Some(a) = addrs.iter().find(|a| !is_loopback_ip(a.ip())) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        format!(
                            "`{}` resolves to {}, which is not a loopback address",
                            name.as_str(),
                            a.ip()
                        ),
                    ));
                }
                Ok(addrs.into_iter())
            })
        },
    )
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// GETs `url` defensively (see the module documentation).
pub async fn get(url: &url::Url, policy: &FetchSettings, limits: Limits, accept: &str) -> Result<Fetched, String> {
    match tokio::time::timeout(limits.timeout, get_inner(url, policy, limits, accept)).await {
        Ok(r) => r,
        Err(_) => Err(format!("{url} did not answer within {} s", limits.timeout.as_secs())),
    }
}

async fn get_inner(start: &url::Url, policy: &FetchSettings, limits: Limits, accept: &str) -> Result<Fetched, String> {
    let tls = tls()?.clone();
    let mut current = start.clone();
    let mut redirects = 0u8;
    loop {
        let loopback_only = check_url(&current, policy)?;
        let mut http = HttpConnector::new_with_resolver(resolver(loopback_only));
        http.enforce_http(false);
        http.set_connect_timeout(Some(limits.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build(connector);
        let req = hyper::Request::get(current.as_str())
            .header(hyper::header::ACCEPT, accept)
            .header(
                hyper::header::USER_AGENT,
                concat!("Latchkey/", env!("CARGO_PKG_VERSION")),
            )
            .body(Body::empty())
            .map_err(|e| format!("{current}: the request could not be built: {e}"))?;
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("{current} could not be reached: {}", innermost(&e)))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) && status != 304 {
            let Some(loc) = resp
                .headers()
                .get(hyper::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Err(format!("{current} answered HTTP {status} without a Location"));
            };
            if limits.max_redirects == 0 {
                return Err(format!(
                    "{current} answered HTTP {status}, a redirect to `{loc}`; redirects are not followed for this document"
                ));
            }
            if redirects >= limits.max_redirects {
                return Err(format!(
                    "{start} redirected more than {} times; stopped at {current}",
                    limits.max_redirects
                ));
            }
            let next = current
                .join(loc)
                .map_err(|e| format!("{current} redirected to `{loc}`, which is not a URL ({e})"))?;
            check_url(&next, policy).map_err(|e| format!("{current} redirected to {e}"))?;
            redirects += 1;
            current = next;
            continue;
        }
        let header =
            |n: hyper::header::HeaderName| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = header(hyper::header::CONTENT_TYPE);
        let cache_control = header(hyper::header::CACHE_CONTROL);
        let declared = header(hyper::header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let too_large = || {
            format!(
                "{current} answered more than {} bytes (the limit for this document)",
                limits.max_bytes
            )
        };
        if declared.is_some_and(|n| n > limits.max_bytes as u64) {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(Body::new(resp.into_body()), limits.max_bytes)
            .await
            .map_err(|_| too_large())?;
        return Ok(Fetched {
            status,
            url: current,
            content_type,
            cache_control,
            body,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn default_policy_is_https_anywhere_and_http_on_loopback() {
        let p = FetchSettings::default();
        assert_eq!(check_url(&u("https://example.com/x"), &p), Ok(false));
        assert_eq!(check_url(&u("http://127.0.0.1:9/x"), &p), Ok(true));
        assert_eq!(check_url(&u("http://[::1]:9/x"), &p), Ok(true));
        assert_eq!(check_url(&u("http://localhost:9/x"), &p), Ok(true));
        for bad in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://169.254.169.254/latest",
            "ftp://127.0.0.1/x",
            "file:///etc/passwd",
            "https://user:pw@example.com/x",
        ] {
            assert!(check_url(&u(bad), &p).unwrap_err().contains("not allowed"), "{bad}");
        }
    }

    #[test]
    fn allowed_hosts_narrow_the_policy() {
        let p = FetchSettings {
            allowed_hosts: vec!["*.example.com".into(), "127.0.0.1".into()],
            ..Default::default()
        };
        assert!(check_url(&u("https://a.example.com/x"), &p).is_ok());
        assert!(check_url(&u("https://example.com/x"), &p).is_err());
        assert!(check_url(&u("https://evil.com/x"), &p).is_err());
        assert!(check_url(&u("http://127.0.0.1:1/x"), &p).is_ok());
        assert!(check_url(&u("http://localhost:1/x"), &p).is_err());
        // Allowed hosts never make plain http to another machine acceptable.
        let p = FetchSettings {
            allowed_hosts: vec!["10.0.0.1".into()],
            ..Default::default()
        };
        assert!(check_url(&u("http://10.0.0.1/x"), &p).is_err());
        assert!(check_url(&u("https://10.0.0.1/x"), &p).is_ok());
    }

    #[test]
    fn host_patterns_are_checked() {
        for ok in ["example.com", "*.example.com", "127.0.0.1", "::1", "[::1]", "localhost"] {
            assert!(check_host_pattern(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "https://example.com",
            "example.com:443",
            "a*.example.com",
            "ex/ample",
            "*.",
        ] {
            assert!(check_host_pattern(bad).is_err(), "{bad}");
        }
    }
}
