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
    /// `active` (signs new tokens), `retired` (still published: verifies the tokens it signed)
    /// or `unpublished` (left the JWKS at `expires_at`: its tokens no longer verify, and its
    /// private key is gone).
    pub status: String,
    /// When it was created, UNIX seconds.
    pub created_at: i64,
    /// When it stopped signing.
    pub retired_at: Option<i64>,
    /// When it leaves (or, for an `unpublished` key, left) the JWKS, UNIX seconds.
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

/// Every stored key, newest first, with the keys that have left the JWKS (`unpublished`).
pub async fn list(p: &Provider) -> Result<Vec<KeyView>, AdminError> {
    let now = p.clock.now();
    let live: HashMap<String, i64> = p.store.count_live_tokens_by_kid(now).await?.into_iter().collect();
    Ok(p.store
        .list_keys()
        .await?
        .into_iter()
        .map(|k| {
            let published =
                p.keys.is_published(&k.kid) && (k.status == "active" || k.expires_at.is_none_or(|e| e > now));
            (k, published)
        })
        .map(|(k, published)| KeyView {
            published,
            live_tokens: live.get(&k.kid).copied().unwrap_or(0),
            jwk: serde_json::from_str(&k.public_jwk).unwrap_or(serde_json::Value::Null),
            status: if k.status == "active" || published {
                k.status
            } else {
                "unpublished".into()
            },
            kid: k.kid,
            alg: k.alg,
            created_at: k.created_at,
            retired_at: k.retired_at,
            expires_at: k.expires_at,
        })
        .collect())
}

/// What rotating now would do to the tokens of the active key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotationPreview {
    /// The active key, which the rotation retires.
    pub kid: String,
    /// The retention asked for (or the default), seconds.
    pub retention: u64,
    /// When the active key would leave the JWKS, UNIX seconds (now + retention).
    pub unpublished_at: i64,
    /// Active, unexpired tokens signed with it now.
    pub live_tokens: i64,
    /// How many of them would still be unexpired at `unpublished_at`: these stop verifying
    /// (and introspect inactive) then, before they expire.
    pub stop_verifying: i64,
    /// The latest `exp` among its live tokens, UNIX seconds: a retention reaching it keeps
    /// every token verifiable.
    pub last_expiry: Option<i64>,
    /// The smallest retention in seconds that keeps every live token verifiable until it
    /// expires (0 when none is live).
    pub safe_retention: u64,
}

/// The default retention of a rotation: the longest of the access token and id_token lifetimes.
fn default_retention(p: &Provider) -> u64 {
    let settings = p.settings();
    settings.access_token_ttl.0.max(settings.id_token_ttl.0)
}

fn check_retention(retention: u64) -> Result<u64, AdminError> {
    if retention > crate::validate::MAX_LIFETIME {
        return Err(AdminError::field("retention", "must be at most 10 years"));
    }
    Ok(retention)
}

/// How many live tokens a rotation with `retention` seconds (default as for [`rotate`]) would
/// leave unverifiable, and when. Changes nothing. Errors: `retention` over 10 years (422).
pub async fn preview(p: &Provider, retention: Option<u64>) -> Result<RotationPreview, AdminError> {
    let retention = check_retention(retention.unwrap_or_else(|| default_retention(p)))?;
    let now = p.clock.now();
    let (kid, _) = p.keys.active();
    let unpublished_at = now.saturating_add(i64::try_from(retention).unwrap_or(i64::MAX));
    let (live_tokens, stop_verifying, last_expiry) = p.store.key_usage(&kid, now, unpublished_at).await?;
    Ok(RotationPreview {
        kid,
        retention,
        unpublished_at,
        live_tokens,
        stop_verifying,
        last_expiry,
        safe_retention: last_expiry.map_or(0, |e| u64::try_from(e.saturating_sub(now)).unwrap_or(0)),
    })
}

/// Generates a new active key, retires the current one (published for `retention` more
/// seconds), reloads the JWKS and publishes `key.rotated`. Returns the new key list.
pub async fn rotate(p: &Provider, req: RotateRequest) -> Result<Vec<KeyView>, AdminError> {
    let settings = p.settings();
    let retention = check_retention(req.retention.unwrap_or_else(|| default_retention(p)))?;
    let alg = match req.alg.as_deref() {
        None => settings.signing_alg,
        Some(a) => SigningAlg::parse(a).ok_or_else(|| {
            AdminError::field(
                "alg",
                format!("`{a}` is not supported; use RS256, PS256, ES256 or EdDSA"),
            )
        })?,
    };
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

/// The published signing keys that still have their private key, active first, as
/// `[[keys]]` TOML (kid, alg and a PKCS#8 PEM) for a config file: what `latchkey keys export`
/// writes. Development only: the text holds private keys.
pub async fn export_toml(p: &Provider, active_only: bool) -> Result<String, AdminError> {
    let now = p.clock.now();
    let mut stored: Vec<_> = p
        .store
        .list_keys()
        .await?
        .into_iter()
        .filter(|k| !k.private_der.is_empty())
        .filter(|k| k.status == "active" || (!active_only && k.expires_at.is_none_or(|e| e > now)))
        .collect();
    stored.sort_by_key(|k| (k.status != "active", -k.created_at));
    let keys = stored
        .into_iter()
        .map(|k| {
            let alg = SigningAlg::parse(&k.alg)
                .ok_or_else(|| AdminError::internal(format!("stored key {} has unknown alg {}", k.kid, k.alg)))?;
            Ok(crate::config::KeyConfig {
                kid: k.kid,
                alg,
                pem: Some(crate::keys::import::pem(&k.private_der)),
                ..crate::config::KeyConfig::default()
            })
        })
        .collect::<Result<Vec<_>, AdminError>>()?;
    let body = toml::to_string(&KeysOnly { keys: &keys }).map_err(AdminError::internal)?;
    Ok(format!(
        "# Signing keys exported by `latchkey keys export`, for the [[keys]] of latchkey.toml.\n\
         # DEVELOPMENT ONLY: these are private keys. Anyone holding them can sign tokens this\n\
         # Latchkey's clients accept. Never use them for anything real.\n\
         # The first key signs; the others are published in the JWKS.\n\n{body}"
    ))
}

#[derive(Serialize)]
struct KeysOnly<'a> {
    keys: &'a [crate::config::KeyConfig],
}
