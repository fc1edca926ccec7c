//! Handlers of the device authorization grant's endpoints (RFC 8628): the device authorization
//! endpoint and the verification page at `/device`. Each extracts, makes one call into
//! `crate::oauth::device`, and renders.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::device_pages;
use super::error::no_store;
use super::extract::{OAuthForm, PageForm};
use super::oauth::AppState;
use super::oidc::{cookie, query_form, session_cookie, set_cookie};
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::device::authorization;
use crate::oauth::device::verification::{self, DeviceBrowser, DeviceInput};
use crate::oauth::paths;
use crate::provider::Provider;

/// The per-browser cookie of the verification page (see [`verification`]).
pub const DEVICE_COOKIE: &str = "latchkey_device";
/// Its lifetime, seconds.
const DEVICE_COOKIE_TTL: i64 = 86_400;

/// Device authorization endpoint (RFC 8628 §3.1, §3.2).
pub async fn device_authorization(
    State(p): State<AppState>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm,
) -> Response {
    let basic = BasicAuth::parse(headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes));
    let seen = crate::oauth::assertion::AssertionSeen::default();
    let resp = match authorization::device_authorization_seen(&p, &basic, &form, &seen).await {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => e.into_response(),
    };
    super::oauth::with_assertion(resp, &seen)
}

/// The browser's `latchkey_device` cookie, if it has the shape Latchkey gives it.
fn device_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, DEVICE_COOKIE)
        .filter(|v| v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn set_device_cookie(p: &Provider, resp: &mut Response, value: &str) {
    let secure = if p.issuer.id.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let v = format!(
        "{DEVICE_COOKIE}={value}; Path={}{}; Max-Age={DEVICE_COOKIE_TTL}; HttpOnly; SameSite=Lax{secure}",
        p.issuer.path,
        paths::DEVICE
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The verification page, GET (RFC 8628 §3.3; `?user_code=` from `verification_uri_complete`).
/// A browser without the page's cookie gets one.
pub async fn device_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let input = match query_form(q).and_then(|f| DeviceInput::from_form(&f)) {
        Ok(i) => i,
        Err(e) => return super::pages::error("Invalid request", &e.description),
    };
    let existing = device_cookie(&headers);
    let key = existing.clone().unwrap_or_else(crate::ids::opaque_token);
    let session = session_cookie(&headers);
    let browser = DeviceBrowser {
        device: Some(&key),
        session: session.as_deref(),
    };
    let page = verification::show(&p, input, browser).await;
    let mut resp = device_pages::render(&p, page);
    if existing.is_none() {
        set_device_cookie(&p, &mut resp, &key);
    }
    resp
}

/// The verification page's form target: the code, the sign-in and the decision.
pub async fn device_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    let input = match DeviceInput::from_form(&form) {
        Ok(i) => i,
        Err(e) => return super::pages::error("Invalid request", &e.description),
    };
    let key = device_cookie(&headers);
    let session = session_cookie(&headers);
    let browser = DeviceBrowser {
        device: key.as_deref(),
        session: session.as_deref(),
    };
    let (page, signed_in) = verification::submit(&p, input, browser).await;
    let mut resp = device_pages::render(&p, page);
    if key.is_none() {
        set_device_cookie(&p, &mut resp, &crate::ids::opaque_token());
    }
    if let Some(s) = signed_in {
        set_cookie(&p, &mut resp, &s);
    }
    resp
}
