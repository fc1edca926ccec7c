//! Token revocation (RFC 7009).

use super::assertion::AssertionSeen;
use super::client_auth::{self, BasicAuth};
use super::error::OAuthError;
use super::form::Form;
use crate::events::Event;
use crate::provider::Provider;
use crate::store::{StoreError, TokenKind, TokenStatus};

/// Handles a revocation request (RFC 7009 §2.1).
///
/// The caller authenticates (public clients identify themselves by `client_id`, §5). An
/// unknown, expired or already revoked token gets 200 (§2.2). A token issued to another client
/// is refused with `invalid_request` and left alone (§2.1: "the request is refused and the
/// client is informed of the error"). `token_type_hint` is only a hint: both kinds are searched.
/// Revoking a refresh token revokes every token of its grant (§2.1, "SHOULD").
pub async fn revoke(p: &Provider, basic: &BasicAuth, form: &Form) -> Result<(), OAuthError> {
    revoke_seen(p, basic, form, &AssertionSeen::default()).await
}

/// [`revoke`], leaving the report of a client assertion in `seen` (for the request log).
pub async fn revoke_seen(p: &Provider, basic: &BasicAuth, form: &Form, seen: &AssertionSeen) -> Result<(), OAuthError> {
    let endpoint = client_auth::Endpoint {
        path: super::paths::REVOKE,
        allow_public: true,
    };
    let caller = client_auth::authenticate(p, basic, form, endpoint, seen).await?;
    let token = form.require("token")?;
    let _hint = form.get("token_type_hint")?;
    let Some(record) = p.store.find_token_by_hash(crate::ids::token_hash(token)).await? else {
        return Ok(());
    };
    if !matches!(record.kind, TokenKind::AccessToken | TokenKind::RefreshToken) {
        return Ok(());
    }
    if record.client_id != caller.client_id {
        return Err(OAuthError::invalid_request(format!(
            "the token was issued to another client, not to `{}`; it was not revoked",
            caller.client_id
        )));
    }
    if record.status != TokenStatus::Active {
        return Ok(());
    }
    let now = p.clock.now();
    let reason = format!("revoked by client `{}` (RFC 7009)", caller.client_id);
    let ids = match (&record.kind, &record.grant_id) {
        (TokenKind::RefreshToken, Some(grant)) => p.store.revoke_grant(grant, &reason, now).await?,
        _ => {
            if p.store
                .set_token_status(&record.id, TokenStatus::Revoked, &reason, now)
                .await?
            {
                vec![record.id.clone()]
            } else {
                Vec::new()
            }
        }
    };
    Ok(publish_revoked(p, ids, reason).await?)
}

/// Publishes `token.revoked` for tokens just revoked, with the tokens themselves (nothing when
/// `ids` is empty). For every revocation path, the admin API's too.
pub async fn publish_revoked(p: &Provider, ids: Vec<String>, reason: String) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let tokens = p.store.find_tokens(&ids).await?;
    p.events
        .publish(p.clock.now_ms(), Event::TokensRevoked { ids, reason, tokens });
    Ok(())
}
