//! The login step: Latchkey's login page for a pending request (personas, username and
//! password, "continue as" the signed-in user) and its form's target.

use serde_json::Value;

use super::{
    AuthRequest, Browser, LoginView, Outcome, Persona, accepts_session, consent, display_name, error_page, fail,
    fresh_and_strong, refused,
};
use crate::ids;
use crate::model::Client;
use crate::oauth::acr;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::store::StoredUser;

/// Builds the login page of the parked request `pending` (made from `req`).
#[allow(clippy::too_many_arguments)]
pub(super) async fn login_view(
    p: &Provider,
    pending: &str,
    client: &Client,
    req: &AuthRequest,
    hint: Option<String>,
    error: Option<String>,
    current: Option<String>,
    typed: Option<String>,
) -> Outcome {
    let users = match p.store.list_users().await {
        Ok(u) => u,
        Err(e) => return error_page("Server error", OAuthError::server(e).description),
    };
    let asked = req.acr.requested;
    let personas = users
        .into_iter()
        .map(|u| Persona {
            name: u.user.claims.get("name").and_then(Value::as_str).map(str::to_string),
            email: u.user.claims.get("email").and_then(Value::as_str).map(str::to_string),
            hinted: hint.as_deref() == Some(u.user.username.as_str()),
            meets_acr: asked.then(|| req.acr.meets(acr::level(&u.user).unwrap_or(acr::LEVEL_ZERO))),
            acr: u.user.acr.clone(),
            username: u.user.username,
        })
        .collect();
    Outcome::Login(LoginView {
        pending: pending.to_string(),
        client_name: display_name(client),
        personas,
        username: typed.or(hint),
        error,
        current,
        acr_request: asked.then(|| (req.acr.values.clone(), req.acr.essential)),
    })
}

/// Hands-free login for browser tests (the client's or the persona's `auto_login`): signs in
/// the persona named by `login_hint`, or the only persona when there is no hint, without
/// showing the login page, through a real session (whose cookie the HTTP layer sets) and the
/// usual consent step and redirect. Not under `prompt=none` (no sign-in may happen then,
/// OIDC Core §3.1.2.1) or `prompt=select_account` (the user asked to choose), nor when a
/// usable session exists. `Ok(None)`: no hands-free login applies.
pub(super) async fn auto_login(
    p: &Provider,
    client: &Client,
    req: &AuthRequest,
    browser: Browser<'_>,
) -> Result<Option<(Outcome, Session)>, Outcome> {
    if req.prompt.none || req.prompt.select_account {
        return Ok(None);
    }
    let store_error =
        |e: crate::store::StoreError| fail(p, req, ErrorCode::ServerError, OAuthError::server(e).description);
    let user = match &req.login_hint {
        Some(hint) => p.store.find_user(hint).await.map_err(store_error)?,
        None => {
            let mut all = p.store.list_users().await.map_err(store_error)?;
            if all.len() == 1 { all.pop() } else { None }
        }
    };
    let Some(user) = user.filter(|u| client.auto_login || u.user.auto_login) else {
        return Ok(None);
    };
    let now = p.clock.now();
    if !req.prompt.login
        && let Some(c) = browser.session
        && let Some(s) = p.sessions.session(c, now)
        && fresh_and_strong(req, &s, now)
    {
        // A usable session answers as usual.
        return Ok(None);
    }
    if let Err(e) = req.acr.outcome(acr::level(&user.user), &user.user.username) {
        return Err(fail(p, req, e.code, e.description));
    }
    let username = user.user.username.clone();
    let sub = user.user.sub.clone().unwrap_or_else(|| ids::stable_sub(&username));
    let session = crate::oauth::backchannel_logout::sign_in(
        p,
        &username,
        &sub,
        user.user.acr.clone(),
        acr::methods(&user.user, false),
    );
    let binding = browser.flow.unwrap_or_default();
    let outcome = consent::after_login(p, client, req.clone(), session.clone(), None, binding).await;
    Ok(Some((outcome, session)))
}

/// GET `/login?req=...`: shows the login page for a parked request again (only to the browser
/// that started it).
pub async fn login_page(p: &Provider, pending: &str, browser: Browser<'_>) -> Outcome {
    let now = p.clock.now();
    let parked = match p.pending.get(pending, browser.flow, now) {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let Some(client) = p.client(&parked.request.client_id) else {
        return refused(crate::oauth::pending::Refusal::Unknown);
    };
    let current = browser
        .session
        .and_then(|c| p.sessions.session(c, now))
        .filter(|s| accepts_session(&parked.request, s, now))
        .map(|s| s.username);
    let hint = parked.request.login_hint.clone();
    login_view(p, pending, &client, &parked.request, hint, None, current, None).await
}

/// What the login form sent.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    /// The parked request.
    pub pending: String,
    /// Typed username.
    pub username: Option<String>,
    /// Typed password.
    pub password: Option<String>,
    /// A persona picked with one click.
    pub persona: Option<String>,
    /// "Continue as" the signed-in user.
    pub continue_session: bool,
}

impl LoginInput {
    /// Reads the login form (fields `req`, `username`, `password`, `persona`, `continue`).
    pub fn from_form(form: &Form) -> Result<LoginInput, OAuthError> {
        Ok(LoginInput {
            pending: form.require("req")?.to_string(),
            username: form.get("username")?.map(str::to_string),
            password: form.get("password")?.map(str::to_string),
            persona: form.get("persona")?.map(str::to_string),
            continue_session: form.get("continue")?.is_some(),
        })
    }
}

/// POST `/login`. Returns the outcome and, when the user signed in, the new session (the HTTP
/// layer sets its cookie). Refused (no sign-in happens) unless the browser presents the
/// binding cookie of the browser that started the request.
pub async fn login(p: &Provider, input: LoginInput, browser: Browser<'_>) -> (Outcome, Option<Session>) {
    let now = p.clock.now();
    let parked = match p.pending.get(&input.pending, browser.flow, now) {
        Ok(v) => v,
        Err(r) => return (refused(r), None),
    };
    let Some(client) = p.client(&parked.request.client_id) else {
        return (refused(crate::oauth::pending::Refusal::Unknown), None);
    };
    let binding = browser.flow.unwrap_or_default();
    let reusable = |s: &Session| accepts_session(&parked.request, s, now);
    let hint = parked.request.login_hint.clone();
    let retry = |msg: String| async {
        let current = browser
            .session
            .and_then(|c| p.sessions.session(c, now))
            .filter(reusable)
            .map(|s| s.username);
        login_view(
            p,
            &input.pending,
            &client,
            &parked.request,
            hint.clone(),
            Some(msg),
            current,
            input.username.clone(),
        )
        .await
    };
    if input.continue_session {
        if let Some(s) = browser
            .session
            .and_then(|c| p.sessions.session(c, now))
            .filter(reusable)
        {
            let outcome = consent::after_login(p, &client, parked.request.clone(), s, Some(&parked.id), binding).await;
            return (outcome, None);
        }
        return (
            retry("Your session has ended or this app asks you to sign in again.".into()).await,
            None,
        );
    }
    let (username, needs_password) = match (&input.persona, &input.username) {
        (Some(u), _) => (u.clone(), false),
        (None, Some(u)) => (u.clone(), true),
        (None, None) => {
            return (
                retry("Pick a persona or enter a username and password.".into()).await,
                None,
            );
        }
    };
    let user: StoredUser = match p.store.find_user(&username).await {
        Ok(Some(u)) => u,
        Ok(None) => return (retry(format!("There is no user `{username}`.")).await, None),
        Err(e) => return (error_page("Server error", OAuthError::server(e).description), None),
    };
    if needs_password {
        let ok = match (&user.password_hash, &input.password) {
            (Some(hash), Some(pw)) => {
                let (hash, pw) = (hash.clone(), pw.clone());
                tokio::task::spawn_blocking(move || crate::password::verify(&pw, &hash))
                    .await
                    .unwrap_or(false)
            }
            (None, _) => {
                return (
                    retry(format!("User `{username}` has no password; pick the persona instead.")).await,
                    None,
                );
            }
            (Some(_), None) => false,
        };
        if !ok {
            return (retry("Wrong username or password.".into()).await, None);
        }
    }
    if let Err(e) = parked.request.acr.outcome(acr::level(&user.user), &username) {
        // A failed authentication attempt (OIDC Core §5.5.1.1): the flow ends at the client.
        let _ = p.pending.take(&parked.id, Some(binding), now);
        return (fail(p, &parked.request, e.code, e.description), None);
    }
    let sub = user.user.sub.clone().unwrap_or_else(|| ids::stable_sub(&username));
    let session = crate::oauth::backchannel_logout::sign_in(
        p,
        &username,
        &sub,
        user.user.acr.clone(),
        acr::methods(&user.user, needs_password),
    );
    let outcome = consent::after_login(p, &client, parked.request, session.clone(), Some(&parked.id), binding).await;
    (outcome, Some(session))
}
