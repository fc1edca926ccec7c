//! Token exchange (RFC 8693): a client presents a token this server issued (`subject_token`)
//! and gets a new access token for it, for another audience or with fewer scopes
//! (impersonation), or acting on the subject's behalf with its own `actor_token` (delegation:
//! the `act` claim, nested for each earlier actor, §4.1).
//!
//! Policy (RFC 8693 §2.1 leaves it to the server), per client in
//! [`crate::model::TokenExchangePolicy`]. By default a client with the grant may exchange any
//! active token this server issued, of any of the four token types, for the same or narrower
//! scopes, targeting its own `audiences` or any registered resource (its identifier or its
//! logical audiences). The issued token never outlives the subject token.

use serde_json::{Map, Value};

use super::TokenResponse;
use crate::model::{Client, GrantType, TokenExchangePolicy, TokenFormat};
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::issue::{self, AccessTokenRequest};
use crate::oauth::{resource_indicators, scope};
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

/// RFC 8693 §3: an OAuth 2.0 access token.
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3: an OAuth 2.0 refresh token.
pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// RFC 8693 §3: an OpenID Connect ID token.
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// RFC 8693 §3: a JWT (any of this server's JWT access tokens or ID tokens).
pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// The token types accepted as `subject_token_type` and `actor_token_type`.
pub const TOKEN_TYPES: &[&str] = &[ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN, JWT];
/// The token types that can be requested (`requested_token_type`).
pub const ISSUABLE: &[&str] = &[ACCESS_TOKEN, JWT];

fn refuse(d: impl Into<String>) -> OAuthError {
    OAuthError::invalid_request(d)
}

/// Finds the token `value` presented as `which` (`subject_token` or `actor_token`) with the
/// declared type `ty`, and checks it is active on the virtual clock. Every failure is
/// `invalid_request` (RFC 8693 §2.2.2).
async fn resolve(p: &Provider, which: &str, value: &str, ty: &str) -> Result<TokenRecord, OAuthError> {
    if !TOKEN_TYPES.contains(&ty) {
        return Err(refuse(format!(
            "{which}_type `{ty}` is not supported; supported: {}",
            TOKEN_TYPES.join(", ")
        )));
    }
    let rec = p
        .store
        .find_token_by_hash(crate::ids::token_hash(value))
        .await?
        .ok_or_else(|| refuse(format!("{which} is not a token this server issued")))?;
    let kind_ok = match ty {
        ACCESS_TOKEN => rec.kind == TokenKind::AccessToken,
        REFRESH_TOKEN => rec.kind == TokenKind::RefreshToken,
        ID_TOKEN => rec.kind == TokenKind::IdToken,
        _ => rec.format == TokenFormat::Jwt && matches!(rec.kind, TokenKind::AccessToken | TokenKind::IdToken),
    };
    if !kind_ok {
        return Err(refuse(format!(
            "{which} is {} {}{}, not of {which}_type `{ty}`",
            if rec.format == TokenFormat::Jwt {
                "a JWT"
            } else {
                "an opaque"
            },
            rec.kind.as_str(),
            if rec.format == TokenFormat::Jwt {
                ""
            } else {
                " (not a JWT)"
            },
        )));
    }
    let now = p.clock.now();
    match rec.status {
        TokenStatus::Active => {}
        TokenStatus::Revoked => return Err(refuse(format!("{which} was revoked"))),
        TokenStatus::Consumed => return Err(refuse(format!("{which} was used up (rotated or exchanged)"))),
    }
    if rec.expires_at <= now {
        return Err(refuse(format!(
            "{which} expired {} s ago (virtual clock)",
            now - rec.expires_at
        )));
    }
    Ok(rec)
}

/// The audiences `client` may target: its policy's, or what RFC 8707 `resource` may name
/// ([`resource_indicators::allowed`]: its own audiences, and its `allowed_resources` or else
/// every registered resource), so the two grants agree.
fn allowed_targets(p: &Provider, client: &Client, policy: &TokenExchangePolicy) -> Vec<String> {
    if !policy.audiences.is_empty() {
        return policy.audiences.clone();
    }
    resource_indicators::allowed(p, client)
}

/// The requested `audience` and `resource` values (each may repeat, RFC 8693 §2.1), checked
/// against the policy: `invalid_target` (§2.2.2) for one the client may not target. A
/// `resource` is checked as at every other endpoint ([`resource_indicators::check_uri`]).
fn targets(
    p: &Provider,
    client: &Client,
    policy: &TokenExchangePolicy,
    form: &Form,
) -> Result<Vec<String>, OAuthError> {
    let allowed = allowed_targets(p, client, policy);
    let mut out: Vec<String> = Vec::new();
    for (k, v) in form.pairs() {
        if k != "audience" && k != resource_indicators::PARAM {
            continue;
        }
        if v.is_empty() {
            return Err(refuse(format!("`{k}` is empty")));
        }
        if k == resource_indicators::PARAM {
            resource_indicators::check_uri(v)?;
        }
        if !allowed.contains(v) {
            return Err(resource_indicators::not_allowed(client, k, v, &allowed));
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// The `act` claim for a token acting for `subject` with `actor` (RFC 8693 §4.1): the actor's
/// `sub`, with the subject token's own `act` (earlier actors) nested inside.
fn act_claim(subject: &TokenRecord, actor: &TokenRecord) -> Value {
    let mut act = Map::new();
    act.insert("sub".into(), Value::String(actor.subject.clone()));
    if let Some(prior) = subject.claims.get("act") {
        act.insert("act".into(), prior.clone());
    }
    Value::Object(act)
}

/// Handles `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2.1).
/// Errors (RFC 8693 §2.2.2): `invalid_request` for a missing, unknown, inactive or
/// wrong-typed `subject_token` or `actor_token`, an unsupported `requested_token_type`, or a
/// token the policy refuses; `invalid_target` for an `audience` or `resource` the client may
/// not target; `invalid_scope` for scopes wider than the subject token's (RFC 6749 §5.2).
pub async fn exchange(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    let policy = client.token_exchange.clone().unwrap_or_default();
    let subject_token = form.require("subject_token")?;
    let subject_type = form.require("subject_token_type")?;
    let actor_token = form.get("actor_token")?;
    let actor_type = form.get("actor_token_type")?;
    let requested = form.get("requested_token_type")?.unwrap_or(ACCESS_TOKEN);
    if !ISSUABLE.contains(&requested) {
        return Err(refuse(format!(
            "requested_token_type `{requested}` cannot be issued; Latchkey issues {}",
            ISSUABLE.join(" or ")
        )));
    }
    let format = client.access_token_format.unwrap_or(p.settings().access_token_format);
    if requested == JWT && format != TokenFormat::Jwt {
        return Err(refuse(format!(
            "requested_token_type is a JWT, but client `{}` gets opaque access tokens (its access_token_format)",
            client.client_id
        )));
    }
    match (actor_token, actor_type) {
        (Some(_), None) => {
            return Err(refuse("actor_token_type is required with actor_token (RFC 8693 §2.1)"));
        }
        (None, Some(_)) => {
            return Err(refuse(
                "actor_token_type must not be sent without actor_token (RFC 8693 §2.1)",
            ));
        }
        (None, None) if policy.allow_impersonation == Some(false) => {
            return Err(refuse(format!(
                "client `{}` may only exchange with an actor_token (delegation): its token_exchange policy has allow_impersonation = false",
                client.client_id
            )));
        }
        _ => {}
    }
    if !policy.subject_token_types.is_empty() && !policy.subject_token_types.iter().any(|t| t == subject_type) {
        return Err(refuse(format!(
            "client `{}` may not exchange subject tokens of type `{subject_type}`; its policy allows: {}",
            client.client_id,
            policy.subject_token_types.join(", ")
        )));
    }
    let subject = resolve(p, "subject_token", subject_token, subject_type).await?;
    let actor = match (actor_token, actor_type) {
        (Some(t), Some(ty)) => Some(resolve(p, "actor_token", t, ty).await?),
        _ => None,
    };
    // RFC 8693 §4.4: a subject token's `may_act` names who may act for it.
    if let (Some(may), Some(a)) = (subject.claims.get("may_act"), &actor)
        && let Some(allowed) = may.get("sub").and_then(Value::as_str)
        && allowed != a.subject
    {
        return Err(refuse(format!(
            "the subject token's may_act allows `{allowed}` to act for it, not `{}` (RFC 8693 §4.4)",
            a.subject
        )));
    }
    let aud = targets(p, client, &policy, form)?;
    let subject_scopes = scope::parse(&subject.scope)?;
    let scopes = match form.get("scope")? {
        None => subject_scopes,
        Some(raw) => {
            let mut allowed = subject_scopes.clone();
            if policy.allow_scope_widening {
                allowed.extend(client.scopes.iter().filter(|s| !subject_scopes.contains(s)).cloned());
            }
            scope::grant(Some(raw), &allowed, &client.client_id).map_err(|e| {
                OAuthError::invalid_scope(format!(
                    "{}; a token exchange grants at most the subject token's scopes ({}){}",
                    e.description,
                    subject.scope,
                    if policy.allow_scope_widening {
                        " plus the client's own"
                    } else {
                        ""
                    }
                ))
            })?
        }
    };
    let now = p.clock.now();
    let settings = p.settings();
    let default_ttl = client.access_token_ttl.map_or(settings.access_token_ttl.0, |t| t.0);
    let left = u64::try_from(subject.expires_at - now).unwrap_or(0);
    let mut extra = Map::new();
    match &actor {
        Some(a) => {
            extra.insert("act".into(), act_claim(&subject, a));
        }
        None => {
            // Impersonation keeps the record of who acted before.
            if let Some(prior) = subject.claims.get("act") {
                extra.insert("act".into(), prior.clone());
            }
        }
    }
    let issued = issue::access_token_for(
        p,
        AccessTokenRequest {
            client,
            subject: subject.subject.clone(),
            username: subject.username.clone(),
            scopes: scopes.clone(),
            grant_type: GrantType::TokenExchange.as_str(),
            grant_id: Some(subject.grant_id.clone().unwrap_or_else(|| subject.id.clone())),
            parent_id: Some(subject.id.clone()),
            ttl: Some(default_ttl.min(left)),
            extra_claims: extra,
        },
        (!aud.is_empty()).then_some(aud),
    )
    .await?;
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: scopes.join(" "),
        refresh_token: None,
        id_token: None,
        issued_token_type: Some(if requested == JWT { JWT } else { ACCESS_TOKEN }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(act: Option<Value>) -> TokenRecord {
        TokenRecord {
            id: "t".into(),
            hash: vec![],
            kind: TokenKind::AccessToken,
            format: TokenFormat::Jwt,
            client_id: "c".into(),
            subject: "alice".into(),
            username: None,
            scope: String::new(),
            audience: vec![],
            issued_at: 0,
            expires_at: 1,
            status: TokenStatus::Active,
            status_at: None,
            status_reason: None,
            grant_type: String::new(),
            grant_id: None,
            parent_id: None,
            kid: None,
            claims: act.map_or_else(|| json!({}), |a| json!({ "act": a })),
            token: String::new(),
            replayed_at: None,
        }
    }

    #[test]
    fn the_act_claim_nests_earlier_actors() {
        let mut actor = rec(None);
        actor.subject = "service-b".into();
        assert_eq!(act_claim(&rec(None), &actor), json!({"sub": "service-b"}));
        let hop = rec(Some(json!({"sub": "service-a"})));
        assert_eq!(
            act_claim(&hop, &actor),
            json!({"sub": "service-b", "act": {"sub": "service-a"}})
        );
    }
}
