//! The `request` row: where the token is and whether the request carries it correctly
//! (RFC 6750 §2). One method only (§2: "Clients MUST NOT use more than one method"); the
//! `Authorization` header with the `Bearer` scheme and a b64token (§2.1); a form body only on
//! a method with body semantics, never GET (§2.2); the query only when the policy allows it
//! (§2.3 says it SHOULD NOT be used; the `lenient` profile and `bearer_methods` turn it on).

use serde_json::{Value, json};

use super::BearerInput;
use super::profiles::Policy;
use super::verdict::{Check, CheckName};
use crate::model::BearerMethod;

/// A refused request: the row, and whether it simply had no token (401 without an error code,
/// §3.1) rather than a malformed one (400 `invalid_request`).
#[derive(Debug, Clone)]
pub struct Refused {
    /// The failed `request` row.
    pub row: Check,
    /// True: no usable credentials at all.
    pub no_token: bool,
}

pub use crate::oauth::bearer::is_b64token;

fn methods_json(p: &Policy) -> Value {
    json!(p.bearer_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>())
}

fn malformed(p: &Policy, actual: Value, explanation: impl Into<String>, fix: impl Into<String>) -> Box<Refused> {
    Box::new(Refused {
        row: Check::failed(CheckName::Request, methods_json(p), actual, explanation, fix),
        no_token: false,
    })
}

fn missing(p: &Policy, actual: Value, explanation: impl Into<String>, fix: impl Into<String>) -> Box<Refused> {
    Box::new(Refused {
        row: Check::failed(CheckName::Request, methods_json(p), actual, explanation, fix),
        no_token: true,
    })
}

/// Where a token was found.
enum Found {
    Header(String),
    Body(String),
    Query(String),
}

impl Found {
    fn method(&self) -> BearerMethod {
        match self {
            Found::Header(_) => BearerMethod::Header,
            Found::Body(_) => BearerMethod::Body,
            Found::Query(_) => BearerMethod::Query,
        }
    }

    fn place(&self) -> &'static str {
        match self {
            Found::Header(_) => "header",
            Found::Body(_) => "body",
            Found::Query(_) => "query",
        }
    }
}

/// The `request` row and the token, or the refusal.
pub fn request_row(p: &Policy, input: &BearerInput, method: &str) -> Result<(Check, String), Box<Refused>> {
    if input.authorization.len() > 1 {
        return Err(malformed(
            p,
            json!({"authorization_headers": input.authorization.len()}),
            format!(
                "the request has {} Authorization headers; an API reads one",
                input.authorization.len()
            ),
            "send a single Authorization: Bearer <token> header",
        ));
    }
    let mut found: Vec<Found> = Vec::new();
    let mut other_scheme: Option<String> = None;
    if let Some(raw) = input.authorization.first() {
        let Ok(value) = std::str::from_utf8(raw) else {
            return Err(malformed(
                p,
                json!({"authorization": "not valid UTF-8"}),
                "the Authorization header is not valid text",
                "send Authorization: Bearer <token> with the token as ASCII",
            ));
        };
        let trimmed = value.trim();
        // The scheme ends at the first white space (RFC 9110 §11.4 allows only spaces there,
        // RFC 6750 §2.1: `Bearer 1*SP b64token`); a tab is told apart, never read as part of
        // the scheme (which would put the token itself into the verdict).
        let (scheme, sep, rest) = match trimmed.find([' ', '\t']) {
            Some(i) => (&trimmed[..i], trimmed[i..].chars().next(), &trimmed[i + 1..]),
            None => (trimmed, None, ""),
        };
        // RFC 9449 §7.1: `Authorization: DPoP <token>`, read the same way, for an API that
        // checks DPoP (its `dpop` row judges the proof).
        if scheme.eq_ignore_ascii_case("bearer") || (p.dpop && scheme.eq_ignore_ascii_case("dpop")) {
            if sep == Some('\t') {
                return Err(malformed(
                    p,
                    json!({"authorization": "Bearer<TAB><token>"}),
                    "the Authorization header separates Bearer and the token with a tab; RFC 6750 §2.1 wants a space",
                    "send `Authorization: Bearer <token>` with one space after Bearer",
                ));
            }
            let token = rest.trim_matches(' ');
            if token.is_empty() {
                return Err(malformed(
                    p,
                    json!({"authorization": "Bearer"}),
                    "the Authorization header says Bearer but carries no token",
                    "put the access token after `Bearer ` (RFC 6750 §2.1)",
                ));
            }
            if !is_b64token(token) {
                return Err(malformed(
                    p,
                    json!({"authorization": "Bearer <not a b64token>"}),
                    "the Bearer credentials contain characters a token cannot have (spaces, quotes, commas?); \
                     RFC 6750 §2.1 allows letters, digits and - . _ ~ + / then = padding",
                    "send the token exactly as issued, with no quotes or extra words",
                ));
            }
            found.push(Found::Header(token.to_string()));
        } else {
            // Only the scheme's name, bounded: never the credentials after it.
            other_scheme = Some(scheme.chars().take(32).collect());
        }
    }
    if input.body_tokens.len() > 1 || input.query_tokens.len() > 1 {
        return Err(malformed(
            p,
            json!({"body_access_tokens": input.body_tokens.len(), "query_access_tokens": input.query_tokens.len()}),
            "access_token is repeated",
            "send the token once",
        ));
    }
    if let Some(t) = input.body_tokens.first() {
        found.push(Found::Body(t.clone()));
    }
    if let Some(t) = input.query_tokens.first() {
        found.push(Found::Query(t.clone()));
    }
    let allows = |m: BearerMethod| p.bearer_methods.contains(&m);
    // A place the API does not read is invisible to it (an `access_token` left in the query
    // of a call that also sends the header is ignored, as a real API would); it only counts
    // when it is the one place the token is.
    let mut ignored: Vec<&'static str> = Vec::new();
    if found.iter().any(|f| allows(f.method())) {
        found.retain(|f| {
            let read = allows(f.method());
            if !read {
                ignored.push(f.place());
            }
            read
        });
    }
    if found.len() > 1 {
        let places: Vec<&str> = found.iter().map(Found::place).collect();
        return Err(malformed(
            p,
            json!({"token_in": places}),
            format!(
                "the token was sent in more than one place ({}); RFC 6750 §2 allows one method per request",
                places.join(" and ")
            ),
            "send the token only in the Authorization header",
        ));
    }
    let passed = |place: &str, explanation: &str| {
        let mut explanation = explanation.to_string();
        for other in &ignored {
            explanation.push_str(&format!(
                "; the access_token in the {other} was ignored: this API does not read it there"
            ));
        }
        Check::passed(CheckName::Request, methods_json(p), json!(place), explanation)
    };
    match found.pop() {
        None => {
            let (actual, explanation) = match other_scheme {
                Some(s) => (
                    json!({"authorization": format!("{s} ...")}),
                    format!("the Authorization header uses the {s} scheme; this API expects Bearer"),
                ),
                None if input.body_unread => (
                    json!({"form_body": "not read"}),
                    format!(
                        "no access token in the Authorization header or the query, and the form body was not searched: \
                         it is larger than {} KiB or its length was not announced (Content-Length)",
                        super::FORM_BODY_READ / 1024
                    ),
                ),
                None => (json!(null), "the request carries no access token".to_string()),
            };
            Err(missing(
                p,
                actual,
                explanation,
                "send Authorization: Bearer <access token> (RFC 6750 §2.1)",
            ))
        }
        Some(Found::Header(t)) => {
            if !allows(BearerMethod::Header) {
                return Err(missing(
                    p,
                    json!("header"),
                    "the token is in the Authorization header, which this API does not read",
                    "send the token where the API reads it (bearer_methods)",
                ));
            }
            let dpop = input
                .authorization
                .first()
                .is_some_and(|r| r.len() > 5 && r[..5].eq_ignore_ascii_case(b"dpop "));
            let explanation = if dpop {
                "one token in the Authorization header with the DPoP scheme (RFC 9449 §7.1; the dpop row judges the proof)"
            } else {
                "one Bearer token in the Authorization header (RFC 6750 §2.1)"
            };
            Ok((passed("header", explanation), t))
        }
        Some(Found::Body(t)) => {
            if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
                return Err(malformed(
                    p,
                    json!("body"),
                    format!("the token is in the body of a {method} request; RFC 6750 §2.2 forbids it on GET"),
                    "send the token in the Authorization header",
                ));
            }
            if !allows(BearerMethod::Body) {
                return Err(missing(
                    p,
                    json!("body"),
                    "the token is in the form body, which this API does not read",
                    "send the token in the Authorization header",
                ));
            }
            Ok((
                passed(
                    "body",
                    "one access_token in an application/x-www-form-urlencoded body (RFC 6750 §2.2)",
                ),
                t,
            ))
        }
        Some(Found::Query(t)) => {
            if !allows(BearerMethod::Query) {
                return Err(missing(
                    p,
                    json!("query"),
                    "the token is in the query string, which this API does not read (RFC 6750 §2.3: SHOULD NOT be used; \
                     it ends up in logs and browser history)",
                    "send the token in the Authorization header, or add \"query\" to the resource's bearer_methods",
                ));
            }
            Ok((
                passed(
                    "query",
                    "one access_token in the query string (RFC 6750 §2.3; allowed by this API)",
                ),
                t,
            ))
        }
    }
}
