//! Protocol endpoint handlers: extract, make one call into `crate::oauth`, convert.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::no_store;
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::form::Form;
use crate::oauth::{OAuthError, discovery, introspect, revoke, token};
use crate::provider::Provider;

/// Shared state of the protocol routes.
pub type AppState = Arc<Provider>;

/// Parses an OAuth form body, insisting on `application/x-www-form-urlencoded`
/// (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1).
fn oauth_form(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(if ct.is_empty() {
            "missing Content-Type: the body must be application/x-www-form-urlencoded".to_string()
        } else {
            format!("Content-Type `{ct}` is not accepted: the body must be application/x-www-form-urlencoded")
        }));
    }
    Form::parse(body)
}

fn basic(headers: &HeaderMap) -> BasicAuth {
    BasicAuth::parse(headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes))
}

/// Token endpoint (RFC 6749 §3.2; grants: §4.4 client credentials).
pub async fn token(State(p): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = match oauth_form(&headers, &body) {
        Ok(form) => token::exchange(&p, &basic(&headers), &form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => e.into_response(),
    }
}

/// Introspection endpoint (RFC 7662 §2).
pub async fn introspect(State(p): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = match oauth_form(&headers, &body) {
        Ok(form) => introspect::introspect(&p, &basic(&headers), &form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
}

/// Revocation endpoint (RFC 7009 §2).
pub async fn revoke(State(p): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = match oauth_form(&headers, &body) {
        Ok(form) => revoke::revoke(&p, &basic(&headers), &form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    }
}

/// JWK Set (RFC 7517 §5): every public key that may still verify a live token.
pub async fn jwks(State(p): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        p.keys.jwks_json(),
    )
        .into_response()
}

/// Discovery (OIDC Discovery 1.0 §4, RFC 8414 §3). Cached until scopes or settings change.
pub async fn discovery(State(p): State<AppState>) -> Response {
    let body = p.discovery_cached(|| Bytes::from(discovery::document(&p).to_string()));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
