//! Minting and recording access tokens (RFC 9068 JWTs or opaque tokens).

use serde_json::{Map, Value, json};

use super::error::OAuthError;
use crate::events::Event;
use crate::ids;
use crate::model::{Client, TokenFormat};
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

/// What an access token is for.
#[derive(Debug, Clone)]
pub struct AccessTokenRequest<'a> {
    /// The client it is issued to.
    pub client: &'a Client,
    /// `sub`: a user's subject, or the client id for client credentials (RFC 9068 §2.2).
    pub subject: String,
    /// The user's username, when a user is involved.
    pub username: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The grant type that produced it.
    pub grant_type: &'static str,
    /// The grant family, for cascading revocation.
    pub grant_id: Option<String>,
    /// The token it derives from.
    pub parent_id: Option<String>,
    /// Lifetime override (seconds); otherwise the client's or the server's.
    pub ttl: Option<u64>,
    /// Extra claims (they cannot replace the registered ones).
    pub extra_claims: Map<String, Value>,
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token value.
    pub token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The recorded token.
    pub record: TokenRecord,
}

/// `aud` for a client's access tokens: its registered audiences, else its own id.
pub fn audience_of(client: &Client) -> Vec<String> {
    if client.audiences.is_empty() {
        vec![client.client_id.clone()]
    } else {
        client.audiences.clone()
    }
}

/// A single audience is a string, several an array (RFC 7519 §4.1.3).
pub fn aud_claim(aud: &[String]) -> Value {
    match aud {
        [one] => Value::String(one.clone()),
        many => json!(many),
    }
}

/// Issues an access token, records it and publishes `token.issued`.
pub async fn access_token(p: &Provider, req: AccessTokenRequest<'_>) -> Result<Issued, OAuthError> {
    access_token_for(p, req, None).await
}

/// [`access_token`] with an explicit `aud` (token exchange's `audience`/`resource`, RFC 8693
/// §2.1); `None`: the client's audiences ([`audience_of`]).
pub async fn access_token_for(
    p: &Provider,
    req: AccessTokenRequest<'_>,
    audience: Option<Vec<String>>,
) -> Result<Issued, OAuthError> {
    let settings = p.settings();
    let now = p.clock.now();
    let ttl = req
        .ttl
        .or(req.client.access_token_ttl.map(|t| t.0))
        .unwrap_or(settings.access_token_ttl.0);
    let exp = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
    let format = req.client.access_token_format.unwrap_or(settings.access_token_format);
    let jti = ids::token_id();
    let aud = audience.unwrap_or_else(|| audience_of(req.client));
    let scope = req.scopes.join(" ");

    let mut claims = Map::new();
    for (k, v) in req.extra_claims {
        claims.insert(k, v);
    }
    // Registered claims last, so extra claims can never override them.
    claims.insert("iss".into(), Value::String(p.issuer.id.clone()));
    claims.insert("sub".into(), Value::String(req.subject.clone()));
    claims.insert("aud".into(), aud_claim(&aud));
    claims.insert("client_id".into(), Value::String(req.client.client_id.clone()));
    claims.insert("scope".into(), Value::String(scope.clone()));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(exp));
    claims.insert("jti".into(), Value::String(jti.clone()));
    // RFC 9449 §6.1: a token requested with a DPoP proof is bound to its key.
    if let Some(jkt) = super::dpop::bound_jkt() {
        claims.insert("cnf".into(), super::dpop::cnf(&jkt));
    }

    let (token, kid) = match format {
        TokenFormat::Jwt => {
            let typ = req.client.access_token_typ.unwrap_or(settings.access_token_typ);
            let (t, kid) = p.keys.sign_jwt(typ.as_str(), &claims)?;
            (t, Some(kid))
        }
        TokenFormat::Opaque => (ids::opaque_token(), None),
    };
    let record = TokenRecord {
        id: jti,
        hash: ids::token_hash(&token),
        kind: TokenKind::AccessToken,
        format,
        client_id: req.client.client_id.clone(),
        subject: req.subject,
        username: req.username,
        scope,
        audience: aud,
        issued_at: now,
        expires_at: exp,
        status: TokenStatus::Active,
        status_at: None,
        status_reason: None,
        grant_type: req.grant_type.to_string(),
        grant_id: req.grant_id,
        parent_id: req.parent_id,
        kid,
        claims: Value::Object(claims),
        token: token.clone(),
        replayed_at: None,
    };
    p.store.insert_token(record.clone()).await?;
    p.events
        .publish(p.clock.now_ms(), Event::TokenIssued(Box::new(record.clone())));
    Ok(Issued {
        token,
        expires_in: ttl,
        record,
    })
}

/// What a refresh token is for.
#[derive(Debug, Clone)]
pub struct RefreshTokenRequest<'a> {
    /// The client it is bound to.
    pub client: &'a Client,
    /// The user's subject.
    pub subject: String,
    /// The user's username.
    pub username: String,
    /// The scopes it may obtain again.
    pub scopes: Vec<String>,
    /// When the user authenticated (carried into later id_tokens).
    pub auth_time: i64,
    /// How they authenticated: `acr`, `amr` and the id_token claims the `claims` parameter
    /// asked for (carried into later id_tokens, OIDC Core §12.2).
    pub authn: crate::oauth::acr::Authn,
    /// The grant family it belongs to.
    pub grant_id: String,
    /// The token it replaces (rotation) or the code it came from.
    pub parent_id: Option<String>,
    /// The grant that produced it.
    pub grant_type: &'static str,
    /// The resources the grant was authorized for (RFC 8707 §2.2: a refresh may narrow them).
    pub resources: Vec<String>,
}

/// Issues an opaque refresh token (RFC 6749 §1.5, §6), records it and publishes `token.issued`.
pub async fn refresh_token(p: &Provider, req: RefreshTokenRequest<'_>) -> Result<String, OAuthError> {
    let now = p.clock.now();
    let ttl = i64::try_from(p.settings().refresh_token_ttl.0).unwrap_or(i64::MAX);
    let exp = now.saturating_add(ttl);
    let token = ids::opaque_token();
    let id = ids::token_id();
    let scope = req.scopes.join(" ");
    let mut claims = json!({
        "iss": p.issuer.id,
        "sub": req.subject,
        "aud": req.client.client_id,
        "client_id": req.client.client_id,
        "scope": scope,
        "iat": now,
        "exp": exp,
        "jti": id,
        "auth_time": req.auth_time,
    });
    // How the user authenticated, for the id_tokens of later refreshes; only what is known (the
    // record's claims are what introspection shows).
    if let Some(m) = claims.as_object_mut() {
        if let Some(acr) = &req.authn.acr {
            m.insert("acr".into(), json!(acr));
        }
        if !req.authn.amr.is_empty() {
            m.insert("amr".into(), json!(req.authn.amr));
        }
        if !req.authn.id_token_claims.is_empty() {
            m.insert("id_token_claims".into(), json!(req.authn.id_token_claims));
        }
        if let Some(sid) = &req.authn.sid {
            m.insert("sid".into(), json!(sid));
        }
        // RFC 9449 §5: a public client's refresh token is bound to its DPoP key (a confidential
        // client's is bound to its credentials already).
        if req.client.is_public()
            && let Some(jkt) = super::dpop::bound_jkt()
        {
            m.insert("cnf".into(), super::dpop::cnf(&jkt));
        }
        if !req.resources.is_empty() {
            // `resource_indicators::CLAIM` (named here, not imported: that module uses this one).
            m.insert("resource".into(), json!(req.resources));
        }
    }
    let record = TokenRecord {
        id,
        hash: ids::token_hash(&token),
        kind: TokenKind::RefreshToken,
        format: TokenFormat::Opaque,
        client_id: req.client.client_id.clone(),
        subject: req.subject,
        username: Some(req.username),
        scope,
        audience: vec![req.client.client_id.clone()],
        issued_at: now,
        expires_at: exp,
        status: TokenStatus::Active,
        status_at: None,
        status_reason: None,
        grant_type: req.grant_type.to_string(),
        grant_id: Some(req.grant_id),
        parent_id: req.parent_id,
        kid: None,
        claims,
        token: token.clone(),
        replayed_at: None,
    };
    p.store.insert_token(record.clone()).await?;
    p.events.publish(p.clock.now_ms(), Event::TokenIssued(Box::new(record)));
    Ok(token)
}
