//! Validating an authorization request (RFC 6749 §4.1.1, §4.1.2.1, §3.1.2; OIDC Core
//! §3.1.2.1, §3.1.2.2; RFC 7636 §4.3), including its size limits.
//!
//! Until the client and its redirect URI are established nothing is redirected: the outcome is
//! an error page. From then on errors go to the redirect URI (RFC 6749 §4.1.2.1).

use std::sync::Arc;

use super::{AuthRequest, Outcome, Prompt, RESPONSE_TYPES, ResponseMode, ResponseTypes};
use super::{error_page, error_response, fail};
use crate::model::{Client, GrantType};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::pkce::{self, Method};
use crate::oauth::{redirect_uri, scope};
use crate::provider::Provider;

/// The largest value of one authorization request parameter, in bytes (decoded). `state`,
/// `nonce` and `login_hint` are kept while the user signs in, so they are bounded; 4 KiB is far
/// more than any real client sends (a PKCE challenge is at most 128 characters).
pub const MAX_PARAM: usize = 4 * 1024;
/// The largest authorization request as a whole (all names and values, decoded), in bytes.
pub const MAX_REQUEST: usize = 16 * 1024;

/// The first size limit `form` exceeds, as a description for `invalid_request`.
fn oversize(form: &Form) -> Option<String> {
    if let Some((k, v)) = form.pairs().iter().find(|(k, v)| k.len() + v.len() > MAX_PARAM) {
        let name: String = k.chars().take(40).collect();
        return Some(format!(
            "parameter `{name}` is {} bytes; the limit is {MAX_PARAM} bytes per parameter",
            k.len() + v.len()
        ));
    }
    let total = form.size();
    (total > MAX_REQUEST)
        .then(|| format!("the authorization request is {total} bytes; the limit is {MAX_REQUEST} bytes"))
}

/// A parameter value if it is within [`MAX_PARAM`] (an oversized `state` is not echoed).
fn small(v: Option<&str>) -> Option<&str> {
    v.filter(|v| v.len() <= MAX_PARAM)
}

/// The "Redirect URI mismatch" page: the rule, and what was registered and requested.
fn mismatch(client: &Client, uri: &str) -> Box<Outcome> {
    let registered = if client.redirect_uris.is_empty() {
        "none".to_string()
    } else {
        client.redirect_uris.join(", ")
    };
    let shown: String = uri.chars().take(300).collect();
    let mut hint = String::new();
    if uri.starts_with("http://localhost:") || uri.starts_with("http://localhost/") {
        hint = " A native app that picks its port at run time should register and use                 http://127.0.0.1/… or http://[::1]/… instead of localhost (RFC 8252 §7.3, §8.3)."
            .into();
    }
    Box::new(error_page(
        "Redirect URI mismatch",
        format!(
            "Requested redirect_uri: {shown}. Registered for client `{}`: {registered}.              Redirect URIs must match a registered one exactly, character for character              (RFC 6749 §3.1.2, RFC 9700 §4.1.3); the only exception is the port of a loopback IP              redirect URI (http://127.0.0.1 or http://[::1]), which may differ so native apps can              listen on any free port (RFC 8252 §7.3).{hint}",
            client.client_id
        ),
    ))
}

/// Validates the request. `Err` is the outcome to show (an error page or an error redirect).
pub fn parse(p: &Provider, form: &Form) -> Result<(Arc<Client>, AuthRequest), Box<Outcome>> {
    let page = |t: &str, m: String| Box::new(error_page(t, m));
    let too_big = oversize(form);
    // Until the client and redirect URI are established, nothing may be redirected.
    for name in ["client_id", "redirect_uri"] {
        if form.get(name).ok().flatten().is_some_and(|v| v.len() > MAX_PARAM) {
            return Err(page(
                "Request too large",
                format!("The `{name}` parameter is larger than {MAX_PARAM} bytes."),
            ));
        }
    }
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
            if !redirect_uri::is_registered(&client.redirect_uris, uri) {
                return Err(mismatch(&client, uri));
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
    let state = small(state.ok().flatten()).map(str::to_string);
    let raw_mode = raw_mode.ok().flatten();
    let early = |mode: ResponseMode, code: ErrorCode, d: String| {
        Box::new(error_response(p, &redirect_uri, mode, state.as_deref(), code, d))
    };
    let guess_mode = |r: Option<ResponseTypes>| {
        raw_mode
            .and_then(ResponseMode::parse)
            .unwrap_or_else(|| r.map_or(ResponseMode::Query, ResponseMode::default_for))
    };
    if let Some(d) = too_big {
        let r = form.get("response_type").ok().flatten().and_then(ResponseTypes::parse);
        return Err(early(guess_mode(r), ErrorCode::InvalidRequest, d));
    }
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
        acr: crate::oauth::acr::AcrRequest::default(),
        dpop_jkt: None,
        resources: Vec::new(),
        pushed: None,
    };
    let checked =
        check(&client, form, &mut req).and_then(|()| crate::oauth::resource_indicators::for_client(p, &client, form));
    match checked {
        Ok(resources) => {
            req.resources = resources;
            Ok((client, req))
        }
        Err(e) => Err(Box::new(fail(p, &req, e.code, e.description))),
    }
}

/// The checks whose failures are redirected to the client.
fn check(client: &Client, form: &Form, req: &mut AuthRequest) -> Result<(), OAuthError> {
    for (param, code, why) in [
        ("request", ErrorCode::RequestNotSupported, ""),
        (
            "request_uri",
            ErrorCode::RequestUriNotSupported,
            "; only the request_uri values the pushed authorization request endpoint issues are (RFC 9126)",
        ),
        ("registration", ErrorCode::RegistrationNotSupported, ""),
    ] {
        if form.get(param)?.is_some() {
            return Err(OAuthError::new(
                code,
                format!("the `{param}` parameter is not supported (OIDC Core §6, §7.2.1){why}"),
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
    // RFC 9449 §10: binds the code to a DPoP key; the token request must prove it.
    if let Some(jkt) = form.get("dpop_jkt")? {
        if !crate::oauth::dpop::proof::is_thumbprint(jkt) {
            return Err(OAuthError::invalid_request(
                "dpop_jkt must be a JWK SHA-256 thumbprint: 43 base64url characters (RFC 9449 §10, RFC 7638)",
            ));
        }
        req.dpop_jkt = Some(jkt.to_string());
    }
    req.acr = crate::oauth::acr::AcrRequest::parse(form.get("acr_values")?, form.get("claims")?)?;
    Ok(())
}
