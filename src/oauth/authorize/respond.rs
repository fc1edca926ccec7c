//! Issuing the authorization response: a code (RFC 6749 §4.1.2), tokens for implicit and
//! hybrid response types (RFC 6749 §4.2.2, OIDC Core §3.2.2.5, §3.3.2.5), `state` and `iss`
//! (RFC 9207).

use serde_json::json;

use super::{AuthRequest, AuthResponse, Outcome, fail};
use crate::ids;
use crate::model::{Client, GrantType, TokenFormat};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::id_token::{self, IdTokenRequest};
use crate::oauth::issue::{self, AccessTokenRequest};
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::store::{TokenKind, TokenRecord, TokenStatus};

/// Issues what the response type asks for and builds the success response.
pub(super) async fn respond(p: &Provider, client: &Client, req: &AuthRequest, session: &Session) -> Outcome {
    match issue_response(p, client, req, session).await {
        Ok(r) => Outcome::Respond(r),
        Err(e) => fail(p, req, e.code, e.description),
    }
}

async fn issue_response(
    p: &Provider,
    client: &Client,
    req: &AuthRequest,
    session: &Session,
) -> Result<AuthResponse, OAuthError> {
    let user = p
        .store
        .find_user(&session.username)
        .await?
        .ok_or_else(|| OAuthError::new(ErrorCode::LoginRequired, "the signed-in user no longer exists"))?;
    let acr = req.acr.outcome(session.acr.as_deref(), &session.username)?;
    let now = p.clock.now();
    let grant_id = ids::token_id();
    let mut params: Vec<(String, String)> = Vec::new();
    let mut code_value = None;
    if req.response.code {
        let code = ids::opaque_token();
        let ttl = i64::try_from(p.settings().code_ttl.0).unwrap_or(i64::MAX);
        let claims = json!({
            "client_id": client.client_id,
            "redirect_uri": req.redirect_uri,
            "redirect_uri_given": req.redirect_uri_given,
            "scope": req.scopes.join(" "),
            "sub": session.sub,
            "username": session.username,
            "auth_time": session.auth_time,
            "acr": acr,
            "amr": session.amr,
            "sid": session.sid,
            "id_token_claims": req.acr.id_token_claims,
            "nonce": req.nonce,
            "code_challenge": req.pkce.as_ref().map(|(c, _)| c.clone()),
            "code_challenge_method": req.pkce.as_ref().map(|(_, m)| *m),
            "dpop_jkt": req.dpop_jkt,
            "resource": req.resources,
            "exp": now.saturating_add(ttl),
            "iat": now,
        });
        let record = TokenRecord {
            id: grant_id.clone(),
            hash: ids::token_hash(&code),
            kind: TokenKind::AuthorizationCode,
            format: TokenFormat::Opaque,
            client_id: client.client_id.clone(),
            subject: session.sub.clone(),
            username: Some(session.username.clone()),
            scope: req.scopes.join(" "),
            audience: vec![client.client_id.clone()],
            issued_at: now,
            expires_at: now.saturating_add(ttl),
            status: TokenStatus::Active,
            status_at: None,
            status_reason: None,
            grant_type: GrantType::AuthorizationCode.as_str().into(),
            grant_id: Some(grant_id.clone()),
            parent_id: None,
            kid: None,
            claims,
            token: code.clone(),
            replayed_at: None,
        };
        p.store.insert_token(record.clone()).await?;
        p.events
            .publish(p.clock.now_ms(), crate::events::Event::TokenIssued(Box::new(record)));
        params.push(("code".into(), code.clone()));
        code_value = Some(code);
    }
    let mut access = None;
    if req.response.token {
        let issued = issue::access_token_for(
            p,
            AccessTokenRequest {
                client,
                subject: session.sub.clone(),
                username: Some(session.username.clone()),
                scopes: req.scopes.clone(),
                grant_type: GrantType::Implicit.as_str(),
                grant_id: Some(grant_id.clone()),
                parent_id: None,
                ttl: None,
                extra_claims: serde_json::Map::new(),
            },
            (!req.resources.is_empty()).then(|| req.resources.clone()),
        )
        .await?;
        params.push(("access_token".into(), issued.token.clone()));
        params.push(("token_type".into(), "Bearer".into()));
        params.push(("expires_in".into(), issued.expires_in.to_string()));
        params.push(("scope".into(), req.scopes.join(" ")));
        access = Some(issued.token);
    }
    if req.response.id_token {
        let token = id_token::issue(
            p,
            IdTokenRequest {
                client,
                user: &user.user,
                sub: &session.sub,
                scopes: &req.scopes,
                auth_time: session.auth_time,
                acr: acr.as_deref(),
                amr: &session.amr,
                sid: Some(&session.sid),
                requested_claims: &req.acr.id_token_claims,
                nonce: req.nonce.as_deref(),
                access_token: access.as_deref(),
                code: code_value.as_deref(),
                grant_id: Some(grant_id.clone()),
                parent_id: None,
                grant_type: GrantType::Implicit.as_str(),
            },
        )
        .await?;
        params.push(("id_token".into(), token));
    }
    crate::oauth::backchannel_logout::signed_in_to(p, session, &client.client_id, &grant_id);
    if let Some(s) = &req.state {
        params.push(("state".into(), s.clone()));
    }
    params.push(("iss".into(), p.issuer.id.clone()));
    Ok(AuthResponse {
        redirect_uri: req.redirect_uri.clone(),
        mode: req.mode,
        params,
    })
}
