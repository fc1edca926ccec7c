//! The resource-server simulator over HTTP: `{issuer}/resources/{name}/{*path}` (any method)
//! answering as RFC 6750 says, and each resource's RFC 9728 metadata. Extract, one call into
//! [`crate::resources`], convert.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{http_error, no_store};
use super::oauth::AppState;
use crate::resources::{self, BearerInput, ChallengePieces, Compiled, Verdict};

/// The response header linking a successful call to its verdict (the admin API's call URL).
pub const VERDICT_HEADER: &str = "latchkey-verdict";

/// The `WWW-Authenticate` value of an RFC 6750 §3 challenge:
/// `Bearer realm="…"[, error="…"][, error_description="…"][, scope="…"][, resource_metadata="…"]`
/// (RFC 9728 §5.1 for `resource_metadata`). `error_description` keeps to the §3 characters.
pub fn bearer_challenge(c: &ChallengePieces) -> String {
    let v = super::error::bearer_challenge(
        &c.realm,
        c.error.map(|e| e.as_str()),
        c.error_description.as_deref(),
        c.scope.as_deref(),
        c.resource_metadata.as_deref(),
    );
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// Fills the verdict's `challenge` for resource `c` (realm: the resource's name): RFC 6750's
/// `Bearer`, or RFC 9449 §7.1's `DPoP` (with `algs`) when the request used the DPoP scheme, the
/// token is DPoP-bound, or the `dpop` row decided.
pub fn fill_challenge(c: &Compiled, v: &mut Verdict) {
    let dpop = v.dpop_challenge;
    v.challenge = v.challenge_pieces(&c.resource.name, Some(&c.metadata_url)).map(|p| {
        if dpop {
            let h = super::error::dpop_challenge(
                &p.realm,
                p.error.map(|e| e.as_str()),
                p.error_description.as_deref(),
                p.resource_metadata.as_deref(),
            );
            String::from_utf8_lossy(h.as_bytes()).into_owned()
        } else {
            bearer_challenge(&p)
        }
    });
}

/// `full` (a request's path) relative to the issuer's path: what a DPoP proof's `htu` names
/// after the issuer's origin.
pub fn issuer_relative(p: &AppState, full: &str) -> String {
    full.strip_prefix(p.issuer.path.as_str()).unwrap_or(full).to_string()
}

/// Whether the request's body is `application/x-www-form-urlencoded` (RFC 6750 §2.2).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

fn access_tokens(raw: &[u8]) -> Vec<String> {
    url::form_urlencoded::parse(raw)
        .filter(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The credentials of a request (RFC 6750 §2): every `Authorization` header, `access_token`
/// in a form body, `access_token` in the query.
pub fn bearer_input(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> BearerInput {
    BearerInput {
        authorization: headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect(),
        body_tokens: if is_form(headers) {
            access_tokens(body)
        } else {
            Vec::new()
        },
        query_tokens: query.map(|q| access_tokens(q.as_bytes())).unwrap_or_default(),
        body_unread: false,
        dpop_proofs: headers.get_all("dpop").iter().map(|v| v.as_bytes().to_vec()).collect(),
        request_path: String::new(),
    }
}

/// The path relative to the resource, as sent: what follows `{issuer path}/resources/{name}`,
/// whatever the name's percent-encoding (the router has already decoded it to find the
/// resource).
fn relative_path(full: &str, issuer_path: &str) -> String {
    let rest = full
        .strip_prefix(issuer_path)
        .and_then(resources::split_resource_path)
        .map_or("", |(_, rest)| rest);
    if rest.is_empty() {
        "/".to_string()
    } else {
        rest.to_string()
    }
}

fn unknown(p: &AppState, name: &str) -> Response {
    let mut known: Vec<String> = p
        .resource_server
        .all()
        .iter()
        .map(|c| c.resource.name.clone())
        .collect();
    known.sort();
    http_error(
        StatusCode::NOT_FOUND,
        "not_found",
        if known.is_empty() {
            format!("no resource `{name}`; define one in [[resources]] or at /admin/api/resources")
        } else {
            format!("no resource `{name}`; the resources are: {}", known.join(", "))
        },
    )
}

/// Turns a verdict into the API's answer: 200 with the resource's response, or the RFC 6750
/// status with the challenge and the verdict as JSON; both with a `Latchkey-Verdict` header
/// linking to the recorded call (`call_id`) in the admin API.
pub fn respond(p: &AppState, c: &Compiled, verdict: Arc<Verdict>, call_id: i64) -> Response {
    let mut resp = if verdict.allowed {
        (StatusCode::OK, Json(resources::success_body(c, &verdict))).into_response()
    } else {
        let status = StatusCode::from_u16(verdict.status).unwrap_or(StatusCode::UNAUTHORIZED);
        let mut r = (status, Json(&*verdict)).into_response();
        if let Some(v) = verdict.challenge.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    let link = p
        .issuer
        .url(&format!("/admin/api/resources/{}/calls/{call_id}", c.resource.name));
    if let Ok(v) = HeaderValue::from_str(&link) {
        resp.headers_mut().insert(VERDICT_HEADER, v);
    }
    // RFC 9449 §9: the nonce a DPoP client uses next (always sent while nonces are required).
    if let Some(n) = verdict
        .dpop_nonce
        .as_deref()
        .and_then(|n| HeaderValue::from_str(n).ok())
    {
        resp.headers_mut().insert(super::error::DPOP_NONCE, n);
    }
    if let Some(r) = verdict.dpop_report.clone() {
        resp.extensions_mut().insert(r);
    }
    resp.extensions_mut().insert(verdict);
    no_store(resp)
}

/// `{issuer}/resources/{name}[/{*path}]`, any method: the simulated protected API.
pub async fn call(
    State(p): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = params.first().map(|(_, v)| v.as_str()).unwrap_or("");
    let Some(c) = p.resource_server.get(name) else {
        return unknown(&p, name);
    };
    let path = relative_path(uri.path(), &p.issuer.path);
    let mut input = bearer_input(&headers, uri.query(), &body);
    input.request_path = issuer_relative(&p, uri.path());
    let mut verdict = resources::evaluate(&p, &c, &input, method.as_str(), &path).await;
    fill_challenge(&c, &mut verdict);
    let verdict = Arc::new(verdict);
    let call = p.resource_server.record(&p, verdict.clone());
    respond(&p, &c, verdict, call.id)
}

/// RFC 9728 §3: the resource's metadata at the location §3.1 derives from its identifier.
pub async fn metadata(State(p): State<AppState>, Path(name): Path<String>) -> Response {
    let Some(c) = p.resource_server.get(&name) else {
        return unknown(&p, &name);
    };
    let mut resp = Json(resources::metadata::document(&p, &c)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

/// CORS for the resources (Fetch standard): the origins of registered redirect URIs, any
/// method, `Authorization` and `DPoP` allowed, and `WWW-Authenticate`, `DPoP-Nonce` and
/// `Latchkey-Verdict` exposed so a browser app can read the challenge, the nonce and the
/// verdict link. Preflights are answered here.
pub async fn cors(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let policy = super::cors::Policy {
        public: false,
        methods: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        expose: "WWW-Authenticate, DPoP-Nonce, Latchkey-Verdict",
    };
    super::cors::apply(&p, policy, req, next).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::BearerError;

    #[test]
    fn challenges_are_ascii_and_ordered() {
        let c = ChallengePieces {
            realm: "books".into(),
            error: Some(BearerError::InsufficientScope),
            error_description: Some("needs \"add_books\" — ok".into()),
            scope: Some("read_books add_books".into()),
            resource_metadata: Some(
                "http://localhost:8000/.well-known/oauth-protected-resource/resources/books".into(),
            ),
        };
        assert_eq!(
            bearer_challenge(&c),
            "Bearer realm=\"books\", error=\"insufficient_scope\", error_description=\"needs 'add_books' - ok\", \
             scope=\"read_books add_books\", resource_metadata=\"http://localhost:8000/.well-known/oauth-protected-resource/resources/books\""
        );
        assert_eq!(relative_path("/realms/dev/resources/books/a/b", "/realms/dev"), "/a/b");
        assert_eq!(relative_path("/resources/%62ooks/books/1", ""), "/books/1");
        assert_eq!(relative_path("/resources/books", ""), "/");
    }
}
