//! Handlers of the browser-facing OpenID Connect endpoints: authorize, login, consent,
//! userinfo and end_session, plus CORS for browser apps. Each extracts, makes one call into
//! `crate::oauth`, and renders.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::no_store;
use super::extract::PageForm;
use super::oauth::AppState;
use super::pages;
use crate::oauth::authorize::{self, LoginInput, Outcome, ResponseMode};
use crate::oauth::form::Form;
use crate::oauth::logout::{self, LogoutOutcome};
use crate::oauth::session::{COOKIE, Session};
use crate::oauth::{OAuthError, paths, userinfo};
use crate::provider::Provider;

fn query_form(q: Option<String>) -> Result<Form, OAuthError> {
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

/// The session cookie's value.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn cookie_path(p: &Provider) -> String {
    if p.issuer.path.is_empty() {
        "/".to_string()
    } else {
        p.issuer.path.clone()
    }
}

fn set_cookie(p: &Provider, resp: &mut Response, session: &Session) {
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
fn render(p: &Provider, outcome: Outcome) -> Response {
    match outcome {
        Outcome::ErrorPage { title, message } => pages::error(&title, &message),
        Outcome::Respond(r) => match r.mode {
            ResponseMode::FormPost => pages::form_post(&r),
            _ => no_store(Redirect::to(&r.location()).into_response()),
        },
        Outcome::Login(v) => pages::login(&v, &p.issuer.url(paths::LOGIN)),
        Outcome::Consent(v) => pages::consent(&v, &p.issuer.url(paths::CONSENT)),
    }
}

/// Authorization endpoint, GET (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).
pub async fn authorize_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    match query_form(q) {
        Ok(form) => render(
            &p,
            authorize::authorize(&p, &form, session_cookie(&headers).as_deref()).await,
        ),
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// Authorization endpoint, POST (OIDC Core §3.1.2.1: both methods are supported).
pub async fn authorize_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    render(
        &p,
        authorize::authorize(&p, &form, session_cookie(&headers).as_deref()).await,
    )
}

/// The login page (Latchkey's own, design §3.3).
pub async fn login_get(State(p): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let form = match query_form(q) {
        Ok(f) => f,
        Err(e) => return pages::error("Invalid request", &e.description),
    };
    match form.require("req") {
        Ok(id) => render(
            &p,
            authorize::login_page(&p, id, session_cookie(&headers).as_deref()).await,
        ),
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// The login form's target: a persona click, a username and password, or "continue as".
pub async fn login_post(State(p): State<AppState>, headers: HeaderMap, PageForm(form): PageForm) -> Response {
    let input = match LoginInput::from_form(&form) {
        Ok(i) => i,
        Err(e) => return pages::error("Invalid request", &e.description),
    };
    let (outcome, session) = authorize::login(&p, input, session_cookie(&headers).as_deref()).await;
    let mut resp = render(&p, outcome);
    if let Some(s) = session {
        set_cookie(&p, &mut resp, &s);
    }
    resp
}

/// The consent page.
pub async fn consent_get(State(p): State<AppState>, RawQuery(q): RawQuery) -> Response {
    match query_form(q).and_then(|f| f.require("req").map(str::to_string)) {
        Ok(id) => render(&p, authorize::consent_page(&p, &id).await),
        Err(e) => pages::error("Invalid request", &e.description),
    }
}

/// The consent form's target: `decision=approve` or `decision=deny`.
pub async fn consent_post(State(p): State<AppState>, PageForm(form): PageForm) -> Response {
    let (id, decision) = match (form.require("req"), form.get("decision")) {
        (Ok(id), Ok(d)) => (id.to_string(), d),
        (Err(e), _) | (_, Err(e)) => return pages::error("Invalid request", &e.description),
    };
    render(&p, authorize::consent(&p, &id, decision == Some("approve")).await)
}

/// UserInfo endpoint, GET and POST (OIDC Core §5.3; RFC 6750 §2.1, §2.2, §3).
pub async fn userinfo(State(p): State<AppState>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let header_token = userinfo::bearer(headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes))?;
        let body_token = if method == Method::POST && !body.is_empty() {
            body_form(&headers, &body)?.get("access_token")?.map(str::to_string)
        } else {
            None
        };
        userinfo::userinfo(&p, header_token, body_token).await
    }
    .await;
    match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
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
    let confirmed = method == Method::POST && form.get("confirm").ok().flatten() == Some("yes");
    let outcome = logout::end_session(&p, &form, confirmed).await;
    let mut resp = match &outcome {
        LogoutOutcome::Error(m) => return pages::error("Invalid logout request", m),
        LogoutOutcome::Confirm { client_name, params } => {
            return pages::logout_confirm(client_name.as_deref(), params, &p.issuer.url(paths::END_SESSION));
        }
        LogoutOutcome::Redirect(url) => no_store(Redirect::to(url).into_response()),
        LogoutOutcome::Done => pages::logged_out(),
    };
    if let Some(id) = session_cookie(&headers) {
        p.interactions.end_session(&id);
    }
    clear_cookie(&p, &mut resp);
    resp
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    match u.origin() {
        url::Origin::Tuple(..) => Some(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Whether `origin` is that of a registered redirect or post-logout URI.
pub fn registered_origin(p: &Provider, origin: &str) -> bool {
    p.clients().iter().any(|c| {
        c.redirect_uris
            .iter()
            .chain(c.post_logout_redirect_uris.iter())
            .any(|u| origin_of(u).as_deref() == Some(origin))
    })
}

/// CORS for browser apps (Fetch standard): discovery and JWKS are public; token, userinfo,
/// revocation and introspection answer the origins of registered redirect URIs, so an SPA on
/// `http://localhost:3000` can complete the whole flow. Preflights are answered here.
pub async fn cors(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    let path = req.uri().path().trim_start_matches(p.issuer.path.as_str()).to_string();
    let public = path == paths::JWKS || path.starts_with("/.well-known/");
    let allowed = public || registered_origin(&p, &origin);
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        if allowed {
            add_cors(&mut resp, &origin, public);
            let h = resp.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, DPoP"),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    if allowed {
        add_cors(&mut resp, &origin, public);
    }
    resp
}

fn add_cors(resp: &mut Response, origin: &str, public: bool) {
    let h = resp.headers_mut();
    if public {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
}
