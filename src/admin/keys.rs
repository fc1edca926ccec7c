//! Signing keys: the list with their status and use, and the rotation drill (design §5): a new
//! key starts signing at once, the old one stays in the JWKS for a chosen retention time so the
//! tokens it signed still verify.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AdminError;
use crate::events::Event;
use crate::keys::SigningKey;
use crate::model::SigningAlg;
use crate::provider::Provider;

/// A signing key (public information only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    /// The RFC 7638 thumbprint, the `kid` of the tokens it signs.
    pub kid: String,
    /// JOSE algorithm.
    pub alg: String,
    /// `active` (signs new tokens) or `retired` (still published, verifies only).
    pub status: String,
    /// When it was created, UNIX seconds.
    pub created_at: i64,
    /// When it stopped signing.
    pub retired_at: Option<i64>,
    /// When it leaves the JWKS.
    pub expires_at: Option<i64>,
    /// Whether it is in the JWKS now.
    pub published: bool,
    /// Active, unexpired tokens signed with it.
    pub live_tokens: i64,
    /// The public JWK.
    #[schema(value_type = Object)]
    pub jwk: serde_json::Value,
}

/// A rotation request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old key stays published, in seconds (default: the longest of the access
    /// token and id_token lifetimes, so every token it signed can still be verified).
    pub retention: Option<u64>,
    /// The new key's algorithm (default: the current `signing_alg`). A different one also
    /// changes the `signing_alg` setting, so the next start keeps it.
    pub alg: Option<String>,
}

/// Every stored key, newest first.
pub async fn list(p: &Provider) -> Result<Vec<KeyView>, AdminError> {
    let now = p.clock.now();
    let live: HashMap<String, i64> = p.store.count_live_tokens_by_kid(now).await?.into_iter().collect();
    Ok(p.store
        .list_keys()
        .await?
        .into_iter()
        .map(|k| KeyView {
            published: p.keys.is_published(&k.kid) && k.expires_at.is_none_or(|e| e > now),
            live_tokens: live.get(&k.kid).copied().unwrap_or(0),
            jwk: serde_json::from_str(&k.public_jwk).unwrap_or(serde_json::Value::Null),
            kid: k.kid,
            alg: k.alg,
            status: k.status,
            created_at: k.created_at,
            retired_at: k.retired_at,
            expires_at: k.expires_at,
        })
        .collect())
}

/// Generates a new active key, retires the current one (published for `retention` more
/// seconds), reloads the JWKS and publishes `key.rotated`. Returns the new key list.
pub async fn rotate(p: &Provider, req: RotateRequest) -> Result<Vec<KeyView>, AdminError> {
    let settings = p.settings();
    let alg = match req.alg.as_deref() {
        None => settings.signing_alg,
        Some(a) => SigningAlg::parse(a).ok_or_else(|| {
            AdminError::field(
                "alg",
                format!("`{a}` is not supported; use RS256, PS256, ES256 or EdDSA"),
            )
        })?,
    };
    let default_retention = settings.access_token_ttl.0.max(settings.id_token_ttl.0);
    let retention = req.retention.unwrap_or(default_retention);
    if retention > crate::validate::MAX_LIFETIME {
        return Err(AdminError::field("retention", "must be at most 10 years"));
    }
    let now = p.clock.now();
    let fresh = tokio::task::spawn_blocking(move || SigningKey::generate(alg, now))
        .await
        .map_err(AdminError::internal)??;
    let kid = fresh.kid.clone();
    let retention = i64::try_from(retention).unwrap_or(i64::MAX);
    p.store.activate_key(fresh, now.saturating_add(retention)).await?;
    p.keys.reload(&p.store, now).await?;
    if alg != settings.signing_alg {
        let mut s = (*settings).clone();
        s.signing_alg = alg;
        p.set_settings(s).await?;
    }
    p.events.publish(
        p.clock.now_ms(),
        Event::KeyRotated {
            kid,
            alg: alg.as_str().to_string(),
        },
    );
    list(p).await
}
