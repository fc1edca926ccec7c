//! ID tokens (OIDC Core §2, §3.1.3.6, §3.3.2.11), with `acr`, `amr` and `auth_time` (§2) and
//! the claims the `claims` parameter asked for (§5.5).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};

use super::claims;
use super::error::OAuthError;
use crate::events::Event;
use crate::ids;
use crate::model::{Client, SigningAlg, TokenFormat, User};
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

/// `at_hash` / `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): the left half of the hash of the
/// value's ASCII, with the hash of the signing algorithm (SHA-512 for Ed25519).
pub fn half_hash(alg: SigningAlg, value: &str) -> String {
    let algorithm = match alg {
        SigningAlg::EdDSA => &digest::SHA512,
        _ => &digest::SHA256,
    };
    let d = digest::digest(algorithm, value.as_bytes());
    let bytes = d.as_ref();
    B64.encode(&bytes[..bytes.len() / 2])
}

/// What an id_token is about.
pub struct IdTokenRequest<'a> {
    /// The relying party.
    pub client: &'a Client,
    /// The user.
    pub user: &'a User,
    /// The user's subject.
    pub sub: &'a str,
    /// Granted scopes (claims follow them).
    pub scopes: &'a [String],
    /// When the user authenticated.
    pub auth_time: i64,
    /// The authentication context class reached (OIDC Core §2 `acr`), when stated.
    pub acr: Option<&'a str>,
    /// The authentication methods used (OIDC Core §2 `amr`); omitted when empty.
    pub amr: &'a [String],
    /// The browser session's id (Back-Channel Logout 1.0 §2.1 `sid`): present for every
    /// id_token of a grant that began with a browser sign-in.
    pub sid: Option<&'a str>,
    /// Claims the `claims` parameter asked for in the id_token (OIDC Core §5.5), released when
    /// the user has them.
    pub requested_claims: &'a [String],
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
    /// The access token issued alongside, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code issued alongside, for `c_hash`.
    pub code: Option<&'a str>,
    /// The grant family.
    pub grant_id: Option<String>,
    /// The token it derives from (the code or refresh token exchanged), for the lineage.
    pub parent_id: Option<String>,
    /// The grant type, for the record.
    pub grant_type: &'static str,
}

/// Signs an id_token with the active key, records it and publishes `token.issued`.
pub async fn issue(p: &Provider, req: IdTokenRequest<'_>) -> Result<String, OAuthError> {
    let now = p.clock.now();
    let ttl = i64::try_from(p.settings().id_token_ttl.0).unwrap_or(i64::MAX);
    let exp = now.saturating_add(ttl);
    let (_, alg) = p.keys.active();
    let jti = ids::token_id();
    let mut c: Map<String, Value> = claims::release(req.user, req.sub, req.scopes, &p.scopes());
    for name in req.requested_claims {
        if let Some(v) = req.user.claims.get(name)
            && !c.contains_key(name)
        {
            c.insert(name.clone(), v.clone());
        }
    }
    c.insert("iss".into(), Value::String(p.issuer.id.clone()));
    c.insert("sub".into(), Value::String(req.sub.to_string()));
    c.insert("aud".into(), Value::String(req.client.client_id.clone()));
    c.insert("azp".into(), Value::String(req.client.client_id.clone()));
    c.insert("iat".into(), json!(now));
    c.insert("exp".into(), json!(exp));
    c.insert("auth_time".into(), json!(req.auth_time));
    if let Some(acr) = req.acr {
        c.insert("acr".into(), Value::String(acr.to_string()));
    }
    if !req.amr.is_empty() {
        c.insert("amr".into(), json!(req.amr));
    }
    if let Some(sid) = req.sid {
        c.insert("sid".into(), Value::String(sid.to_string()));
    }
    c.insert("jti".into(), Value::String(jti.clone()));
    if let Some(n) = req.nonce {
        c.insert("nonce".into(), Value::String(n.to_string()));
    }
    if let Some(at) = req.access_token {
        c.insert("at_hash".into(), Value::String(half_hash(alg, at)));
    }
    if let Some(code) = req.code {
        c.insert("c_hash".into(), Value::String(half_hash(alg, code)));
    }
    let (token, kid) = p.keys.sign_jwt("JWT", &c)?;
    let record = TokenRecord {
        id: jti,
        hash: ids::token_hash(&token),
        kind: TokenKind::IdToken,
        format: TokenFormat::Jwt,
        client_id: req.client.client_id.clone(),
        subject: req.sub.to_string(),
        username: Some(req.user.username.clone()),
        scope: req.scopes.join(" "),
        audience: vec![req.client.client_id.clone()],
        issued_at: now,
        expires_at: exp,
        status: TokenStatus::Active,
        status_at: None,
        status_reason: None,
        grant_type: req.grant_type.to_string(),
        grant_id: req.grant_id,
        parent_id: req.parent_id,
        kid: Some(kid),
        claims: Value::Object(c),
        token: token.clone(),
        replayed_at: None,
    };
    p.store.insert_token(record.clone()).await?;
    p.events.publish(p.clock.now_ms(), Event::TokenIssued(Box::new(record)));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OIDC Core A.3: access_token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            half_hash(SigningAlg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
