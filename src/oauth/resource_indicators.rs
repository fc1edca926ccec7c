//! Resource indicators (RFC 8707): the `resource` parameter at the authorization and token
//! endpoints names the protected resource(s) an access token is for, and the token's `aud`
//! becomes exactly those.
//!
//! Rules (docs/architecture.md, "Resource indicators"):
//! - each value is an absolute URI without a fragment (§2), compared byte for byte; several may
//!   be sent (at most [`MAX_RESOURCES`]); otherwise `invalid_target`;
//! - a client may target ([`allowed`]) its own `audiences` (its client id when it has none),
//!   and either its `allowed_resources` when it lists any, or else every `[[resources]]` entry
//!   by its identifier (`{issuer}/resources/{name}`) and its `audience` values; anything else is
//!   `invalid_target`;
//! - a grant remembers the resources it was authorized for (the authorization request's, kept
//!   with the code and the refresh token); a later token request may name a subset of them
//!   (narrowing, §2.2), never another one ([`narrow`]). A grant authorized without `resource`
//!   may name any resource the client may target.
//!
//! Token exchange (RFC 8693 §2.1) checks its `resource` values with the same [`check_uri`] and
//! its targets against the same [`allowed`] list (unless the client's exchange policy lists
//! its own audiences).

use serde_json::Value;

use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use crate::model::Client;
use crate::provider::Provider;

/// The parameter's name (RFC 8707 §2).
pub const PARAM: &str = "resource";
/// Most `resource` values one request may carry.
pub const MAX_RESOURCES: usize = 16;
/// Where a grant keeps its authorized resources, in the code's and refresh token's claims.
pub const CLAIM: &str = "resource";

fn target(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, description)
}

/// Checks one `resource` value: an absolute URI (RFC 3986 §4.3) without a fragment and without
/// whitespace or control characters (RFC 8707 §2). Errors: `invalid_target`.
pub fn check_uri(v: &str) -> Result<(), OAuthError> {
    let shown: String = v.chars().take(200).collect();
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(target(format!(
            "resource `{shown}` contains whitespace or control characters; it must be an absolute URI (RFC 8707 §2)"
        )));
    }
    match url::Url::parse(v) {
        Err(_) => Err(target(format!(
            "resource `{shown}` is not an absolute URI (RFC 8707 §2: an absolute URI such as https://api.example.com/, \
             not a logical name)"
        ))),
        Ok(u) if u.fragment().is_some() || v.contains('#') => Err(target(format!(
            "resource `{shown}` has a fragment; RFC 8707 §2 forbids one"
        ))),
        Ok(_) => Ok(()),
    }
}

/// The `resource` values of a request, in order, duplicates dropped; empty values count as
/// omitted (RFC 6749 §3.1). Errors: `invalid_target` for a value that is not an absolute URI
/// without a fragment, or more than [`MAX_RESOURCES`] values.
pub fn requested(form: &Form) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for (k, v) in form.pairs() {
        if k != PARAM || v.is_empty() {
            continue;
        }
        check_uri(v)?;
        if !out.contains(v) {
            out.push(v.clone());
        }
        if out.len() > MAX_RESOURCES {
            return Err(target(format!(
                "more than {MAX_RESOURCES} resource values; ask for fewer resources per token"
            )));
        }
    }
    Ok(out)
}

/// What `client` may target with `resource` (or token exchange's `audience`): its own
/// audiences (its client id when it registered none), plus its `allowed_resources` when it
/// lists any, else every registered resource's identifier and `audience` values.
pub fn allowed(p: &Provider, client: &Client) -> Vec<String> {
    let mut out = crate::oauth::issue::audience_of(client);
    if client.allowed_resources.is_empty() {
        for r in p.resources() {
            out.push(crate::resources::server::identifier(&p.issuer, &r.name));
            out.extend(r.audience.values().iter().cloned());
        }
    } else {
        out.extend(client.allowed_resources.iter().cloned());
    }
    out.dedup();
    out
}

/// The refusal of `value` (named by `param`), listing what the client may target.
pub fn not_allowed(client: &Client, param: &str, value: &str, allowed: &[String]) -> OAuthError {
    target(format!(
        "client `{}` may not obtain tokens for {param} `{value}`; it may target: {}{}",
        client.client_id,
        allowed.join(", "),
        if client.allowed_resources.is_empty() {
            " (its audiences and the registered resources; list others in its allowed_resources)"
        } else {
            " (its audiences and its allowed_resources)"
        }
    ))
}

/// The request's `resource` values, each checked against [`allowed`]. Errors:
/// `invalid_target` (RFC 8707 §2).
pub fn for_client(p: &Provider, client: &Client, form: &Form) -> Result<Vec<String>, OAuthError> {
    let wanted = requested(form)?;
    if wanted.is_empty() {
        return Ok(wanted);
    }
    let ok = allowed(p, client);
    if let Some(bad) = wanted.iter().find(|w| !ok.contains(w)) {
        return Err(not_allowed(client, PARAM, bad, &ok));
    }
    Ok(wanted)
}

/// A token request on an existing grant (authorization code, refresh token): the request's
/// `resource` values must be among the grant's (`granted`; RFC 8707 §2.2: narrowing only), or,
/// when the grant named none, among what the client may target. Returns the access token's
/// resources (the request's, or the grant's when the request names none; empty: the client's
/// default audience). Errors: `invalid_target`.
pub fn narrow(p: &Provider, client: &Client, form: &Form, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    if granted.is_empty() {
        return for_client(p, client, form);
    }
    let wanted = requested(form)?;
    if wanted.is_empty() {
        return Ok(granted.to_vec());
    }
    if let Some(bad) = wanted.iter().find(|w| !granted.contains(w)) {
        return Err(target(format!(
            "resource `{bad}` was not part of the authorization this grant came from ({}); a token request may \
             only narrow the resources, never add one (RFC 8707 §2.2)",
            granted.join(", ")
        )));
    }
    Ok(wanted)
}

/// The resources a code or refresh token was authorized for (its [`CLAIM`] claim).
pub fn of_claims(claims: &Value) -> Vec<String> {
    claims
        .get(CLAIM)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_must_be_absolute_uris_without_fragments() {
        assert!(check_uri("https://api.example.com/v1").is_ok());
        assert!(check_uri("urn:example:books").is_ok());
        for bad in [
            "books-api",
            "/resources/books",
            "https://api.example.com/#x",
            "https://api.example.com/#",
            "https://api .example.com/",
        ] {
            assert_eq!(check_uri(bad).unwrap_err().code, ErrorCode::InvalidTarget, "{bad}");
        }
    }

    #[test]
    fn several_resources_are_kept_in_order_without_duplicates() {
        let f = Form::from_pairs([
            ("resource", "https://b.example/"),
            ("resource", "https://a.example/"),
            ("resource", "https://b.example/"),
            ("resource", ""),
        ]);
        assert_eq!(requested(&f).unwrap(), vec!["https://b.example/", "https://a.example/"]);
        let many: Vec<(String, String)> = (0..=MAX_RESOURCES)
            .map(|i| ("resource".to_string(), format!("https://r{i}.example/")))
            .collect();
        assert_eq!(
            requested(&Form::from_pairs(many)).unwrap_err().code,
            ErrorCode::InvalidTarget
        );
    }

    #[test]
    fn claims_round_trip() {
        let v = serde_json::json!({ "resource": ["https://a/", "https://b/"] });
        assert_eq!(of_claims(&v), vec!["https://a/", "https://b/"]);
        assert!(of_claims(&serde_json::json!({})).is_empty());
    }
}
