//! The one place protocol errors become HTTP responses (RFC 6749 §5.2, RFC 6750 §3).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

/// Quotes a value for an auth-param (RFC 9110 §11.2 quoted-string).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        let body = json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        });
        let mut resp = no_store((status, Json(body)).into_response());
        let challenge = match self.code {
            // RFC 6749 §5.2: a 401 for invalid_client carries a challenge of the scheme the
            // client used; HTTP requires one on every 401, so Basic is offered otherwise.
            ErrorCode::InvalidClient => Some("Basic realm=\"latchkey\"".to_string()),
            // RFC 6750 §3.
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => Some(format!(
                "Bearer realm=\"latchkey\", error={}, error_description={}",
                quoted(self.code.as_str()),
                quoted(&self.description)
            )),
            _ => None,
        };
        if let Some(c) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
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
