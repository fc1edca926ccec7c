//! The consent step: whether to ask (OIDC Core §3.1.2.4; RFC 8252 §8.6 for public clients), the
//! consent page, and its form's target.
//!
//! A client that `require_consent`s asks for scopes the user has not approved yet. Whether an
//! approval is remembered is the client's `remember_consent` (default: remembered for
//! confidential clients; asked every time for public clients, whose identity cannot be verified,
//! RFC 8252 §8.6). `prompt=consent` asks every client, remembered decisions or not.

use super::{Browser, ConsentView, Outcome, ScopeLine, display_name, fail, refused, respond};
use crate::model::Client;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::pending::Refusal;
use crate::oauth::request::AuthRequest;
use crate::oauth::session::Session;
use crate::provider::Provider;

/// After authentication: ask for consent if needed, else answer. `parked`: the pending request
/// the user signed in to (none when a session answered `/authorize` at once); `binding`: the
/// browser's binding cookie, for a request parked here.
pub(super) async fn after_login(
    p: &Provider,
    client: &Client,
    req: AuthRequest,
    session: Session,
    parked: Option<&str>,
    binding: &str,
) -> Outcome {
    let ask = if req.prompt.consent {
        true
    } else if !client.require_consent {
        false
    } else if !client.remembers_consent() {
        true
    } else {
        let remembered = match p.store.consented_scopes(&session.username, &client.client_id).await {
            Ok(v) => v,
            Err(e) => return fail(p, &req, ErrorCode::ServerError, OAuthError::server(e).description),
        };
        !req.scopes.iter().all(|s| remembered.contains(s))
    };
    if ask {
        if req.prompt.none {
            let why = if client.require_consent && !client.remembers_consent() {
                "prompt=none, but this client asks for consent every time (a public client's consent is \
                 not remembered, RFC 8252 §8.6; see its remember_consent setting)"
            } else {
                "prompt=none, but the user has not consented to these scopes for this client"
            };
            return fail(p, &req, ErrorCode::ConsentRequired, why);
        }
        let now = p.clock.now();
        let id = match parked {
            Some(id) => {
                p.pending.set_authenticated(id, session.clone());
                id.to_string()
            }
            None => p.pending.park(req.clone(), Some(session.clone()), binding, now),
        };
        return consent_view(p, &id, client, &req, &session.username);
    }
    if let Some(id) = parked {
        let _ = p.pending.take(id, Some(binding), p.clock.now());
    }
    respond::respond(p, client, &req, &session).await
}

fn consent_view(p: &Provider, pending: &str, client: &Client, req: &AuthRequest, username: &str) -> Outcome {
    let registry = p.scopes();
    let scopes = req
        .scopes
        .iter()
        .map(|s| ScopeLine {
            name: s.clone(),
            description: registry
                .iter()
                .find(|r| &r.name == s)
                .map(|r| r.description.clone())
                .unwrap_or_default(),
        })
        .collect();
    Outcome::Consent(ConsentView {
        pending: pending.to_string(),
        client_name: display_name(client),
        client_id: client.client_id.clone(),
        username: username.to_string(),
        scopes,
        resources: req.resources.clone(),
        remembered: client.remembers_consent(),
        notice: crate::oauth::registration::consent_notice(p, client),
    })
}

/// GET `/consent?req=...`: shows the consent page for a parked, authenticated request (only to
/// the browser that started it).
pub async fn consent_page(p: &Provider, pending: &str, browser: Browser<'_>) -> Outcome {
    let parked = match p.pending.get(pending, browser.flow, p.clock.now()) {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let (Some(client), Some(s)) = (p.client(&parked.request.client_id), parked.authenticated.as_ref()) else {
        return refused(Refusal::Unknown);
    };
    consent_view(p, pending, &client, &parked.request, &s.username)
}

/// POST `/consent`: `approve` or deny. A denial is `access_denied` (RFC 6749 §4.1.2.1). Refused
/// (nothing issued, the request stays parked) unless the browser presents the binding cookie of
/// the browser that started the request and the user has signed in to it.
pub async fn consent(p: &Provider, pending: &str, approve: bool, browser: Browser<'_>) -> Outcome {
    let now = p.clock.now();
    match p.pending.get(pending, browser.flow, now) {
        Ok(parked) if parked.authenticated.is_some() => {}
        Ok(_) => {
            return super::error_page(
                "Not signed in",
                "This authorization request has no signed-in user yet; sign in first. No code was issued.",
            );
        }
        Err(r) => return refused(r),
    }
    let parked = match p.pending.take(pending, browser.flow, now) {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let (Some(client), Some(session)) = (p.client(&parked.request.client_id), parked.authenticated.clone()) else {
        return refused(Refusal::Unknown);
    };
    let req = parked.request;
    if !approve {
        return fail(p, &req, ErrorCode::AccessDenied, "the user denied the request");
    }
    if client.remembers_consent()
        && let Err(e) = p
            .store
            .remember_consent(&session.username, &client.client_id, &req.scopes, now)
            .await
    {
        return fail(p, &req, ErrorCode::ServerError, OAuthError::server(e).description);
    }
    respond::respond(p, &client, &req, &session).await
}
