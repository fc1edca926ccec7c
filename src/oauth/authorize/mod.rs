//! The authorization endpoint (RFC 6749 §4.1, §4.2; OIDC Core §3.1.2, §3.2.2, §3.3.2;
//! RFC 7636 PKCE; RFC 9207 `iss`; OAuth 2.0 Form Post Response Mode), with the login and consent
//! steps that sit between the request and the response.
//!
//! Strict where production providers are strict: the redirect URI must match a registered one
//! (exactly, or with another port for a loopback IP URI, RFC 8252 §7.3; see
//! [`super::redirect_uri`]), and until it does no error is ever redirected (an error page is
//! shown instead); public clients must use PKCE; implicit and hybrid requests need a nonce;
//! parameters and whole requests are size-limited ([`parse::MAX_PARAM`],
//! [`parse::MAX_REQUEST`]). The login and consent steps of one request belong to the browser
//! that started it ([`super::pending`]).
//!
//! One concern per file: [`parse`] validates the request, [`login`] and [`consent`] are the two
//! interactive steps, [`respond`] issues the response.

pub mod consent;
pub mod login;
pub mod parse;
pub mod pushed;
pub mod pushed_store;
pub mod respond;

use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::pending::Refusal;
use super::session::Session;
use crate::model::Client;
use crate::provider::Provider;

pub use super::request::{AuthRequest, AuthResponse, Prompt, RESPONSE_TYPES, ResponseMode, ResponseTypes};
pub use consent::{consent, consent_page};
pub use login::{LoginInput, login, login_page};

/// The cookies a browser presented to the authorization, login or consent endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser<'a> {
    /// The `latchkey_session` cookie (single sign-on).
    pub session: Option<&'a str>,
    /// The `latchkey_flow` cookie binding pending requests to this browser. At `/authorize` it
    /// is the value new requests are bound to (the HTTP layer sets the cookie when a login or
    /// consent page is shown).
    pub flow: Option<&'a str>,
}

/// A persona on the login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// Login name.
    pub username: String,
    /// Display name (`name` claim), if any.
    pub name: Option<String>,
    /// `email` claim, if any.
    pub email: Option<String>,
    /// Whether it was suggested by `login_hint`.
    pub hinted: bool,
    /// The acr it authenticates at, when the request asked for one (`None`: level 0).
    pub acr: Option<String>,
    /// Whether it satisfies the request's acr; `None` when the request asked for none.
    pub meets_acr: Option<bool>,
}

/// What the login page shows.
#[derive(Debug, Clone)]
pub struct LoginView {
    /// The parked request.
    pub pending: String,
    /// The client's display name.
    pub client_name: String,
    /// One-click personas.
    pub personas: Vec<Persona>,
    /// Prefilled username.
    pub username: Option<String>,
    /// A message after a failed attempt.
    pub error: Option<String>,
    /// Who is signed in already (offered as "continue as").
    pub current: Option<String>,
    /// The acr values the request asks for, and whether they are essential (shown above the
    /// personas).
    pub acr_request: Option<(Vec<String>, bool)>,
}

/// A scope on the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLine {
    /// The scope.
    pub name: String,
    /// Its description.
    pub description: String,
}

/// What the consent page shows.
#[derive(Debug, Clone)]
pub struct ConsentView {
    /// The parked request.
    pub pending: String,
    /// The client's display name.
    pub client_name: String,
    /// The client id.
    pub client_id: String,
    /// Who is consenting.
    pub username: String,
    /// What is asked for.
    pub scopes: Vec<ScopeLine>,
    /// The APIs the tokens will be for (RFC 8707 `resource`); empty: the client's default.
    pub resources: Vec<String>,
    /// Whether the decision will be remembered for this client (else it is asked every time).
    pub remembered: bool,
    /// For a client the developer did not configure (registered dynamically, or a metadata
    /// document): how it came to exist ([`crate::oauth::registration::consent_notice`]).
    pub notice: Option<String>,
}

/// The result of an authorization step.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Something that must not be redirected (unknown client, unregistered redirect URI,
    /// expired request): shown to the user.
    ErrorPage {
        /// Short title.
        title: String,
        /// Explanation.
        message: String,
    },
    /// Deliver a response to the client.
    Respond(AuthResponse),
    /// Show the login page.
    Login(LoginView),
    /// Show the consent page.
    Consent(ConsentView),
}

impl Outcome {
    /// Whether this outcome shows a page for a parked request (login or consent), so the
    /// browser must hold the binding cookie.
    pub fn parks(&self) -> bool {
        matches!(self, Outcome::Login(_) | Outcome::Consent(_))
    }
}

fn error_page(title: &str, message: impl Into<String>) -> Outcome {
    Outcome::ErrorPage {
        title: title.to_string(),
        message: message.into(),
    }
}

/// An error delivered to the redirect URI (RFC 6749 §4.1.2.1, RFC 9207 `iss`).
fn error_response(
    p: &Provider,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    code: ErrorCode,
    description: impl Into<String>,
) -> Outcome {
    let mut params = vec![
        ("error".to_string(), code.as_str().to_string()),
        ("error_description".to_string(), description.into()),
    ];
    if let Some(s) = state {
        params.push(("state".into(), s.to_string()));
    }
    params.push(("iss".into(), p.issuer.id.clone()));
    Outcome::Respond(AuthResponse {
        redirect_uri: redirect_uri.to_string(),
        mode,
        params,
    })
}

fn fail(p: &Provider, req: &AuthRequest, code: ErrorCode, description: impl Into<String>) -> Outcome {
    error_response(p, &req.redirect_uri, req.mode, req.state.as_deref(), code, description)
}

fn display_name(c: &Client) -> String {
    if c.name.is_empty() {
        c.client_id.clone()
    } else {
        c.name.clone()
    }
}

/// The page for a pending request that cannot be used.
fn refused(r: Refusal) -> Outcome {
    match r {
        Refusal::Unknown => error_page(
            "Sign-in request expired",
            "This sign-in request is unknown or has expired (they last 10 minutes). Start again from your app.",
        ),
        Refusal::Evicted => error_page(
            "Sign-in request dropped",
            format!(
                "This sign-in request was dropped because more than {} sign-in requests were started \
                 in the last 10 minutes and it was the oldest. No code was issued. Start again from your app.",
                super::pending::MAX_PENDING
            ),
        ),
        Refusal::OtherBrowser => error_page(
            "Sign-in request from another browser",
            "This sign-in request was started in another browser, or this browser did not send the \
             cookie Latchkey set when the request started (cookies blocked or cleared). Latchkey \
             accepts a sign-in or consent decision only from the browser that opened the \
             authorization request, so a request someone else started cannot obtain your \
             authorization. No code was issued. Start again from your app in this browser.",
        ),
    }
}

/// Whether an existing browser session may answer this request ("continue as"): not under
/// `prompt=login`, not when it is older than `max_age` (OIDC Core §3.1.2.1), and not when it
/// was reached at an acr an essential `acr` request refuses (§5.5.1.1).
fn accepts_session(req: &AuthRequest, s: &Session, now: i64) -> bool {
    !req.prompt.login && fresh_and_strong(req, s, now)
}

/// `max_age` and the essential acr (the checks a session must pass even without `prompt`).
fn fresh_and_strong(req: &AuthRequest, s: &Session, now: i64) -> bool {
    req.max_age.is_none_or(|m| s.auth_time.saturating_add(m) >= now)
        && req
            .acr
            .accepts(s.acr.as_deref().unwrap_or(crate::oauth::acr::LEVEL_ZERO))
}

/// Handles `/authorize` (GET query or POST form). `browser.flow` is the binding new pending
/// requests get. Returns the outcome and, when a hands-free login signed a persona in
/// ([`login::auto_login`]), its new session (the HTTP layer sets its cookie).
pub async fn authorize(p: &Provider, form: &Form, browser: Browser<'_>) -> (Outcome, Option<Session>) {
    // A URL client_id names a Client ID Metadata Document: fetched (or taken from the cache)
    // before the client is looked up.
    if let Ok(Some(id)) = form.get("client_id")
        && let Err(why) = crate::oauth::client_metadata_document::resolve(p, id).await
    {
        return (error_page("Client ID metadata document refused", why), None);
    }
    // RFC 9126 §4: a pushed request's parameters are the request.
    let parsed = match form.get("request_uri") {
        Ok(Some(uri)) => pushed::resolve(p, form, uri),
        _ => parse::parse(p, form),
    };
    let (client, req) = match parsed {
        Ok(v) => v,
        Err(outcome) => return (*outcome, None),
    };
    if req.pushed.is_none() && pushed::required(p, &client) {
        let d = format!(
            "client `{}` must push its authorization requests to {} and send the request_uri it gets (RFC 9126 §5; {})",
            client.client_id,
            p.issuer.url(super::paths::PAR),
            if client.require_pushed_authorization_requests {
                "the client's require_pushed_authorization_requests"
            } else {
                "[server] require_pushed_authorization_requests"
            }
        );
        return (fail(p, &req, ErrorCode::InvalidRequest, d), None);
    }
    match login::auto_login(p, &client, &req, browser).await {
        Ok(Some((outcome, session))) => return (outcome, Some(session)),
        Ok(None) => {}
        Err(outcome) => return (outcome, None),
    }
    (answer(p, &client, req, browser).await, None)
}

/// The browser's live session, if its user still exists.
async fn current_session(p: &Provider, browser: Browser<'_>, now: i64) -> Result<Option<Session>, OAuthError> {
    let Some(s) = browser.session.and_then(|c| p.sessions.session(c, now)) else {
        return Ok(None);
    };
    Ok(p.store.find_user(&s.username).await?.map(|_| s))
}

/// `/authorize` without a hands-free login: a usable session answers, else the login page.
async fn answer(p: &Provider, client: &Client, req: AuthRequest, browser: Browser<'_>) -> Outcome {
    let now = p.clock.now();
    let session = match current_session(p, browser, now).await {
        Ok(s) => s,
        Err(e) => return fail(p, &req, ErrorCode::ServerError, e.description),
    };
    let usable = session
        .clone()
        .filter(|s| fresh_and_strong(&req, s, now) && !req.prompt.login && !req.prompt.select_account);
    let binding = browser.flow.unwrap_or_default();
    match usable {
        Some(s) => consent::after_login(p, client, req, s, None, binding).await,
        None if req.prompt.none => fail(
            p,
            &req,
            ErrorCode::LoginRequired,
            "prompt=none, but no signed-in session exists (or it is older than max_age, or below the essential acr)",
        ),
        None => {
            let current = session.filter(|s| accepts_session(&req, s, now));
            let hint = req.login_hint.clone();
            let view_req = req.clone();
            let pending = p.pending.park(req, None, binding, now);
            login::login_view(
                p,
                &pending,
                client,
                &view_req,
                hint,
                None,
                current.map(|s| s.username),
                None,
            )
            .await
        }
    }
}
