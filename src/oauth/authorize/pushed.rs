//! Pushed authorization requests (RFC 9126): the endpoint that takes an authorization request
//! over the back channel and answers a `request_uri`, the store of pushed requests, and the
//! resolution of a `request_uri` at the authorization endpoint.
//!
//! - The client authenticates at the endpoint as at the token endpoint (RFC 9126 §2,
//!   [`crate::oauth::client_auth`]); a public client sends its `client_id`.
//! - The pushed request is validated as the authorization endpoint would (RFC 9126 §2.1,
//!   [`super::parse`]); errors are RFC 6749 §5.2 JSON, never redirects.
//! - `request_uri` is `urn:ietf:params:oauth:request_uri:` + 256 random bits, valid for
//!   `[server] request_uri_ttl` seconds of the virtual clock (default 60), usable once.
//! - At `/authorize`, the pushed parameters are the request: every query parameter other than
//!   `client_id` and `request_uri` is ignored (RFC 9126 §4 refers to RFC 9101 §6.3: only the
//!   pushed parameters are used). OpenID Connect clients repeat `response_type` and `scope` in
//!   the query, so refusing them would break conforming clients.
//! - Pushed requests live in memory, at most [`MAX_PUSHED`] (one more evicts the oldest), like
//!   the pending requests of [`crate::oauth::pending`]; a restart forgets them.
//!
//! DPoP (RFC 9449 §10.1) will bind a pushed request to a key: validate the `DPoP` proof of the
//! push, then call [`push_with`] with the proof's JWK thumbprint as `dpop_jkt`; the stored
//! request then carries `dpop_jkt` exactly as if the client had sent it.

use std::sync::Arc;

use serde::Serialize;

use super::parse;
use super::{AuthRequest, Outcome, error_page, error_response};
use crate::model::Client;
use crate::oauth::assertion::AssertionSeen;
use crate::oauth::client_auth::{self, BasicAuth};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::{paths, redirect_uri};
use crate::provider::Provider;

pub use super::pushed_store::{MAX_PUSHED, PushedRequests, REQUEST_URI_PREFIX};
use super::pushed_store::{Pushed, Refusal, Spent};

/// The PAR endpoint's client authentication: public clients are accepted (RFC 9126 §2).
pub const PAR_ENDPOINT: client_auth::Endpoint = client_auth::Endpoint {
    path: paths::PAR,
    allow_public: true,
};

/// Parameters that authenticate the client at the PAR endpoint; they are not part of the
/// authorization request that is stored.
const CLIENT_AUTH_PARAMS: &[&str] = &["client_secret", "client_assertion", "client_assertion_type"];

/// The PAR endpoint's answer (RFC 9126 §2.2), sent with 201 Created.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PushResponse {
    /// `urn:ietf:params:oauth:request_uri:...`, for the authorization request.
    pub request_uri: String,
    /// Seconds until it expires (virtual clock).
    pub expires_in: u64,
}

/// Marks a request-log entry as a push (`pushed`) or an authorization request naming a
/// `request_uri`, so the log can link the two (the HTTP layer attaches it to the response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMark {
    /// The `request_uri`.
    pub request_uri: String,
    /// `true`: the push that issued it; `false`: an authorization request that used it.
    pub pushed: bool,
}

/// The RFC error code named `wire`, for turning a redirected authorization error into JSON.
fn code_of(wire: &str) -> ErrorCode {
    [
        ErrorCode::InvalidRequest,
        ErrorCode::UnauthorizedClient,
        ErrorCode::UnsupportedResponseType,
        ErrorCode::InvalidScope,
        ErrorCode::InvalidTarget,
        ErrorCode::RequestNotSupported,
        ErrorCode::RequestUriNotSupported,
        ErrorCode::RegistrationNotSupported,
        ErrorCode::ServerError,
    ]
    .into_iter()
    .find(|c| c.as_str() == wire)
    .unwrap_or(ErrorCode::InvalidRequest)
}

/// An authorization-endpoint outcome for an invalid request, as the PAR endpoint's JSON error
/// (RFC 9126 §2.3: the errors of RFC 6749 §4.1.2.1, returned directly).
fn as_error(outcome: Outcome) -> OAuthError {
    match outcome {
        Outcome::ErrorPage { title, message } => OAuthError::invalid_request(format!("{title}: {message}")),
        Outcome::Respond(r) => {
            let get = |n: &str| r.params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
            OAuthError::new(
                code_of(get("error").unwrap_or_default()),
                get("error_description").unwrap_or("the authorization request is invalid"),
            )
        }
        Outcome::Login(_) | Outcome::Consent(_) => OAuthError::invalid_request("the authorization request is invalid"),
    }
}

/// The pushed authorization request endpoint (RFC 9126 §2): authenticates the client,
/// validates the authorization request it carries and stores it. The assertion report of a
/// `private_key_jwt` or `client_secret_jwt` client goes to `seen`.
///
/// Errors (RFC 9126 §2.3, RFC 6749 §5.2): `invalid_client` (401) for failed client
/// authentication; `invalid_request` for a pushed `request_uri` (§2.1), a `client_id` that
/// differs from the authenticated client, or an invalid authorization request; the other
/// authorization errors (`invalid_scope`, `unauthorized_client`, `unsupported_response_type`,
/// `invalid_target`, `request_not_supported`) as the authorization endpoint would redirect them.
///
/// Binding the request to a DPoP key: `dpop_jkt` (RFC 9449 §10.1), the thumbprint of
/// the key the push's DPoP proof was signed with, is stored as the request's `dpop_jkt`
/// parameter; a pushed `dpop_jkt` that differs is `invalid_request`.
pub async fn push_with(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    seen: &AssertionSeen,
    dpop_jkt: Option<&str>,
) -> Result<PushResponse, OAuthError> {
    // RFC 9126 §2.1: the request_uri authorization request parameter MUST NOT be provided.
    if form.has("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed (RFC 9126 §2.1); push the authorization request's parameters themselves",
        ));
    }
    if form.has("request") {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects (RFC 9101) are not supported; push the parameters as a form",
        ));
    }
    let client = client_auth::authenticate(p, basic, form, PAR_ENDPOINT, seen).await?;
    if let Some(id) = form.get("client_id")?
        && id != client.client_id
    {
        return Err(OAuthError::invalid_request(format!(
            "client_id `{id}` differs from the authenticated client `{}`",
            client.client_id
        )));
    }
    let mut params: Vec<(String, String)> = vec![("client_id".into(), client.client_id.clone())];
    params.extend(
        form.pairs()
            .iter()
            .filter(|(k, _)| k != "client_id" && !CLIENT_AUTH_PARAMS.contains(&k.as_str()))
            .cloned(),
    );
    if let Some(jkt) = dpop_jkt {
        match form.get("dpop_jkt")? {
            Some(sent) if sent != jkt => {
                return Err(OAuthError::invalid_request(
                    "dpop_jkt differs from the thumbprint of the DPoP proof's key (RFC 9449 §10.1)",
                ));
            }
            Some(_) => {}
            None => params.push(("dpop_jkt".into(), jkt.to_string())),
        }
    }
    let auth = Form::from_pairs(params.clone());
    let (_, req) = parse::parse(p, &auth).map_err(|o| as_error(*o))?;
    let ttl = p.settings().request_uri_ttl.0;
    let now = p.clock.now();
    let request_uri = p.pushed.insert(
        Pushed {
            client_id: client.client_id.clone(),
            params,
            expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            redirect_uri: req.redirect_uri,
            state: req.state,
            mode: req.mode,
        },
        now,
    );
    Ok(PushResponse {
        request_uri,
        expires_in: ttl,
    })
}

/// Whether `client` (or the server) requires pushed authorization requests (RFC 9126 §5, §6).
pub fn required(p: &Provider, client: &Client) -> bool {
    client.require_pushed_authorization_requests || p.settings().require_pushed_authorization_requests
}

/// An `invalid_request_uri` error for a spent pushed request: redirected to its redirect URI
/// when the client still registers it, else shown as a page.
fn spent_error(p: &Provider, pushed: &Pushed, description: String) -> Box<Outcome> {
    let registered = p
        .client(&pushed.client_id)
        .is_some_and(|c| redirect_uri::is_registered(&c.redirect_uris, &pushed.redirect_uri));
    if registered {
        Box::new(error_response(
            p,
            &pushed.redirect_uri,
            pushed.mode,
            pushed.state.as_deref(),
            ErrorCode::InvalidRequestUri,
            description,
        ))
    } else {
        Box::new(error_page("Invalid request_uri", description))
    }
}

/// Resolves an authorization request carrying `request_uri` (RFC 9126 §4): the pushed request,
/// validated again, becomes the request; query parameters other than `client_id` and
/// `request_uri` are ignored. Errors: a page for an unknown `request_uri` or one pushed by
/// another client (nothing can be redirected safely); `invalid_request_uri` redirected to the
/// pushed redirect URI for an expired or used one; `request_uri_not_supported` for a value this
/// server did not issue.
pub fn resolve(p: &Provider, form: &Form, request_uri: &str) -> Result<(Arc<Client>, AuthRequest), Box<Outcome>> {
    if !request_uri.starts_with(REQUEST_URI_PREFIX) {
        // Not ours: the authorization endpoint explains (request_uri_not_supported).
        return parse::parse(p, form);
    }
    let page = |m: String| Box::new(error_page("Invalid request_uri", m));
    let client_id = match form.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Err(page(
                "invalid_request: client_id is required with request_uri (RFC 9126 §4)".into(),
            ));
        }
        Err(e) => return Err(page(e.description)),
    };
    let now = p.clock.now();
    let pushed = match p.pushed.take(request_uri, client_id, now) {
        Ok(x) => x,
        Err(Refusal::Unknown) => {
            return Err(page(format!(
                "invalid_request_uri: the request_uri is unknown to this server (it was never issued, or the \
                 server restarted since: pushed requests live in memory). Push the request again at {}.",
                p.issuer.url(paths::PAR)
            )));
        }
        Err(Refusal::OtherClient(owner)) => {
            return Err(page(format!(
                "invalid_request_uri: this request_uri was pushed by client `{owner}`, not by `{client_id}`; a \
                 request_uri may only be used with the client that pushed it (RFC 9126 §4)"
            )));
        }
        Err(Refusal::Spent(pushed, why)) => {
            let d = match why {
                Spent::Used => "the request_uri was already used; a pushed request is single use (RFC 9126 §4). Push \
                                again for each authorization request"
                    .to_string(),
                Spent::Expired => format!(
                    "the request_uri has expired (it lived {} s on the virtual clock, `[server] request_uri_ttl`); push \
                     again",
                    p.settings().request_uri_ttl.0
                ),
                Spent::Evicted => format!(
                    "the request_uri was dropped because more than {MAX_PUSHED} pushed requests were waiting and it \
                     was the oldest; push again"
                ),
            };
            return Err(spent_error(p, &pushed, d));
        }
    };
    let (client, mut req) = parse::parse(p, &Form::from_pairs(pushed.params))?;
    req.pushed = Some(request_uri.to_string());
    Ok((client, req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::request::ResponseMode;

    fn pushed(client: &str, exp: i64) -> Pushed {
        Pushed {
            client_id: client.into(),
            params: vec![],
            expires_at: exp,
            redirect_uri: "http://localhost/cb".into(),
            state: None,
            mode: ResponseMode::Query,
        }
    }

    #[test]
    fn a_request_uri_is_single_use_bound_to_its_client_and_expires() {
        let s = PushedRequests::default();
        let a = s.insert(pushed("c", 160), 100);
        assert!(a.starts_with(REQUEST_URI_PREFIX));
        assert!(matches!(s.take(&a, "other", 100), Err(Refusal::OtherClient(o)) if o == "c"));
        assert!(s.take(&a, "c", 100).is_ok());
        assert!(matches!(s.take(&a, "c", 100), Err(Refusal::Spent(_, Spent::Used))));
        let b = s.insert(pushed("c", 160), 100);
        assert!(matches!(s.take(&b, "c", 160), Err(Refusal::Spent(_, Spent::Expired))));
        assert!(matches!(s.take("urn:x", "c", 100), Err(Refusal::Unknown)));
    }

    #[test]
    fn the_store_is_bounded_and_says_what_it_evicted() {
        let s = PushedRequests::default();
        let first = s.insert(pushed("c", 1_000), 0);
        for _ in 0..MAX_PUSHED {
            s.insert(pushed("c", 1_000), 0);
        }
        assert_eq!(s.len(), MAX_PUSHED);
        assert!(matches!(s.take(&first, "c", 0), Err(Refusal::Spent(_, Spent::Evicted))));
    }
}
