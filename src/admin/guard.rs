//! The local security guard on `/admin/` (design §4).
//!
//! - **DNS rebinding:** a `Host` that is neither the issuer's host nor a loopback name with the
//!   server's port is refused, so a page on `evil.example` that re-points its name at
//!   127.0.0.1 cannot talk to the admin API.
//! - **Cross-origin requests:** a request carrying an `Origin` other than the server's own
//!   (the issuer's origin, or a loopback origin of the bound port) or the desktop shell's
//!   (`tauri://localhost`, `http(s)://tauri.localhost`) is refused. Requests without `Origin`
//!   (curl, scripts, same-origin `GET`s) pass.
//! - **Admin token** (`--admin-token`): when set, every request must present it as
//!   `Authorization: Bearer <token>`, or, for clients that cannot set headers (the browser's
//!   `EventSource`), as the `latchkey_admin` cookie or the `access_token` query parameter. It is
//!   compared in constant time.

use super::{Admin, AdminError, ErrorKind};
use crate::oauth::client_auth::secrets_match;

/// The desktop shell's origins (Tauri 2 on macOS/Linux, and Windows).
pub const SHELL_ORIGINS: &[&str] = &["tauri://localhost", "http://tauri.localhost", "https://tauri.localhost"];
/// The cookie that may carry the admin token.
pub const COOKIE: &str = "latchkey_admin";
/// The `WWW-Authenticate` challenge of a 401.
pub const CHALLENGE: &str = "Bearer realm=\"latchkey-admin\"";

/// What the guard looks at.
#[derive(Debug, Clone, Default)]
pub struct GuardInput<'a> {
    /// `Host` (or the HTTP/2 authority).
    pub host: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `Cookie`.
    pub cookie: Option<&'a str>,
    /// The raw query string.
    pub query: Option<&'a str>,
}

fn loopback_hosts(port: u16) -> Vec<String> {
    let mut v = vec![
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ];
    if port == 80 {
        v.extend(["localhost".into(), "127.0.0.1".into(), "[::1]".into()]);
    }
    v
}

/// The hosts the admin API answers to.
pub fn allowed_hosts(a: &Admin) -> Vec<String> {
    let mut v = loopback_hosts(a.port);
    if let Some(h) = a.provider.issuer.host() {
        v.push(h.to_ascii_lowercase());
    }
    v
}

/// The origins allowed to call the admin API from a browser.
pub fn allowed_origins(a: &Admin) -> Vec<String> {
    let mut v: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .map(|h| format!("http://{h}:{}", a.port))
        .collect();
    if let Ok(u) = url::Url::parse(&a.provider.issuer.id) {
        v.push(u.origin().ascii_serialization().to_ascii_lowercase());
    }
    v.extend(SHELL_ORIGINS.iter().map(|s| s.to_string()));
    v
}

fn forbidden(message: String) -> AdminError {
    AdminError::new(ErrorKind::Forbidden, "forbidden", message)
}

/// The token a request presents: Bearer header, cookie, or `access_token` query parameter.
fn presented<'a>(i: &GuardInput<'a>) -> Option<String> {
    if let Some(auth) = i.authorization {
        let (scheme, rest) = auth.trim().split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(rest.trim().to_string());
        }
    }
    if let Some(cookies) = i.cookie {
        for c in cookies.split(';') {
            if let Some((k, v)) = c.trim().split_once('=')
                && k == COOKIE
            {
                return Some(v.to_string());
            }
        }
    }
    let q = i.query?;
    let form = crate::oauth::form::Form::parse(q.as_bytes()).ok()?;
    form.pairs()
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.clone())
}

/// Checks a request to `/admin/...`.
pub fn check(a: &Admin, i: &GuardInput<'_>) -> Result<(), AdminError> {
    let host = i.host.map(str::to_ascii_lowercase);
    match host {
        None => {
            return Err(forbidden(
                "DNS rebinding protection: the request has no Host header".into(),
            ));
        }
        Some(h) if !allowed_hosts(a).contains(&h) => {
            return Err(forbidden(format!(
                "DNS rebinding protection: Host `{h}` is not allowed; use {} or the issuer's host",
                a.provider.issuer.url("/admin/")
            )));
        }
        Some(_) => {}
    }
    if let Some(origin) = i.origin {
        let o = origin.trim().to_ascii_lowercase();
        if !allowed_origins(a).contains(&o) {
            return Err(forbidden(format!(
                "cross-origin request refused: Origin `{origin}` is not this server's own origin; the admin API \
                 only answers pages served by Latchkey itself (or its desktop app)"
            )));
        }
    }
    if let Some(expected) = &a.token {
        let ok = presented(i).is_some_and(|t| secrets_match(&t, expected));
        if !ok {
            return Err(AdminError::new(
                ErrorKind::Unauthorized,
                "unauthorized",
                "the admin API requires the admin token (--admin-token): send `Authorization: Bearer <token>` \
                 (or the `latchkey_admin` cookie, or `?access_token=` for EventSource)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::Clock;
    use crate::events::EventBus;
    use crate::keys::Keys;
    use crate::model::{Settings, SigningAlg};
    use crate::provider::{Issuer, Provider};
    use crate::store::{DbLocation, Store};

    async fn admin(token: Option<&str>) -> Admin {
        let store = Store::open(&DbLocation::Memory).await.unwrap();
        let keys = Keys::load(&store, SigningAlg::ES256, 0, 60).await.unwrap();
        let p = Provider::new(
            Issuer::parse("http://localhost:8000").unwrap(),
            store,
            keys,
            Clock::fixed(0),
            EventBus::new(),
            Settings::default(),
        )
        .await
        .unwrap();
        Admin::new(Arc::new(p), token.map(str::to_string), 8000)
    }

    fn input<'a>(host: &'a str, origin: Option<&'a str>) -> GuardInput<'a> {
        GuardInput {
            host: Some(host),
            origin,
            ..GuardInput::default()
        }
    }

    #[tokio::test]
    async fn hosts_and_origins() {
        let a = admin(None).await;
        assert!(check(&a, &input("localhost:8000", None)).is_ok());
        assert!(check(&a, &input("127.0.0.1:8000", Some("http://127.0.0.1:8000"))).is_ok());
        assert!(check(&a, &input("[::1]:8000", Some("tauri://localhost"))).is_ok());
        assert!(check(&a, &input("LOCALHOST:8000", Some("http://localhost:8000"))).is_ok());
        let e = check(&a, &input("evil.example", None)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(e.message.contains("DNS rebinding"), "{}", e.message);
        assert!(check(&a, &input("localhost:9999", None)).is_err());
        let e = check(&a, &input("localhost:8000", Some("http://evil.example"))).unwrap_err();
        assert!(e.message.contains("http://evil.example"), "{}", e.message);
        assert!(check(&a, &input("localhost:8000", Some("null"))).is_err());
        assert!(check(&a, &GuardInput::default()).is_err());
    }

    #[tokio::test]
    async fn the_admin_token_is_required_when_set() {
        let a = admin(Some("t0ken")).await;
        let mut i = input("localhost:8000", None);
        assert_eq!(check(&a, &i).unwrap_err().kind, ErrorKind::Unauthorized);
        i.authorization = Some("Bearer wrong");
        assert!(check(&a, &i).is_err());
        i.authorization = Some("bearer t0ken");
        assert!(check(&a, &i).is_ok());
        i.authorization = None;
        i.cookie = Some("a=b; latchkey_admin=t0ken");
        assert!(check(&a, &i).is_ok());
        i.cookie = None;
        i.query = Some("access_token=t0ken");
        assert!(check(&a, &i).is_ok());
    }
}
