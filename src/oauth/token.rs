//! The token endpoint (RFC 6749 §3.2): parse the grant, authenticate the client once, then
//! dispatch to the grant's handler.

use serde_json::Value;

use super::assertion::AssertionSeen;
use super::client_auth::{self, BasicAuth};
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::grants::user_tokens::{RefreshPolicy, UserGrant, find_user, user_tokens};
use super::issue::{self, AccessTokenRequest};
use super::pkce::{self, Method};
use super::{resource_indicators, scope};
use crate::events::Event;
use crate::ids;
use crate::model::{Client, GrantType};
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

pub use super::grants::TokenResponse;

/// The grant types this server implements at the token endpoint.
pub const SUPPORTED_GRANTS: &[GrantType] = &[
    GrantType::AuthorizationCode,
    GrantType::ClientCredentials,
    GrantType::RefreshToken,
    GrantType::Password,
    GrantType::DeviceCode,
    GrantType::TokenExchange,
    GrantType::JwtBearer,
];

/// Parses `grant_type` (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6).
fn grant_type(form: &Form) -> Result<GrantType, OAuthError> {
    let raw = form.require("grant_type")?;
    SUPPORTED_GRANTS
        .iter()
        .copied()
        .find(|g| g.as_str() == raw)
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type `{raw}` is not supported; supported: {}",
                    SUPPORTED_GRANTS
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Handles a token request (RFC 6749 §3.2).
pub async fn exchange(p: &Provider, basic: &BasicAuth, form: &Form) -> Result<TokenResponse, OAuthError> {
    exchange_seen(p, basic, form, &AssertionSeen::default()).await
}

/// The token endpoint's client authentication: public clients are accepted.
pub const TOKEN_ENDPOINT: client_auth::Endpoint = client_auth::Endpoint {
    path: super::paths::TOKEN,
    allow_public: true,
};

/// [`exchange`], leaving the report of any client assertion or JWT bearer assertion in `seen`
/// (for the request log).
pub async fn exchange_seen(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    seen: &AssertionSeen,
) -> Result<TokenResponse, OAuthError> {
    let no_proof = super::dpop::ProofRequest {
        proofs: &[],
        method: "POST",
        path: super::paths::TOKEN,
    };
    exchange_dpop(p, basic, form, seen, &no_proof, &super::dpop::DpopSeen::default()).await
}

/// [`exchange_seen`] with the request's DPoP proof (RFC 9449 §5): validated after client
/// authentication; when accepted, the grant runs bound to its key ([`super::dpop::bind`]) and
/// the response's `token_type` is `DPoP`. The proof's report is left in `dpop_seen`.
pub async fn exchange_dpop(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    seen: &AssertionSeen,
    proof: &super::dpop::ProofRequest<'_>,
    dpop_seen: &super::dpop::DpopSeen,
) -> Result<TokenResponse, OAuthError> {
    let grant = grant_type(form)?;
    let client = client_auth::authenticate(p, basic, form, TOKEN_ENDPOINT, seen).await?;
    if !client.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is not allowed the {} grant (its grant_types: {})",
            client.client_id,
            grant.as_str(),
            client
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let jkt = super::dpop::at_token_endpoint(p, &client, proof, dpop_seen)?;
    let bound = jkt.is_some();
    let mut response = super::dpop::bind(jkt, dispatch(p, grant, &client, form, seen)).await?;
    if bound {
        // RFC 9449 §5.1: a bound access token's type is DPoP.
        response.token_type = "DPoP";
    }
    Ok(response)
}

/// Runs `grant` for an authenticated client.
async fn dispatch(
    p: &Provider,
    grant: GrantType,
    client: &Client,
    form: &Form,
    seen: &AssertionSeen,
) -> Result<TokenResponse, OAuthError> {
    match grant {
        GrantType::ClientCredentials => client_credentials(p, client, form).await,
        GrantType::AuthorizationCode => authorization_code(p, client, form).await,
        GrantType::RefreshToken => refresh(p, client, form).await,
        GrantType::Password => password(p, client, form).await,
        GrantType::DeviceCode => super::grants::device_code::exchange(p, client, form).await,
        GrantType::TokenExchange => super::grants::token_exchange::exchange(p, client, form).await,
        GrantType::JwtBearer => super::grants::jwt_bearer::grant(p, client, form, seen).await,
        GrantType::Implicit => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "implicit is not a token-endpoint grant",
        )),
    }
}

/// The client credentials grant (RFC 6749 §4.4): a confidential client obtains a token for
/// itself, limited to its allowed scopes (django-oidc-provider's `client.scope`).
async fn client_credentials(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is a public client and cannot use client_credentials (RFC 6749 §4.4)",
            client.client_id
        )));
    }
    // RFC 6749 §4.4.2 / §3.3: absent scope means the client's allowed scopes.
    let scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let resources = resource_indicators::for_client(p, client, form)?;
    let issued = issue::access_token_for(
        p,
        AccessTokenRequest {
            client,
            subject: client.client_id.clone(),
            username: None,
            scopes: scopes.clone(),
            grant_type: GrantType::ClientCredentials.as_str(),
            grant_id: None,
            parent_id: None,
            ttl: None,
            extra_claims: serde_json::Map::new(),
        },
        (!resources.is_empty()).then_some(resources),
    )
    .await?;
    // RFC 6749 §4.4.3: no refresh token for client credentials.
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: scopes.join(" "),
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
    })
}

/// When the user of a code or refresh token authenticated (OIDC Core §2 `auth_time`).
fn auth_time_of(r: &TokenRecord) -> i64 {
    r.claims.get("auth_time").and_then(Value::as_i64).unwrap_or(r.issued_at)
}

pub use super::acr::Authn;

fn authn_of(r: &TokenRecord) -> Authn {
    let strings = |name: &str| -> Vec<String> {
        r.claims
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    Authn {
        acr: claim_str(r, "acr").map(str::to_string),
        amr: strings("amr"),
        id_token_claims: strings("id_token_claims"),
        sid: claim_str(r, "sid").map(str::to_string),
    }
}

fn claim_str<'a>(r: &'a TokenRecord, name: &str) -> Option<&'a str> {
    r.claims.get(name).and_then(Value::as_str)
}

/// Revokes a grant family and publishes it.
async fn revoke_family(p: &Provider, grant_id: Option<&str>, reason: &str) -> Result<(), OAuthError> {
    if let Some(g) = grant_id {
        let ids = p.store.revoke_grant(g, reason, p.clock.now()).await?;
        super::revoke::publish_revoked(p, ids, reason.to_string()).await?;
    }
    Ok(())
}

/// Publishes `token.consumed` for `rec`, just marked consumed at `now` because of `reason`.
fn publish_consumed(p: &Provider, rec: &TokenRecord, reason: &str, now: i64) {
    let mut used = rec.clone();
    used.status = TokenStatus::Consumed;
    used.status_at = Some(now);
    used.status_reason = Some(reason.to_string());
    p.events.publish(p.clock.now_ms(), Event::TokenConsumed(Box::new(used)));
}

/// The authorization code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): the code is single-use,
/// short-lived, and bound to the client, the redirect URI and the PKCE challenge.
async fn authorization_code(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    let code = form.require("code")?;
    let verifier = form.get("code_verifier")?;
    let redirect_uri = form.get("redirect_uri")?;
    let rec = p
        .store
        .find_token_by_hash(ids::token_hash(code))
        .await?
        .filter(|r| r.kind == TokenKind::AuthorizationCode)
        .ok_or_else(|| OAuthError::invalid_grant("unknown authorization code"))?;
    if rec.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(format!(
            "the code was issued to another client, not to `{}`",
            client.client_id
        )));
    }
    if rec.status != TokenStatus::Active {
        // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
        let reason = "authorization code replayed (RFC 6749 §4.1.2)";
        p.store.mark_replayed(&rec.id, p.clock.now()).await?;
        revoke_family(p, rec.grant_id.as_deref(), reason).await?;
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used; the tokens issued from it are now revoked (RFC 6749 §4.1.2)",
        ));
    }
    if rec.expires_at <= p.clock.now() {
        return Err(OAuthError::invalid_grant("the authorization code has expired"));
    }
    let registered = claim_str(&rec, "redirect_uri").unwrap_or_default();
    let given_at_authorize = rec
        .claims
        .get("redirect_uri_given")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    match redirect_uri {
        Some(uri) if uri != registered => {
            return Err(OAuthError::invalid_grant(format!(
                "redirect_uri `{uri}` differs from the one the code was issued for"
            )));
        }
        None if given_at_authorize => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is required: it was included in the authorization request (RFC 6749 §4.1.3)",
            ));
        }
        _ => {}
    }
    let challenge = claim_str(&rec, "code_challenge");
    let method = rec
        .claims
        .get("code_challenge_method")
        .and_then(|m| serde_json::from_value::<Method>(m.clone()).ok())
        .unwrap_or(Method::Plain);
    match (challenge, verifier) {
        (Some(c), Some(v)) if pkce::verify(method, c, v) => {}
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier is required: the authorization request sent a code_challenge (RFC 7636 §4.5)",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier was sent, but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    // RFC 9449 §10: a code requested with dpop_jkt needs a proof from that key.
    super::dpop::require_key(
        claim_str(&rec, "dpop_jkt"),
        "the authorization code (requested with dpop_jkt)",
    )?;
    // RFC 8707 §2.2: checked before the code is used up, so a refused request can be retried.
    let granted_resources = resource_indicators::of_claims(&rec.claims);
    let resources = resource_indicators::narrow(p, client, form, &granted_resources)?;
    let reason = "exchanged for tokens";
    let now = p.clock.now();
    if !p
        .store
        .set_token_status(&rec.id, TokenStatus::Consumed, reason, now)
        .await?
    {
        // Lost a race with another exchange of the same code: that is a replay too.
        p.store.mark_replayed(&rec.id, now).await?;
        revoke_family(
            p,
            rec.grant_id.as_deref(),
            "authorization code replayed (RFC 6749 §4.1.2)",
        )
        .await?;
        return Err(OAuthError::invalid_grant("the authorization code was already used"));
    }
    publish_consumed(p, &rec, reason, now);
    let user = find_user(p, rec.username.as_deref()).await?;
    let scopes = scope::parse(&rec.scope)?;
    let auth_time = auth_time_of(&rec);
    user_tokens(
        p,
        client,
        &user,
        UserGrant {
            scopes,
            auth_time,
            authn: authn_of(&rec),
            nonce: claim_str(&rec, "nonce").map(str::to_string),
            grant_type: GrantType::AuthorizationCode.as_str(),
            grant_id: rec.grant_id.clone().unwrap_or_else(ids::token_id),
            parent_id: Some(rec.id.clone()),
            refresh: RefreshPolicy::New,
            resources,
            granted_resources,
        },
    )
    .await
}

/// The refresh token grant (RFC 6749 §6): bound to its client; rotated by default; a rotated
/// token presented again revokes its whole family (OAuth 2.0 Security BCP §4.14).
async fn refresh(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    let presented = form.require("refresh_token")?;
    let rec = p
        .store
        .find_token_by_hash(ids::token_hash(presented))
        .await?
        .filter(|r| r.kind == TokenKind::RefreshToken)
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    if rec.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(format!(
            "the refresh token was issued to another client, not to `{}`",
            client.client_id
        )));
    }
    match rec.status {
        TokenStatus::Active => {}
        TokenStatus::Consumed => {
            let reason = "rotated refresh token reused";
            p.store.mark_replayed(&rec.id, p.clock.now()).await?;
            revoke_family(p, rec.grant_id.as_deref(), reason).await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used (it was rotated); every token of its grant is now revoked",
            ));
        }
        TokenStatus::Revoked => return Err(OAuthError::invalid_grant("the refresh token was revoked")),
    }
    if rec.expires_at <= p.clock.now() {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // RFC 9449 §5: a public client's refresh token is bound to the key of its first proof.
    super::dpop::require_key(super::dpop::jkt_of(&rec.claims), "the refresh token")?;
    let original = scope::parse(&rec.scope)?;
    // RFC 6749 §6: the scope may narrow, never widen.
    let scopes = scope::grant(form.get("scope")?, &original, &client.client_id)?;
    // RFC 8707 §2.2: the resources may narrow too, never widen.
    let granted_resources = resource_indicators::of_claims(&rec.claims);
    let resources = resource_indicators::narrow(p, client, form, &granted_resources)?;
    let user = find_user(p, rec.username.as_deref()).await?;
    let rotate = p.settings().refresh_token_rotation;
    if rotate {
        let now = p.clock.now();
        if !p
            .store
            .set_token_status(&rec.id, TokenStatus::Consumed, "rotated", now)
            .await?
        {
            p.store.mark_replayed(&rec.id, now).await?;
            revoke_family(p, rec.grant_id.as_deref(), "rotated refresh token reused").await?;
            return Err(OAuthError::invalid_grant("the refresh token was already used"));
        }
        publish_consumed(p, &rec, "rotated", now);
    }
    let auth_time = auth_time_of(&rec);
    user_tokens(
        p,
        client,
        &user,
        UserGrant {
            scopes,
            auth_time,
            authn: authn_of(&rec),
            nonce: None,
            grant_type: GrantType::RefreshToken.as_str(),
            grant_id: rec.grant_id.clone().unwrap_or_else(ids::token_id),
            parent_id: Some(rec.id.clone()),
            refresh: if rotate {
                RefreshPolicy::Rotate(original)
            } else {
                RefreshPolicy::Keep(presented.to_string())
            },
            resources,
            granted_resources,
        },
    )
    .await
}

/// The resource owner password credentials grant (RFC 6749 §4.3), for clients that list it.
async fn password(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    let username = form.require("username")?;
    let password = form.require("password")?;
    let scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let resources = resource_indicators::for_client(p, client, form)?;
    let bad = || OAuthError::invalid_grant("wrong username or password");
    let user = p.store.find_user(username).await?.ok_or_else(bad)?;
    let hash = user.password_hash.clone().ok_or_else(bad)?;
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || crate::password::verify(&pw, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(bad());
    }
    user_tokens(
        p,
        client,
        &user,
        UserGrant {
            scopes,
            auth_time: p.clock.now(),
            authn: Authn {
                acr: user.user.acr.clone(),
                amr: crate::oauth::acr::methods(&user.user, true),
                id_token_claims: Vec::new(),
                sid: None,
            },
            nonce: None,
            grant_type: GrantType::Password.as_str(),
            grant_id: ids::token_id(),
            parent_id: None,
            refresh: RefreshPolicy::New,
            granted_resources: resources.clone(),
            resources,
        },
    )
    .await
}
