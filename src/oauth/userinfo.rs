//! The UserInfo endpoint (OIDC Core §5.3) with bearer-token usage per RFC 6750.

use serde_json::{Map, Value};

use super::claims;
use super::dpop::{DpopSeen, ProofRequest, Scheme};
use super::error::{ErrorCode, OAuthError};
use super::introspect::is_active;
use crate::ids;
use crate::provider::Provider;
use crate::store::TokenKind;

/// Answers a UserInfo request: the claims of the token's user released by its scopes.
/// `token`: the request's access token, found by [`super::bearer::access_token`] (RFC 6750 §2).
/// Errors: `invalid_token` (401) for a token this server did not issue as an access token, or
/// one expired or revoked; `insufficient_scope` (403, `scope="openid"`) without `openid`.
pub async fn userinfo(p: &Provider, token: String) -> Result<Value, OAuthError> {
    let none = super::dpop::ProofRequest {
        proofs: &[],
        method: "GET",
        path: super::paths::USERINFO,
    };
    userinfo_dpop(p, Scheme::Bearer, token, &none, &DpopSeen::default()).await
}

/// [`userinfo`] for a token presented with `scheme` and the request's DPoP proof (RFC 9449 §7):
/// a DPoP-bound token needs `Authorization: DPoP` and a proof from its key with `ath`; sent as
/// Bearer it is refused (§7.2). Errors, besides [`userinfo`]'s: `invalid_token`,
/// `invalid_dpop_proof` or `use_dpop_nonce` with a `DPoP` challenge. The proof's report is
/// left in `seen`.
pub async fn userinfo_dpop(
    p: &Provider,
    scheme: Scheme,
    token: String,
    proof: &ProofRequest<'_>,
    seen: &DpopSeen,
) -> Result<Value, OAuthError> {
    let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidToken, why);
    let record = p
        .store
        .find_token_by_hash(ids::token_hash(&token))
        .await?
        .ok_or_else(|| invalid("the access token was not issued by this server"))?;
    match record.kind {
        TokenKind::AccessToken => {}
        TokenKind::IdToken => {
            return Err(invalid(
                "this is an id_token; UserInfo takes the access token issued with it (OIDC Core §5.3.1)",
            ));
        }
        TokenKind::RefreshToken => {
            return Err(invalid(
                "this is a refresh token; UserInfo takes an access token (exchange the refresh token at /token first)",
            ));
        }
        _ => return Err(invalid("this is not an access token; UserInfo takes an access token")),
    }
    if !is_active(p, &record) {
        return Err(invalid("the access token is expired or revoked"));
    }
    super::dpop::at_resource(
        p,
        scheme,
        &token,
        super::dpop::jkt_of(&record.claims),
        proof,
        "userinfo",
        seen,
    )?;
    let scopes: Vec<String> = record
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::insufficient_scope(
            "the access token was not granted the `openid` scope (OIDC Core §5.3)",
            "openid",
        ));
    }
    let username = record
        .username
        .as_deref()
        .ok_or_else(|| invalid("the access token was issued to a client, not to a user"))?;
    let user = p
        .store
        .find_user(username)
        .await?
        .ok_or_else(|| invalid("the token's user no longer exists"))?;
    let released: Map<String, Value> = claims::release(&user.user, &record.subject, &scopes, &p.scopes());
    Ok(Value::Object(released))
}
