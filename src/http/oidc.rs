//! Handlers of the browser-facing OpenID Connect endpoints: authorize, login, consent,
//! userinfo and end_session, plus CORS for browser apps. Each extracts, makes one call into
//! `crate::oauth`, and renders.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::{bearer_error, no_store};
use super::extract::PageForm;
use super::oauth::AppState;
use super::pages;
use crate::oauth::authorize::{self, Browser, LoginInput, Outcome, ResponseMode};
use crate::oauth::bearer::BearerRequest;
use crate::oauth::dpop;
use crate::oauth::form::Form;
use crate::oauth::logout::{self, LogoutOutcome};
use crate::oauth::pending::PENDING_TTL;
use crate::oauth::session::{COOKIE, FLOW_COOKIE, Session};
use crate::oauth::{OAuthError, paths, userinfo};
use crate::provider::Provider;

pub(super) fn query_form(q: Option<String>) -> Result<Form, OAuthError> {
    Form::parse(q.unwrap_or_default().as_bytes())
}

fn body_form(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Form::parse(body)
}

/// The value of the cookie `name`.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The session cookie's value.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The browser's flow-binding cookie, if it has the shape Latchkey gives it (256 random bits,
/// base64url).
pub(crate) fn flow_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, FLOW_COOKIE)
        .filter(|v| v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Sets the flow-binding cookie for the login and consent pages only (one cookie per path),
/// HttpOnly, SameSite=Lax, for as long as a pending request lives.
fn set_flow_cookie(p: &Provider, resp: &mut Response, value: &str) {
    let secure = if p.issuer.id.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    for path in [paths::LOGIN, paths::CONSENT] {
        let value = format!(
            "{FLOW_COOKIE}={value}; Path={}{path}; Max-Age={PENDING_TTL}; HttpOnly; SameSite=Lax{secure}",
            p.issuer.path
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Runs `/authorize` with this browser's cookies; a login or consent page also (re)sets the
/// flow-binding cookie the pending request is bound to.
async fn authorize_with(p: &Provider, headers: &HeaderMap, form: &crate::oauth::form::Form) -> Response {
    let session = session_cookie(headers);
    let flow = flow_cookie(headers).unwrap_or_else(crate::ids::opaque_token);
    let browser = Browser {
        session: session.as_deref(),
        flow: Some(&flow),
    };
    let (outcome, session) = authorize::authorize(p, form, browser).await;
    let parks = outcome.parks();
    let mut resp = render(p, outcome);
    // The request log links a pushed request (RFC 9126) to the authorization request using it.
    if let Ok(Some(uri)) = form.get("request_uri") {
        resp.extensions_mut()
            .insert(std::sync::Arc::new(crate::oauth::authorize::pushed::PushMark {
                request_uri: uri.to_string(),
                pushed: false,
            }));
    }
    if parks {
        set_flow_cookie(p, &mut resp, &flow);
    }
    if let Some(s) = session {
        // A hands-free login signed a persona in.
        set_cookie(p, &mut resp, &s);
    }
    resp
}

fn cookie_path(p: &Provider) -> String {
    if p.issuer.path.is_empty() {
        "/".to_string()
    } else {
        p.issuer.path.clone()
    }
}

pub(super) fn set_cookie(p: &Provider, resp: &mut Response, session: &Session) {
    let secure = if p.issuer.id.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{COOKIE}={}; Path={}; HttpOnly; SameSite=Lax{secure}",
        session.id,
        cookie_path(p)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn clear_cookie(p: &Provider, resp: &mut Response) {
    let value = format!("{COOKIE}=; Path={}; HttpOnly; SameSite=Lax; Max-Age=0", cookie_path(p));
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Renders an authorization step.
pub(crate) fn render(p: &Provider, outcome: Outcome) -> Response {
    match outcome {
        Outcome::ErrorPage { title, message } => pages::error(&title, &message),
        // The redirect URI was registered, but possibly by an older Latchkey that let a
        // `javascript:` URI through: checked again before the browser is sent anywhere.
        Outcome::Respond(r) => match (crate::validate::check_navigation_target(&r.redirect_uri), r.mode) {
            (Err(why), _) => pages::unsafe_target("redirect_uri", &r.redirect_uri, &why),
            (Ok(()), ResponseMode::FormPost) => pages::form_post(&r),
            (Ok(()), _) => no_store(Redirect::to(&r.location()).into_response()),
        },
        Outcome::Login(v) => pages::login(&v, &p.issuer.url(paths::LOGIN)),
        Outcome::Consent(v) => pages::consent(&v, &p.issuer.url(paths::CONSENT)),
    }
}

/// Authorization endpoint, GET (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).
pub async fn authorize_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    match query_form(q) {
        Ok(form) => authorize_with(&p, &headers, &form).await,
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// Authorization endpoint, POST (OIDC Core §3.1.2.1: both methods are supported).
pub async fn authorize_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    authorize_with(&p, &headers, &form).await
}

/// The login page (Latchkey's own, design §3.3).
pub async fn login_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let form = match query_form(q) {
        Ok(f) => f,
        Err(e) => return pages::error("Invalid request", &e.description),
    };
    let (session, flow) = (session_cookie(&headers), flow_cookie(&headers));
    let browser = Browser {
        session: session.as_deref(),
        flow: flow.as_deref(),
    };
    match form.require("req") {
        Ok(id) => render(&p, authorize::login_page(&p, id, browser).await),
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// The login form's target: a persona click, a username and password, or "continue as".
pub async fn login_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    let input = match LoginInput::from_form(&form) {
        Ok(i) => i,
        Err(e) => return pages::error("Invalid request", &e.description),
    };
    let (session, flow) = (session_cookie(&headers), flow_cookie(&headers));
    let browser = Browser {
        session: session.as_deref(),
        flow: flow.as_deref(),
    };
    let (outcome, session) = authorize::login(&p, input, browser).await;
    let mut resp = render(&p, outcome);
    if let Some(s) = session {
        set_cookie(&p, &mut resp, &s);
    }
    resp
}

/// The consent page.
pub async fn consent_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let flow = flow_cookie(&headers);
    let browser = Browser {
        session: None,
        flow: flow.as_deref(),
    };
    match query_form(q).and_then(|f| f.require("req").map(str::to_string)) {
        Ok(id) => render(&p, authorize::consent_page(&p, &id, browser).await),
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// The consent form's target: `decision=approve` or `decision=deny`.
pub async fn consent_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    let (id, decision) = match (form.require("req"), form.get("decision")) {
        (Ok(id), Ok(d)) => (id.to_string(), d),
        (Err(e), _) | (_, Err(e)) => return pages::error("Invalid request", &e.description),
    };
    let flow = flow_cookie(&headers);
    let browser = Browser {
        session: None,
        flow: flow.as_deref(),
    };
    render(
        &p,
        authorize::consent(&p, &id, decision == Some("approve"), browser).await,
    )
}

/// UserInfo endpoint, GET and POST (OIDC Core §5.3; RFC 6750 §2.1, §2.2, §3; DPoP-bound
/// tokens with `Authorization: DPoP` and a proof, RFC 9449 §7).
pub async fn userinfo(
    State(p): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let dpop_seen = dpop::DpopSeen::default();
    let proofs = super::oauth::dpop_headers(&headers);
    let result = async {
        let form = if method == Method::POST && !body.is_empty() {
            Some(body_form(&headers, &body)?)
        } else {
            None
        };
        let authorization: Vec<&[u8]> = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        let (scheme, token) = dpop::presented_token(&BearerRequest {
            authorization: &authorization,
            form_token: match &form {
                Some(f) => f.get("access_token")?,
                None => None,
            },
            query_token: query_has(q.as_deref(), "access_token"),
        })?;
        let proof = dpop::ProofRequest {
            proofs: &proofs,
            method: method.as_str(),
            path: paths::USERINFO,
        };
        userinfo::userinfo_dpop(&p, scheme, token, &proof, &dpop_seen).await
    }
    .await;
    let resp = match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => bearer_error(e),
    };
    super::oauth::with_dpop(&p, resp, &dpop_seen)
}

/// Whether a raw query has a parameter named `name` (with any value).
fn query_has(q: Option<&str>, name: &str) -> bool {
    q.is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == name))
}

/// End-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2, §3), GET and POST.
pub async fn end_session(
    State(p): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let form = if method == Method::POST {
        body_form(&headers, &body)
    } else {
        query_form(q)
    };
    let form = match form {
        Ok(f) => f,
        Err(e) => return pages::error("Invalid logout request", &e.description),
    };
    // A post-logout URI is checked before anything else, so an unsafe one stored by an older
    // Latchkey is neither carried into the confirmation form nor redirected to.
    if let Ok(Some(uri)) = form.get("post_logout_redirect_uri")
        && let Err(why) = crate::validate::check_navigation_target(uri)
    {
        return pages::unsafe_target("post_logout_redirect_uri", uri, &why);
    }
    let confirmed = method == Method::POST && form.get("confirm").ok().flatten() == Some("yes");
    let outcome = logout::end_session(&p, &form, confirmed).await;
    let mut resp = match &outcome {
        LogoutOutcome::Error(m) => return pages::error("Invalid logout request", m),
        LogoutOutcome::Confirm { client_name, params } => {
            return pages::logout_confirm(client_name.as_deref(), params, &p.issuer.url(paths::END_SESSION));
        }
        LogoutOutcome::Redirect(url) => match crate::validate::check_navigation_target(url) {
            Err(why) => return pages::unsafe_target("post_logout_redirect_uri", url, &why),
            Ok(()) => no_store(Redirect::to(url).into_response()),
        },
        LogoutOutcome::Done => pages::logged_out(),
    };
    // Back-channel logouts go out before the browser is answered (each bounded by the
    // timeout), so the relying party it lands on has already been told.
    if let Some(id) = session_cookie(&headers) {
        crate::oauth::backchannel_logout::end_by_cookie(&p, &id).await;
    }
    clear_cookie(&p, &mut resp);
    resp
}

/// CORS for browser apps (Fetch standard): discovery and JWKS are public; token, userinfo,
/// revocation and introspection answer the origins of registered redirect URIs, so an SPA on
/// `http://localhost:3000` can complete the whole flow. Preflights are answered here.
pub async fn cors(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().trim_start_matches(p.issuer.path.as_str());
    let public = path == paths::JWKS || path.starts_with("/.well-known/");
    let policy = super::cors::Policy {
        public,
        methods: "GET, POST, OPTIONS",
        expose: "WWW-Authenticate, DPoP-Nonce",
    };
    super::cors::apply(&p, policy, req, next).await
}
