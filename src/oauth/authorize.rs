//! The authorization endpoint (RFC 6749 §4.1, §4.2; OIDC Core §3.1.2, §3.2.2, §3.3.2;
//! RFC 7636 PKCE; RFC 9207 `iss`; OAuth 2.0 Form Post Response Mode), with the login and consent
//! steps that sit between the request and the response.
//!
//! Strict where production providers are strict: the redirect URI must match a registered one
//! exactly, and until it does no error is ever redirected (an error page is shown instead);
//! public clients must use PKCE; implicit and hybrid requests need a nonce.

use std::sync::Arc;

use serde_json::{Value, json};

use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::id_token::{self, IdTokenRequest};
use super::issue::{self, AccessTokenRequest};
use super::pkce::{self, Method};
use super::scope;
use super::session::Session;
use crate::ids;
use crate::model::{Client, GrantType, TokenFormat};
use crate::provider::Provider;
use crate::store::{StoredUser, TokenKind, TokenRecord, TokenStatus};

/// Which of `code`, `token` and `id_token` a `response_type` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseTypes {
    /// `code`
    pub code: bool,
    /// `token`
    pub token: bool,
    /// `id_token`
    pub id_token: bool,
}

impl ResponseTypes {
    /// Parses a `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices §3).
    pub fn parse(raw: &str) -> Option<ResponseTypes> {
        let mut r = ResponseTypes::default();
        for part in raw.split(' ').filter(|s| !s.is_empty()) {
            let slot = match part {
                "code" => &mut r.code,
                "token" => &mut r.token,
                "id_token" => &mut r.id_token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        (r.code || r.token || r.id_token).then_some(r)
    }

    /// Whether this is the plain authorization code flow.
    pub fn is_code_only(self) -> bool {
        self.code && !self.token && !self.id_token
    }
}

/// The response types this server supports, for discovery.
pub const RESPONSE_TYPES: &[&str] = &[
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "token",
];

/// How the response travels back (OAuth 2.0 Multiple Response Types §2.1; Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query.
    Query,
    /// In the redirect URI's fragment.
    Fragment,
    /// An auto-submitted HTML form POSTed to the redirect URI.
    FormPost,
}

impl ResponseMode {
    fn parse(s: &str) -> Option<ResponseMode> {
        match s {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }

    fn default_for(r: ResponseTypes) -> ResponseMode {
        if r.is_code_only() {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }
}

/// The `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    /// `none`: no UI at all.
    pub none: bool,
    /// `login`: re-authenticate.
    pub login: bool,
    /// `consent`: ask for consent again.
    pub consent: bool,
    /// `select_account`: show the account chooser.
    pub select_account: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// Where the response goes (a registered URI).
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (then the token request must repeat it).
    pub redirect_uri_given: bool,
    /// What to return.
    pub response: ResponseTypes,
    /// How to return it.
    pub mode: ResponseMode,
    /// Requested (and allowed) scopes.
    pub scopes: Vec<String>,
    /// Round-tripped as is.
    pub state: Option<String>,
    /// Put into the id_token.
    pub nonce: Option<String>,
    /// The PKCE challenge.
    pub pkce: Option<(String, Method)>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// Pre-selects a persona.
    pub login_hint: Option<String>,
}

/// An authorization response (success or error) to deliver to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// How.
    pub mode: ResponseMode,
    /// The parameters.
    pub params: Vec<(String, String)>,
}

impl AuthResponse {
    /// The redirect URL for query and fragment modes.
    pub fn location(&self) -> String {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter())
            .finish();
        match self.mode {
            ResponseMode::Fragment => format!("{}#{}", self.redirect_uri, encoded),
            _ => {
                let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
                format!("{}{}{}", self.redirect_uri, sep, encoded)
            }
        }
    }
}

impl AuthRequest {
    /// Whether an existing browser session may answer this request ("continue as"): not under
    /// `prompt=login`, and not when it is older than `max_age` (OIDC Core §3.1.2.1).
    pub fn accepts_session(&self, s: &Session, now: i64) -> bool {
        !self.prompt.login && self.max_age.is_none_or(|m| s.auth_time.saturating_add(m) >= now)
    }
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

/// Validates the request. `Err` is the outcome to show (an error page or an error redirect).
fn parse(p: &Provider, form: &Form) -> Result<(Arc<Client>, AuthRequest), Box<Outcome>> {
    let page = |t: &str, m: String| Box::new(error_page(t, m));
    // Until the client and redirect URI are established, nothing may be redirected.
    let client_id = match form.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Err(page(
                "Missing client_id",
                "The authorization request has no client_id.".into(),
            ));
        }
        Err(e) => return Err(page("Invalid request", e.description)),
    };
    let Some(client) = p.client(client_id) else {
        return Err(page(
            "Unknown client",
            format!("No client with client_id `{client_id}` is registered in Latchkey."),
        ));
    };
    let (redirect_uri, given) = match form.get("redirect_uri") {
        Err(e) => return Err(page("Invalid request", e.description)),
        Ok(Some(uri)) => {
            if !client.redirect_uris.iter().any(|r| r == uri) {
                return Err(page(
                    "Redirect URI mismatch",
                    format!(
                        "redirect_uri `{uri}` is not registered for client `{client_id}`. Registered: {}. \
                         Redirect URIs must match exactly (RFC 6749 §3.1.2).",
                        if client.redirect_uris.is_empty() {
                            "none".to_string()
                        } else {
                            client.redirect_uris.join(", ")
                        }
                    ),
                ));
            }
            (uri.to_string(), true)
        }
        Ok(None) => match client.redirect_uris.as_slice() {
            [only]
                if !form
                    .get("scope")
                    .ok()
                    .flatten()
                    .is_some_and(|s| s.split(' ').any(|x| x == "openid")) =>
            {
                (only.clone(), false)
            }
            _ => {
                return Err(page(
                    "Missing redirect_uri",
                    format!(
                        "The request for client `{client_id}` has no redirect_uri (required by OpenID Connect and when a client registers several)."
                    ),
                ));
            }
        },
    };
    // From here on, errors go back to the client. A repeated `state` or `response_mode` is
    // `invalid_request` (RFC 6749 §3.1: parameters MUST NOT be included more than once); the
    // error then carries no `state` (there is no single one to echo) and uses the default
    // response mode.
    let (state, raw_mode) = (form.get("state"), form.get("response_mode"));
    let repeated = state.as_ref().err().or(raw_mode.as_ref().err()).cloned();
    let state = state.ok().flatten().map(str::to_string);
    let raw_mode = raw_mode.ok().flatten();
    let early = |mode: ResponseMode, code: ErrorCode, d: String| {
        Box::new(error_response(p, &redirect_uri, mode, state.as_deref(), code, d))
    };
    let guess_mode = |r: Option<ResponseTypes>| {
        raw_mode
            .and_then(ResponseMode::parse)
            .unwrap_or_else(|| r.map_or(ResponseMode::Query, ResponseMode::default_for))
    };
    let response = match form.get("response_type") {
        Err(e) => return Err(early(guess_mode(None), ErrorCode::InvalidRequest, e.description)),
        Ok(None) => {
            return Err(early(
                guess_mode(None),
                ErrorCode::InvalidRequest,
                "missing required parameter `response_type`".into(),
            ));
        }
        Ok(Some(raw)) => match ResponseTypes::parse(raw) {
            Some(r) => r,
            None => {
                return Err(early(
                    guess_mode(None),
                    ErrorCode::UnsupportedResponseType,
                    format!(
                        "response_type `{raw}` is not supported; supported: {}",
                        RESPONSE_TYPES.join(", ")
                    ),
                ));
            }
        },
    };
    if let Some(e) = repeated {
        return Err(early(guess_mode(Some(response)), e.code, e.description));
    }
    let mode = match raw_mode {
        None => ResponseMode::default_for(response),
        Some(m) => match ResponseMode::parse(m) {
            Some(ResponseMode::Query) if !response.is_code_only() => {
                return Err(early(
                    ResponseMode::Fragment,
                    ErrorCode::InvalidRequest,
                    "response_mode=query cannot carry tokens; use fragment or form_post".into(),
                ));
            }
            Some(m) => m,
            None => {
                return Err(early(
                    guess_mode(Some(response)),
                    ErrorCode::InvalidRequest,
                    format!("response_mode `{m}` is not supported; use query, fragment or form_post"),
                ));
            }
        },
    };
    let mut req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_given: given,
        response,
        mode,
        scopes: Vec::new(),
        state,
        nonce: None,
        pkce: None,
        prompt: Prompt::default(),
        max_age: None,
        login_hint: None,
    };
    match check(p, &client, form, &mut req) {
        Ok(()) => Ok((client, req)),
        Err(e) => Err(Box::new(fail(p, &req, e.code, e.description))),
    }
}

/// The checks whose failures are redirected to the client.
fn check(_p: &Provider, client: &Client, form: &Form, req: &mut AuthRequest) -> Result<(), OAuthError> {
    for (param, code) in [
        ("request", ErrorCode::RequestNotSupported),
        ("request_uri", ErrorCode::RequestUriNotSupported),
        ("registration", ErrorCode::RegistrationNotSupported),
    ] {
        if form.get(param)?.is_some() {
            return Err(OAuthError::new(
                code,
                format!("the `{param}` parameter is not supported (OIDC Core §6, §7.2.1)"),
            ));
        }
    }
    let r = req.response;
    if r.code && !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is not allowed the authorization_code grant",
            client.client_id
        )));
    }
    if (r.token || r.id_token) && !client.allows_grant(GrantType::Implicit) {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is not allowed implicit or hybrid response types; add \"implicit\" to its grant_types",
            client.client_id
        )));
    }
    req.scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let openid = req.scopes.iter().any(|s| s == "openid");
    if r.id_token && !openid {
        return Err(OAuthError::invalid_scope(
            "response_type id_token requires the `openid` scope",
        ));
    }
    req.nonce = form.get("nonce")?.map(str::to_string);
    if r.id_token && req.nonce.is_none() {
        return Err(OAuthError::invalid_request(
            "nonce is required when the response type includes id_token (OIDC Core §3.2.2.1, §3.3.2.11)",
        ));
    }
    let challenge = form.get("code_challenge")?;
    let method_raw = form.get("code_challenge_method")?;
    match (challenge, Method::parse(method_raw)) {
        (_, None) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method `{}` is not supported; use S256 (or plain)",
                method_raw.unwrap_or_default()
            )));
        }
        (Some(c), Some(m)) => {
            if !pkce::well_formed(c) {
                return Err(OAuthError::invalid_request(
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)",
                ));
            }
            req.pkce = Some((c.to_string(), m));
        }
        (None, Some(_)) if method_raw.is_some() => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method was sent without code_challenge",
            ));
        }
        (None, Some(_)) => {
            if r.code && client.is_public() {
                return Err(OAuthError::invalid_request(format!(
                    "client `{}` is a public client and must use PKCE: send code_challenge and code_challenge_method=S256 (RFC 7636)",
                    client.client_id
                )));
            }
        }
    }
    if let Some(raw) = form.get("prompt")? {
        let mut p = Prompt::default();
        for v in raw.split(' ').filter(|s| !s.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "prompt value `{other}` is not supported"
                    )));
                }
            }
        }
        if p.none && (p.login || p.consent || p.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        req.prompt = p;
    }
    if let Some(raw) = form.get("max_age")? {
        let v: i64 = raw
            .parse()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| OAuthError::invalid_request(format!("max_age `{raw}` is not a non-negative integer")))?;
        req.max_age = Some(v);
    }
    req.login_hint = form.get("login_hint")?.map(str::to_string);
    Ok(())
}

/// Handles `/authorize` (GET query or POST form). `cookie`: the session cookie, if any.
pub async fn authorize(p: &Provider, form: &Form, cookie: Option<&str>) -> Outcome {
    let (client, req) = match parse(p, form) {
        Ok(v) => v,
        Err(outcome) => return *outcome,
    };
    let now = p.clock.now();
    let session = cookie.and_then(|c| p.interactions.session(c, now));
    let session = match session {
        Some(s) => match p.store.find_user(&s.username).await {
            Ok(Some(_)) => Some(s),
            Ok(None) => None,
            Err(e) => return fail(p, &req, ErrorCode::ServerError, OAuthError::server(e).description),
        },
        None => None,
    };
    let fresh_enough = |s: &Session| req.max_age.is_none_or(|m| s.auth_time.saturating_add(m) >= now);
    let usable = session
        .clone()
        .filter(|s| fresh_enough(s) && !req.prompt.login && !req.prompt.select_account);
    match usable {
        Some(s) => after_login(p, &client, req, s, None).await,
        None if req.prompt.none => fail(
            p,
            &req,
            ErrorCode::LoginRequired,
            "prompt=none, but no signed-in session (or one older than max_age) exists",
        ),
        None => {
            let current = session.filter(|s| req.accepts_session(s, now));
            let pending = p.interactions.park(req, None, now);
            login_view(p, &pending, &client, None, current.map(|s| s.username), None).await
        }
    }
}

async fn login_view(
    p: &Provider,
    pending: &str,
    client: &Client,
    error: Option<String>,
    current: Option<String>,
    typed: Option<String>,
) -> Outcome {
    let Some(parked) = p.interactions.pending(pending, p.clock.now()) else {
        return expired();
    };
    let users = match p.store.list_users().await {
        Ok(u) => u,
        Err(e) => return error_page("Server error", OAuthError::server(e).description),
    };
    let hint = parked.request.login_hint.clone();
    let personas = users
        .into_iter()
        .map(|u| Persona {
            name: u.user.claims.get("name").and_then(Value::as_str).map(str::to_string),
            email: u.user.claims.get("email").and_then(Value::as_str).map(str::to_string),
            hinted: hint.as_deref() == Some(u.user.username.as_str()),
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
    })
}

fn display_name(c: &Client) -> String {
    if c.name.is_empty() {
        c.client_id.clone()
    } else {
        c.name.clone()
    }
}

fn expired() -> Outcome {
    error_page(
        "Sign-in request expired",
        "This sign-in request is unknown or has expired (they last 10 minutes). Start again from your app.",
    )
}

/// GET `/login?req=...`: shows the login page for a parked request again.
pub async fn login_page(p: &Provider, pending: &str, cookie: Option<&str>) -> Outcome {
    let now = p.clock.now();
    let Some(parked) = p.interactions.pending(pending, now) else {
        return expired();
    };
    let Some(client) = p.client(&parked.request.client_id) else {
        return expired();
    };
    let current = cookie
        .and_then(|c| p.interactions.session(c, now))
        .filter(|s| parked.request.accepts_session(s, now))
        .map(|s| s.username);
    login_view(p, pending, &client, None, current, None).await
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
/// layer sets its cookie).
pub async fn login(p: &Provider, input: LoginInput, cookie: Option<&str>) -> (Outcome, Option<Session>) {
    let now = p.clock.now();
    let Some(parked) = p.interactions.pending(&input.pending, now) else {
        return (expired(), None);
    };
    let Some(client) = p.client(&parked.request.client_id) else {
        return (expired(), None);
    };
    let reusable = |s: &Session| parked.request.accepts_session(s, now);
    let retry = |msg: String| async {
        let current = cookie
            .and_then(|c| p.interactions.session(c, now))
            .filter(reusable)
            .map(|s| s.username);
        login_view(p, &input.pending, &client, Some(msg), current, input.username.clone()).await
    };
    if input.continue_session {
        if let Some(s) = cookie.and_then(|c| p.interactions.session(c, now)).filter(reusable) {
            return (
                after_login(p, &client, parked.request.clone(), s, Some(&parked.id)).await,
                None,
            );
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
    let sub = user.user.sub.clone().unwrap_or_else(|| ids::stable_sub(&username));
    let session = p.interactions.create_session(&username, &sub, now);
    let outcome = after_login(p, &client, parked.request, session.clone(), Some(&parked.id)).await;
    (outcome, Some(session))
}

/// After authentication: ask for consent if needed, else answer.
async fn after_login(
    p: &Provider,
    client: &Client,
    req: AuthRequest,
    session: Session,
    parked: Option<&str>,
) -> Outcome {
    // `prompt=consent` asks every client, remembered decisions or not (OIDC Core §3.1.2.1);
    // otherwise only clients with `require_consent` ask, for scopes not yet consented to.
    let ask = if req.prompt.consent {
        true
    } else if client.require_consent {
        let remembered = match p.store.consented_scopes(&session.username, &client.client_id).await {
            Ok(v) => v,
            Err(e) => return fail(p, &req, ErrorCode::ServerError, OAuthError::server(e).description),
        };
        !req.scopes.iter().all(|s| remembered.contains(s))
    } else {
        false
    };
    if ask {
        if req.prompt.none {
            return fail(
                p,
                &req,
                ErrorCode::ConsentRequired,
                "prompt=none, but the user has not consented to these scopes for this client",
            );
        }
        let now = p.clock.now();
        let id = match parked {
            Some(id) => {
                p.interactions.set_authenticated(id, session.clone());
                id.to_string()
            }
            None => p.interactions.park(req.clone(), Some(session.clone()), now),
        };
        return consent_view(p, &id, client, &req, &session.username);
    }
    if let Some(id) = parked {
        p.interactions.take(id, p.clock.now());
    }
    respond(p, client, &req, &session).await
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
    })
}

/// GET `/consent?req=...`: shows the consent page for a parked, authenticated request.
pub async fn consent_page(p: &Provider, pending: &str) -> Outcome {
    let Some(parked) = p.interactions.pending(pending, p.clock.now()) else {
        return expired();
    };
    let (Some(client), Some(s)) = (p.client(&parked.request.client_id), parked.authenticated.as_ref()) else {
        return expired();
    };
    consent_view(p, pending, &client, &parked.request, &s.username)
}

/// POST `/consent`: `approve` or deny. A denial is `access_denied` (RFC 6749 §4.1.2.1).
pub async fn consent(p: &Provider, pending: &str, approve: bool) -> Outcome {
    let now = p.clock.now();
    let Some(parked) = p.interactions.take(pending, now) else {
        return expired();
    };
    let (Some(client), Some(session)) = (p.client(&parked.request.client_id), parked.authenticated.clone()) else {
        return expired();
    };
    let req = parked.request;
    if !approve {
        return fail(p, &req, ErrorCode::AccessDenied, "the user denied the request");
    }
    if let Err(e) = p
        .store
        .remember_consent(&session.username, &client.client_id, &req.scopes, now)
        .await
    {
        return fail(p, &req, ErrorCode::ServerError, OAuthError::server(e).description);
    }
    respond(p, &client, &req, &session).await
}

/// Issues what the response type asks for and builds the success response.
async fn respond(p: &Provider, client: &Client, req: &AuthRequest, session: &Session) -> Outcome {
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
            "nonce": req.nonce,
            "code_challenge": req.pkce.as_ref().map(|(c, _)| c.clone()),
            "code_challenge_method": req.pkce.as_ref().map(|(_, m)| *m),
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
        };
        p.store.insert_token(record.clone()).await?;
        p.events
            .publish(p.clock.now_ms(), crate::events::Event::TokenIssued(Box::new(record)));
        params.push(("code".into(), code.clone()));
        code_value = Some(code);
    }
    let mut access = None;
    if req.response.token {
        let issued = issue::access_token(
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
                nonce: req.nonce.as_deref(),
                access_token: access.as_deref(),
                code: code_value.as_deref(),
                grant_id: Some(grant_id.clone()),
                grant_type: GrantType::Implicit.as_str(),
            },
        )
        .await?;
        params.push(("id_token".into(), token));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_order() {
        assert_eq!(
            ResponseTypes::parse("id_token code"),
            Some(ResponseTypes {
                code: true,
                token: false,
                id_token: true
            })
        );
        assert!(ResponseTypes::parse("code code").is_none());
        assert!(ResponseTypes::parse("device").is_none());
        assert!(ResponseTypes::parse("").is_none());
    }

    #[test]
    fn locations_keep_existing_queries_and_use_fragments() {
        let r = AuthResponse {
            redirect_uri: "http://localhost:3000/cb?x=1".into(),
            mode: ResponseMode::Query,
            params: vec![("code".into(), "a b".into()), ("state".into(), "s&t".into())],
        };
        assert_eq!(r.location(), "http://localhost:3000/cb?x=1&code=a+b&state=s%26t");
        let f = AuthResponse {
            mode: ResponseMode::Fragment,
            redirect_uri: "http://localhost:3000/cb".into(),
            ..r
        };
        assert_eq!(f.location(), "http://localhost:3000/cb#code=a+b&state=s%26t");
    }
}
