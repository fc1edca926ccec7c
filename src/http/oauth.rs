//! Protocol endpoint handlers: extract, make one call into `crate::oauth`, convert.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::no_store;
use super::extract::OAuthForm;
use crate::oauth::assertion::AssertionSeen;
use crate::oauth::authorize::pushed::{self, PushMark};
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::dpop::{self, DpopSeen};
use crate::oauth::{discovery, introspect, revoke, token};
use crate::provider::Provider;

/// Shared state of the protocol routes.
pub type AppState = Arc<Provider>;

fn basic(headers: &HeaderMap) -> BasicAuth {
    BasicAuth::parse(headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes))
}

/// Attaches the report of the assertion the request carried, for the request log.
pub(super) fn with_assertion(mut resp: Response, seen: &AssertionSeen) -> Response {
    if let Some(r) = seen.take() {
        resp.extensions_mut().insert(r);
    }
    resp
}

/// Every `DPoP` header value of a request (RFC 9449 §4.1).
pub(super) fn dpop_headers(headers: &HeaderMap) -> Vec<&[u8]> {
    headers.get_all("dpop").iter().map(HeaderValue::as_bytes).collect()
}

/// Attaches the report of the DPoP proof the request carried (for the request log) and, when
/// the server requires nonces, the current one as `DPoP-Nonce` (RFC 9449 §8.2).
pub(super) fn with_dpop(p: &Provider, mut resp: Response, seen: &DpopSeen) -> Response {
    if let Some(r) = seen.take() {
        resp.extensions_mut().insert(r);
    }
    if !resp.headers().contains_key(super::error::DPOP_NONCE)
        && let Some(n) = dpop::fresh_nonce(p).and_then(|n| HeaderValue::from_str(&n).ok())
    {
        resp.headers_mut().insert(super::error::DPOP_NONCE, n);
    }
    resp
}

/// Token endpoint (RFC 6749 §3.2; grants: §4.1.3 authorization code, §4.3 password, §4.4 client
/// credentials, §6 refresh, RFC 7523 §2.1 JWT bearer), with DPoP proofs (RFC 9449 §5).
pub async fn token(State(p): State<AppState>, headers: HeaderMap, OAuthForm(form): OAuthForm) -> Response {
    let seen = AssertionSeen::default();
    let dpop_seen = DpopSeen::default();
    let proofs = dpop_headers(&headers);
    let proof = dpop::ProofRequest {
        proofs: &proofs,
        method: "POST",
        path: crate::oauth::paths::TOKEN,
    };
    let result = token::exchange_dpop(&p, &basic(&headers), &form, &seen, &proof, &dpop_seen).await;
    let resp = match result {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => e.into_response(),
    };
    with_dpop(&p, with_assertion(resp, &seen), &dpop_seen)
}

/// Pushed authorization request endpoint (RFC 9126 §2): 201 Created with `request_uri` and
/// `expires_in`, or an RFC 6749 §5.2 error. The response carries a [`PushMark`] so the request
/// log links the push to the authorization request that uses it. (DPoP, RFC 9449 §10.1: a
/// `DPoP` header's proof is validated here and its key's thumbprint passed to `push_with`.)
pub async fn par(State(p): State<AppState>, headers: HeaderMap, OAuthForm(form): OAuthForm) -> Response {
    let seen = AssertionSeen::default();
    let dpop_seen = DpopSeen::default();
    let proofs = dpop_headers(&headers);
    let proof = dpop::ProofRequest {
        proofs: &proofs,
        method: "POST",
        path: crate::oauth::paths::PAR,
    };
    let result = async {
        let jkt = dpop::at_par_endpoint(&p, &proof, form.get("dpop_jkt")?, &dpop_seen)?;
        pushed::push_with(&p, &basic(&headers), &form, &seen, jkt.as_deref()).await
    };
    let resp = match result.await {
        Ok(r) => {
            let mark = Arc::new(PushMark {
                request_uri: r.request_uri.clone(),
                pushed: true,
            });
            let mut resp = no_store((StatusCode::CREATED, Json(r)).into_response());
            resp.extensions_mut().insert(mark);
            resp
        }
        Err(e) => e.into_response(),
    };
    with_dpop(&p, with_assertion(resp, &seen), &dpop_seen)
}

/// Introspection endpoint (RFC 7662 §2).
pub async fn introspect(State(p): State<AppState>, headers: HeaderMap, OAuthForm(form): OAuthForm) -> Response {
    let seen = AssertionSeen::default();
    let result = introspect::introspect_seen(&p, &basic(&headers), &form, &seen).await;
    let resp = match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    };
    with_assertion(resp, &seen)
}

/// Revocation endpoint (RFC 7009 §2).
pub async fn revoke(State(p): State<AppState>, headers: HeaderMap, OAuthForm(form): OAuthForm) -> Response {
    let seen = AssertionSeen::default();
    let result = revoke::revoke_seen(&p, &basic(&headers), &form, &seen).await;
    let resp = match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    };
    with_assertion(resp, &seen)
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
/// A request whose `Host` (or HTTP/2 `:authority`) is the configured back channel's gets the
/// back-channel document; any other host the front-channel one.
pub async fn discovery(State(p): State<AppState>, uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let back = p.back_channel().filter(|_| p.is_back_channel_host(host));
    let body = p.discovery_cached(back.is_some(), || {
        let doc = match &back {
            Some(b) => discovery::back_channel_document(&p, b),
            None => discovery::document(&p),
        };
        Bytes::from(doc.to_string())
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
