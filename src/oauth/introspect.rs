//! Token introspection (RFC 7662).
//!
//! Works for JWT and opaque tokens alike, client-credentials tokens included: a token is
//! recognised when it is byte-for-byte one this server issued and recorded. Everything else,
//! unknown, malformed, expired, revoked, signed by a retired-and-gone key or issued elsewhere,
//! is exactly `{"active": false}` (RFC 7662 §2.2).

use serde_json::{Map, Value};

use super::assertion::AssertionSeen;
use super::client_auth::{self, BasicAuth};
use super::error::OAuthError;
use super::form::Form;
use crate::events::Event;
use crate::model::{Client, INTROSPECTION_SCOPE};
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

/// `{"active": false}`
pub fn inactive() -> Value {
    let mut m = Map::new();
    m.insert("active".into(), Value::Bool(false));
    Value::Object(m)
}

/// Handles an introspection request (RFC 7662 §2.1): the caller authenticates as a client;
/// `token` is required; `token_type_hint` is only a hint.
pub async fn introspect(p: &Provider, basic: &BasicAuth, form: &Form) -> Result<Value, OAuthError> {
    introspect_seen(p, basic, form, &AssertionSeen::default()).await
}

/// [`introspect`], leaving the report of a client assertion in `seen` (for the request log).
pub async fn introspect_seen(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    seen: &AssertionSeen,
) -> Result<Value, OAuthError> {
    let endpoint = client_auth::Endpoint {
        path: super::paths::INTROSPECT,
        allow_public: false,
    };
    let caller = client_auth::authenticate(p, basic, form, endpoint, seen).await?;
    may_introspect(p, Some(&caller))?;
    let token = form.require("token")?;
    let _hint = form.get("token_type_hint")?;
    Ok(introspect_as(p, Some(&caller), token).await?.0)
}

/// Introspects `token` for an already-authenticated `caller` (the HTTP endpoint, and the
/// resource-server simulator, which introspects in process as its `introspection_client`),
/// honouring `[introspection]`: without a caller, `require_scope` refuses and
/// `validate_audience` finds no audience. Publishes `token.introspected`. Returns the answer
/// and Latchkey's record of the token.
pub async fn introspect_as(
    p: &Provider,
    caller: Option<&Client>,
    token: &str,
) -> Result<(Value, Option<TokenRecord>), OAuthError> {
    may_introspect(p, caller)?;
    let record = p.store.find_token_by_hash(crate::ids::token_hash(token)).await?;
    let response = match &record {
        Some(r) if is_active(p, r) && audience_ok(p, caller, r) => active_response(r),
        _ => inactive(),
    };
    p.events.publish(
        p.clock.now_ms(),
        Event::TokenIntrospected {
            token_id: record.as_ref().map(|r| r.id.clone()),
            caller: caller.map_or_else(String::new, |c| c.client_id.clone()),
            active: response.get("active") == Some(&Value::Bool(true)),
        },
    );
    Ok((response, record))
}

/// `[introspection] require_scope`: the caller must hold `token_introspection` (403
/// `unauthorized_client` otherwise; a caller without a client never does).
pub fn may_introspect(p: &Provider, caller: Option<&Client>) -> Result<(), OAuthError> {
    let holds_scope = caller.is_some_and(|c| c.scopes.iter().any(|s| s == INTROSPECTION_SCOPE));
    if p.settings().introspection_require_scope && !holds_scope {
        let who = caller.map_or_else(
            || "a caller without a client".to_string(),
            |c| format!("client `{}`", c.client_id),
        );
        return Err(OAuthError::unauthorized_client(format!(
            "{who} may not introspect: it lacks the `{INTROSPECTION_SCOPE}` scope ([introspection] require_scope = true)"
        ))
        .forbidden());
    }
    Ok(())
}

/// Whether a recorded token is live now: an access or refresh token, not revoked or consumed,
/// not expired by the server clock, (for a JWT) its key still published, and issued by this
/// server's issuer (a token minted into the same database for another issuer, by `latchkey
/// token --issuer` or a server on another port, is not this server's).
pub fn is_active(p: &Provider, r: &TokenRecord) -> bool {
    matches!(r.kind, TokenKind::AccessToken | TokenKind::RefreshToken)
        && r.status == TokenStatus::Active
        && r.expires_at > p.clock.now()
        && r.kid.as_deref().is_none_or(|kid| p.keys.is_published(kid))
        && issued_here(p, r)
}

/// The recorded `iss`, when there is one, is this server's issuer.
pub fn issued_here(p: &Provider, r: &TokenRecord) -> bool {
    match r.claims.get("iss") {
        None => true,
        Some(iss) => iss.as_str() == Some(p.issuer.id.as_str()),
    }
}

/// `[introspection] validate_audience`: the token's `aud` must be among the caller's scopes or
/// audiences (django-oidc-provider's OIDC_INTROSPECTION_VALIDATE_AUDIENCE_SCOPE).
pub fn audience_ok(p: &Provider, caller: Option<&Client>, r: &TokenRecord) -> bool {
    if !p.settings().introspection_validate_audience {
        return true;
    }
    let Some(caller) = caller else { return false };
    r.audience
        .iter()
        .any(|a| caller.scopes.iter().any(|s| s == a) || caller.audiences.iter().any(|s| s == a))
}

/// The active response: the token's own claims plus `active` and `token_type` (RFC 7662 §2.2).
pub fn active_response(r: &TokenRecord) -> Value {
    let mut m = Map::new();
    m.insert("active".into(), Value::Bool(true));
    if let Value::Object(claims) = &r.claims {
        for (k, v) in claims {
            m.insert(k.clone(), v.clone());
        }
    }
    let token_type = match r.kind {
        TokenKind::RefreshToken => "refresh_token",
        // RFC 9449 §6.2: a bound token's `cnf.jkt` is in the claims above.
        _ if super::dpop::jkt_of(&r.claims).is_some() => "DPoP",
        _ => "Bearer",
    };
    m.insert("token_type".into(), Value::String(token_type.into()));
    if let Some(u) = &r.username {
        m.entry("username").or_insert_with(|| Value::String(u.clone()));
    }
    Value::Object(m)
}
