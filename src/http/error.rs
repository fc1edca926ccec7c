//! The one place protocol errors become HTTP responses (RFC 6749 §5.2, RFC 6750 §3).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth::bearer::ascii_param;
use crate::oauth::{ErrorCode, OAuthError};

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1, §5.2).
pub fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// The HTTP status for an error.
pub fn status_of(e: &OAuthError) -> StatusCode {
    match e.code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ if e.forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The realm of every challenge Latchkey sends (RFC 6750 §3, RFC 9110 §11.5).
pub const REALM: &str = "latchkey";

/// Builds an RFC 6750 §3 `WWW-Authenticate` challenge for a bearer-protected resource:
///
/// - `Bearer realm="R"` alone when `error` is `None`: the request carried no token, or used
///   another scheme (§3.1: "SHOULD NOT include an error code or other error information");
/// - with `error="invalid_token"` (401), `error="insufficient_scope"` (403, with `scope`
///   naming the scopes required, space-separated) or `error="invalid_request"` (400), and
///   `error_description` when given;
/// - with `resource_metadata="URL"` (RFC 9728 §5.1) when given, so a client can discover the
///   protected resource's metadata; this is added to bare challenges too.
///
/// Every attribute value goes through [`ascii_param`], so any text (a description naming a
/// client id, a `§`) yields a valid header: printable ASCII without `"` or `\`, and the header
/// is byte-for-byte predictable. `description` and `scope` are omitted when `error` is `None`.
/// Used by `/userinfo` and by every protected resource (`/resources/{name}/...`).
pub fn bearer_challenge(
    realm: &str,
    error: Option<&str>,
    description: Option<&str>,
    scope: Option<&str>,
    resource_metadata: Option<&str>,
) -> HeaderValue {
    let mut v = format!("Bearer realm=\"{}\"", ascii_param(realm));
    let mut attr = |name: &str, value: &str| {
        v.push_str(", ");
        v.push_str(name);
        v.push_str("=\"");
        v.push_str(&ascii_param(value));
        v.push('"');
    };
    if let Some(e) = error {
        attr("error", e);
        if let Some(d) = description {
            attr("error_description", d);
        }
        if let Some(s) = scope {
            attr("scope", s);
        }
    }
    if let Some(m) = resource_metadata {
        attr("resource_metadata", m);
    }
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"latchkey\""))
}

/// `DPoP-Nonce` (RFC 9449 §8.1).
pub const DPOP_NONCE: &str = "dpop-nonce";

/// Builds an RFC 9449 §7.1 `WWW-Authenticate: DPoP` challenge: `DPoP realm="R"`, then
/// `error` and `error_description` when `error` is given, then `algs` (the accepted proof
/// algorithms, space-separated) and `resource_metadata` (RFC 9728 §5.1) when given. Values go
/// through [`ascii_param`] like [`bearer_challenge`]'s.
pub fn dpop_challenge(
    realm: &str,
    error: Option<&str>,
    description: Option<&str>,
    resource_metadata: Option<&str>,
) -> HeaderValue {
    let mut v = format!("DPoP realm=\"{}\"", ascii_param(realm));
    let mut attr = |name: &str, value: &str| {
        v.push_str(", ");
        v.push_str(name);
        v.push_str("=\"");
        v.push_str(&ascii_param(value));
        v.push('"');
    };
    if let Some(e) = error {
        attr("error", e);
        if let Some(d) = description {
            attr("error_description", d);
        }
    }
    attr("algs", &crate::oauth::dpop::challenge_algs());
    if let Some(m) = resource_metadata {
        attr("resource_metadata", m);
    }
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("DPoP realm=\"latchkey\""))
}

/// Adds `DPoP-Nonce` when the error carries a nonce (RFC 9449 §8.1, §9).
fn add_dpop_nonce(resp: &mut Response, e: &OAuthError) {
    if let Some(n) = e.dpop_nonce.as_deref().and_then(|n| HeaderValue::from_str(n).ok()) {
        resp.headers_mut().insert(DPOP_NONCE, n);
    }
}

/// The challenge for a protocol error at a bearer-protected endpoint (RFC 6750 §3.1): bare for
/// a request without a token, with the error code otherwise; `None` for errors that are not
/// about the request's authentication (a server error).
pub fn bearer_challenge_for(e: &OAuthError, resource_metadata: Option<&str>) -> Option<HeaderValue> {
    if e.without_credentials {
        return Some(bearer_challenge(REALM, None, None, None, resource_metadata));
    }
    match e.code {
        ErrorCode::InvalidToken | ErrorCode::InvalidRequest => Some(bearer_challenge(
            REALM,
            Some(e.code.as_str()),
            Some(&e.description),
            None,
            resource_metadata,
        )),
        ErrorCode::InsufficientScope => Some(bearer_challenge(
            REALM,
            Some(e.code.as_str()),
            Some(&e.description),
            e.scope.as_deref(),
            resource_metadata,
        )),
        _ => None,
    }
}

/// The response to a failed request at a bearer-protected endpoint (`/userinfo`): the status
/// of [`status_of`] (400, 401 or 403), the JSON error body with the full description, and the
/// challenge of [`bearer_challenge_for`].
pub fn bearer_error(e: OAuthError) -> Response {
    let dpop_error = matches!(e.code, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce);
    let challenge = if e.dpop_challenge || dpop_error {
        Some(dpop_challenge(REALM, Some(e.code.as_str()), Some(&e.description), None))
    } else {
        bearer_challenge_for(&e, None)
    };
    let mut resp = json_error(&e);
    // RFC 9449 §7.1, §9: a refused proof at a resource is a 401 with a DPoP challenge.
    if dpop_error {
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
    }
    add_dpop_nonce(&mut resp, &e);
    if let Some(c) = challenge {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
    }
    resp
}

fn json_error(e: &OAuthError) -> Response {
    let body = json!({
        "error": e.code.as_str(),
        "error_description": e.description,
    });
    no_store((status_of(e), Json(body)).into_response())
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut resp = json_error(&self);
        let challenge = match self.code {
            // RFC 6749 §5.2: a 401 for invalid_client carries a challenge of the scheme the
            // client used; HTTP requires one on every 401, so Basic is offered otherwise.
            ErrorCode::InvalidClient => Some(HeaderValue::from_static("Basic realm=\"latchkey\"")),
            // RFC 6750 §3, wherever such an error comes from.
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => bearer_challenge_for(&self, None),
            _ => None,
        };
        if let Some(c) = challenge {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        // RFC 9449 §8: `use_dpop_nonce` (400 at the token endpoint) carries the nonce to use.
        add_dpop_nonce(&mut resp, &self);
        resp
    }
}

/// A JSON error for HTTP-level failures (unknown path, wrong method, body too large).
pub fn http_error(status: StatusCode, error: &str, description: String) -> Response {
    no_store(
        (
            status,
            Json(json!({
                "error": error,
                "error_description": description,
            })),
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_challenge_has_only_the_realm() {
        assert_eq!(
            bearer_challenge("latchkey", None, Some("ignored"), Some("x"), None),
            "Bearer realm=\"latchkey\""
        );
        assert_eq!(
            bearer_challenge(
                "latchkey",
                None,
                None,
                None,
                Some("http://localhost:8000/.well-known/oauth-protected-resource/resources/books")
            ),
            "Bearer realm=\"latchkey\", resource_metadata=\"http://localhost:8000/.well-known/oauth-protected-resource/resources/books\""
        );
    }

    #[test]
    fn challenges_carry_error_description_and_scope_in_order() {
        assert_eq!(
            bearer_challenge(
                "latchkey",
                Some("insufficient_scope"),
                Some("needs read_books"),
                Some("openid read_books"),
                Some("http://x/m")
            ),
            "Bearer realm=\"latchkey\", error=\"insufficient_scope\", error_description=\"needs read_books\", scope=\"openid read_books\", resource_metadata=\"http://x/m\""
        );
    }

    #[test]
    fn attribute_values_are_faithful_ascii() {
        assert_eq!(ascii_param("see RFC 6750 §2.1"), "see RFC 6750 section 2.1");
        assert_eq!(ascii_param("§3"), "section 3");
        assert_eq!(
            ascii_param("client “café” — naïve → ok…"),
            "client 'cafe' - naive -> ok..."
        );
        assert_eq!(ascii_param("a \"quoted\" back\\slash"), "a 'quoted' back/slash");
        assert_eq!(ascii_param("line\r\nbreak\tand\u{7f}del"), "line break and del");
        assert_eq!(ascii_param("Straße 日本 ok"), "Strasse ok");
        for s in ["§", "日本語", "\u{0}", "\"\\", "x\u{85}y", "emoji 🙂 here"] {
            let out = ascii_param(s);
            assert!(
                out.bytes()
                    .all(|b| b == 0x20 || b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)),
                "{s:?} -> {out:?}"
            );
            assert!(!out.contains('?'), "{out}");
        }
    }

    #[test]
    fn protocol_errors_map_to_their_challenges() {
        let none = OAuthError::no_token("no access token");
        assert_eq!(bearer_challenge_for(&none, None).unwrap(), "Bearer realm=\"latchkey\"");
        let bad = OAuthError::new(ErrorCode::InvalidToken, "expired (RFC 6750 §3.1)");
        assert_eq!(
            bearer_challenge_for(&bad, None).unwrap(),
            "Bearer realm=\"latchkey\", error=\"invalid_token\", error_description=\"expired (RFC 6750 section 3.1)\""
        );
        let scope = OAuthError::insufficient_scope("needs openid", "openid");
        assert_eq!(
            bearer_challenge_for(&scope, None).unwrap(),
            "Bearer realm=\"latchkey\", error=\"insufficient_scope\", error_description=\"needs openid\", scope=\"openid\""
        );
        assert!(bearer_challenge_for(&OAuthError::server("x"), None).is_none());
        assert_eq!(bearer_error(scope).status(), StatusCode::FORBIDDEN);
        assert_eq!(bearer_error(none).status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            bearer_error(OAuthError::invalid_request("both")).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
