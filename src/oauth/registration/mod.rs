//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592) at
//! `/register` and `/register/{client_id}`.
//!
//! - Registration is open on loopback unless `[registration] initial_access_token` is set
//!   (RFC 7591 §3: then `Authorization: Bearer <token>` is required, 401 `invalid_token`
//!   otherwise); a server listening beyond loopback requires the admin token when no initial
//!   access token is configured ([`Provider::registration_gate`]).
//! - Metadata is checked by [`metadata::parse`] (RFC 7591 §3.2.2 errors).
//! - A client with a shared-secret method gets a secret with `client_secret_expires_at: 0`
//!   (never, RFC 7591 §3.2.1). Every client gets a registration access token (RFC 7592 §3),
//!   stored only as its SHA-256; reading or updating the registration rotates it (RFC 7592 §3
//!   allows a new one with each response), so the response always carries a usable one.
//! - The client is recorded with when and from which `Origin` / `User-Agent` it registered
//!   ([`Registration`]); it always gets the consent page (unless `[registration]
//!   require_consent = false`), which says so ([`consent_notice`]).
//! - At most [`MAX_DYNAMIC_CLIENTS`] dynamically registered clients exist at once; beyond that
//!   registration answers 503 `temporarily_unavailable` until some are deleted.

pub mod metadata;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::model::{AuthMethod, Client, Registration, RegistrationSettings};
use crate::oauth::bearer::{BearerRequest, access_token};
use crate::oauth::client_auth::secrets_match;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::provider::{ChangeError, Provider};

/// Path of the registration endpoint (RFC 7591 §3), relative to the issuer.
pub const REGISTER_PATH: &str = "/register";

/// Dynamically registered clients kept at once.
pub const MAX_DYNAMIC_CLIENTS: usize = 1_000;

/// Longest `User-Agent` recorded, in characters.
pub const MAX_USER_AGENT: usize = 200;

/// Who is calling, as the HTTP layer found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// Every `Authorization` header value, raw.
    pub authorization: &'a [&'a [u8]],
    /// The `Origin` header (a browser-based tool), if any.
    pub origin: Option<&'a str>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<&'a str>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_digest(token: &str) -> String {
    b64(&crate::ids::token_hash(token))
}

/// The client configuration endpoint of a client (RFC 7592 §1).
pub fn client_uri(p: &Provider, client_id: &str) -> String {
    // RFC 3986 §2.3: unreserved characters stay as they are.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let id = percent_encoding::utf8_percent_encode(client_id, SEGMENT);
    p.issuer.url(&format!("{REGISTER_PATH}/{id}"))
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, OAuthError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "the body must be a JSON object of client metadata (RFC 7591 §3.1)",
        )),
        Err(e) => Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            format!("the body is not valid JSON ({e}); send the client metadata as a JSON object (RFC 7591 §3.1)"),
        )),
    }
}

/// The scopes a client gets when its metadata names none (RFC 7591 §2 leaves the default to
/// the server): every registered scope but `token_introspection`, which is a power of the
/// resource servers the developer configures.
pub fn default_scopes(p: &Provider) -> Vec<String> {
    p.scopes()
        .iter()
        .map(|s| s.name.clone())
        .filter(|s| s != "token_introspection")
        .collect()
}

fn enabled(s: &RegistrationSettings) -> Result<(), OAuthError> {
    if s.enabled {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "dynamic client registration is turned off ([registration] enabled = false)",
        )
        .forbidden())
    }
}

fn check_initial_token(p: &Provider, s: &RegistrationSettings, caller: &Caller<'_>) -> Result<(), OAuthError> {
    let Some(expected) = s.initial_access_token.as_ref().or(p.registration_gate.get()) else {
        return Ok(());
    };
    let presented = access_token(&BearerRequest {
        authorization: caller.authorization,
        form_token: None,
        query_token: false,
    })
    .map_err(|e| {
        if e.without_credentials {
            OAuthError::no_token(
                "this server requires an initial access token to register clients: send Authorization: Bearer <token> \
                 (RFC 7591 §3; [registration] initial_access_token, or the admin token while Latchkey listens beyond loopback)",
            )
        } else {
            e
        }
    })?;
    if secrets_match(&presented, expected) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the initial access token is not the one configured ([registration] initial_access_token, or the admin token while Latchkey listens beyond loopback)",
        ))
    }
}

/// Builds the client from metadata (shared by registration and update).
fn build(p: &Provider, m: &Map<String, Value>) -> Result<(Client, Map<String, Value>), OAuthError> {
    if m.contains_key("software_statement") {
        return Err(OAuthError::new(
            ErrorCode::UnapprovedSoftwareStatement,
            "Latchkey does not accept software statements (RFC 7591 §2.3); register with plain metadata",
        ));
    }
    let settings = p.settings();
    let scopes = default_scopes(p);
    metadata::parse(
        m,
        metadata::Source::Registration,
        &settings.registration,
        &settings.fetch,
        &|s| p.scope_exists(s),
        &scopes,
    )
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3).
fn information(p: &Provider, c: &Client, token: &str) -> Value {
    let r = c.registration.clone().unwrap_or_default();
    let mut out = r.metadata.clone();
    out.insert("client_id".into(), Value::String(c.client_id.clone()));
    out.insert("client_id_issued_at".into(), json!(r.registered_at));
    if let Some(secret) = &c.client_secret {
        out.insert("client_secret".into(), Value::String(secret.clone()));
        out.insert("client_secret_expires_at".into(), json!(0));
    }
    out.insert("registration_access_token".into(), Value::String(token.to_string()));
    out.insert(
        "registration_client_uri".into(),
        Value::String(client_uri(p, &c.client_id)),
    );
    Value::Object(out)
}

fn store_error(e: ChangeError) -> OAuthError {
    match e {
        ChangeError::Invalid(errs) => match errs.first() {
            Some(f) if f.path.to_string().contains("redirect_uri") => {
                metadata::bad_redirect(format!("{}: {}", f.path, f.message))
            }
            Some(f) => metadata::bad_metadata(&f.path.to_string(), &f.message),
            None => OAuthError::server("a client failed validation without an error"),
        },
        other => OAuthError::server(other),
    }
}

/// Whether a secret is needed for this method (RFC 7591 §3.2.1).
fn needs_secret(m: AuthMethod) -> bool {
    matches!(
        m,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
    )
}

/// `POST /register` (RFC 7591 §3.1): registers a client. Returns the client information
/// response (201). Errors: 401 `invalid_token` (initial access token), 400
/// `invalid_redirect_uri` / `invalid_client_metadata` / `unapproved_software_statement`,
/// 403 when registration is off, 503 at [`MAX_DYNAMIC_CLIENTS`].
pub async fn register(p: &Provider, caller: &Caller<'_>, body: &[u8]) -> Result<Value, OAuthError> {
    let settings = p.settings();
    enabled(&settings.registration)?;
    check_initial_token(p, &settings.registration, caller)?;
    let m = parse_body(body)?;
    let (mut client, meta) = build(p, &m)?;
    if p.clients().iter().filter(|c| c.registration.is_some()).count() >= MAX_DYNAMIC_CLIENTS {
        return Err(OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            format!(
                "{MAX_DYNAMIC_CLIENTS} dynamically registered clients exist; delete some (admin UI, Clients, \
                 \"Delete dynamically registered\") before registering more"
            ),
        ));
    }
    client.client_id = format!("dyn-{}", crate::ids::token_id());
    if needs_secret(client.auth_method()) {
        client.client_secret = Some(crate::ids::client_secret());
    }
    let token = crate::ids::opaque_token();
    client.registration = Some(Registration {
        registered_at: p.clock.now(),
        updated_at: None,
        origin: caller.origin.map(|o| o.chars().take(MAX_USER_AGENT).collect()),
        user_agent: caller.user_agent.map(|u| u.chars().take(MAX_USER_AGENT).collect()),
        metadata: meta,
        access_token_sha256: token_digest(&token),
    });
    metadata::check_client(&client, &|s| p.scope_exists(s))?;
    p.upsert_client(client.clone()).await.map_err(store_error)?;
    Ok(information(p, &client, &token))
}

/// Authenticates a request to the client configuration endpoint (RFC 7592 §2: 401
/// `invalid_token` for a missing or wrong registration access token, or a client that does not
/// exist or was not registered dynamically, so the answer never tells which).
fn configured(p: &Provider, caller: &Caller<'_>, client_id: &str) -> Result<Client, OAuthError> {
    let token = access_token(&BearerRequest {
        authorization: caller.authorization,
        form_token: None,
        query_token: false,
    })
    .map_err(|e| {
        if e.without_credentials {
            OAuthError::no_token("send the registration access token as Authorization: Bearer <token> (RFC 7592 §2)")
        } else {
            e
        }
    })?;
    let refused = || {
        OAuthError::new(
            ErrorCode::InvalidToken,
            "the registration access token is not valid for this client (RFC 7592 §2)",
        )
    };
    let client = p.client(client_id).ok_or_else(refused)?;
    let r = client.registration.as_ref().ok_or_else(refused)?;
    if r.access_token_sha256.is_empty() || !secrets_match(&token_digest(&token), &r.access_token_sha256) {
        return Err(refused());
    }
    Ok((*client).clone())
}

async fn rotate(p: &Provider, mut client: Client) -> Result<Value, OAuthError> {
    let token = crate::ids::opaque_token();
    if let Some(r) = client.registration.as_mut() {
        r.access_token_sha256 = token_digest(&token);
    }
    p.upsert_client(client.clone()).await.map_err(store_error)?;
    Ok(information(p, &client, &token))
}

/// `GET /register/{client_id}` (RFC 7592 §2.1): the client information, with a new
/// registration access token (the old one stops working).
pub async fn read(p: &Provider, caller: &Caller<'_>, client_id: &str) -> Result<Value, OAuthError> {
    enabled(&p.settings().registration)?;
    let client = configured(p, caller, client_id)?;
    rotate(p, client).await
}

/// `PUT /register/{client_id}` (RFC 7592 §2.2): replaces the metadata (members left out are
/// removed or take their defaults). The body must carry `client_id` (equal to the path's) and
/// may carry `client_secret` only with the current value; `registration_access_token`,
/// `registration_client_uri`, `client_secret_expires_at` and `client_id_issued_at` are refused
/// (`invalid_request`). A client that moves to a secret method gets a new secret; one that
/// moves to `none` or `private_key_jwt` loses it.
pub async fn update(p: &Provider, caller: &Caller<'_>, client_id: &str, body: &[u8]) -> Result<Value, OAuthError> {
    enabled(&p.settings().registration)?;
    let old = configured(p, caller, client_id)?;
    let m = parse_body(body)?;
    for member in [
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    ] {
        if m.contains_key(member) {
            return Err(OAuthError::invalid_request(format!(
                "{member} must not be sent in an update (RFC 7592 §2.2)"
            )));
        }
    }
    match m.get("client_id").and_then(Value::as_str) {
        Some(id) if id == client_id => {}
        Some(id) => {
            return Err(OAuthError::invalid_request(format!(
                "client_id `{id}` differs from the client being updated (`{client_id}`, RFC 7592 §2.2)"
            )));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "the update must include the client's client_id (RFC 7592 §2.2)",
            ));
        }
    }
    if let Some(secret) = m.get("client_secret") {
        let matches = match (secret.as_str(), &old.client_secret) {
            (Some(s), Some(current)) => secrets_match(s, current),
            _ => false,
        };
        if !matches {
            return Err(OAuthError::invalid_request(
                "client_secret differs from the client's current secret; a client cannot choose its secret (RFC 7592 §2.2)",
            ));
        }
    }
    let (mut client, meta) = build(p, &m)?;
    client.client_id = old.client_id.clone();
    client.client_secret = if needs_secret(client.auth_method()) {
        old.client_secret.clone().or_else(|| Some(crate::ids::client_secret()))
    } else {
        None
    };
    let mut r = old.registration.clone().unwrap_or_default();
    r.metadata = meta;
    r.updated_at = Some(p.clock.now());
    client.registration = Some(r);
    metadata::check_client(&client, &|s| p.scope_exists(s))?;
    rotate(p, client).await
}

/// Most live tokens revoked when a client deletes itself (the rest expire on their own).
const MAX_REVOKED_ON_DELETE: usize = 10_000;

/// `DELETE /register/{client_id}` (RFC 7592 §2.3): deletes the client (204) and revokes its
/// live tokens (the section asks the server to invalidate its grants and tokens; they stay in
/// the token history as `revoked`).
pub async fn delete(p: &Provider, caller: &Caller<'_>, client_id: &str) -> Result<(), OAuthError> {
    use crate::store::{TokenFilter, TokenStatus};
    enabled(&p.settings().registration)?;
    configured(p, caller, client_id)?;
    let now = p.clock.now();
    let live = p
        .store
        .list_tokens(TokenFilter {
            client_id: Some(client_id.to_string()),
            status: Some(TokenStatus::Active),
            live_at: Some(now),
            limit: MAX_REVOKED_ON_DELETE,
            ..TokenFilter::default()
        })
        .await?;
    let reason = "the client deleted its registration (RFC 7592 §2.3)".to_string();
    let mut revoked = Vec::new();
    for (_, t) in live {
        if p.store
            .set_token_status(&t.id, TokenStatus::Revoked, &reason, now)
            .await?
        {
            revoked.push(t.id);
        }
    }
    crate::oauth::revoke::publish_revoked(p, revoked, reason).await?;
    p.delete_client(client_id).await.map_err(store_error)
}

/// Adds the registration members to a discovery document: `registration_endpoint` (RFC 8414
/// §2, OIDC Discovery §3) while registration is on, and `client_id_metadata_document_supported`
/// (the Client ID Metadata Document draft) while metadata documents are accepted.
pub fn advertise(p: &Provider, doc: &mut Value) {
    let s = p.settings();
    if let Value::Object(m) = doc {
        if s.registration.enabled {
            m.insert(
                "registration_endpoint".into(),
                Value::String(p.issuer.url(REGISTER_PATH)),
            );
        }
        m.insert(
            "client_id_metadata_document_supported".into(),
            Value::Bool(s.registration.client_id_metadata_documents),
        );
    }
}

/// A UNIX time as `2026-11-30 01:23:45 UTC`.
pub fn utc(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => format!("{t} (UNIX time)"),
    }
}

/// What the consent page says about a client the developer did not configure: registered
/// dynamically (when, from which origin and user agent), or identified by a client ID metadata
/// document (fetched from where, when). `None` for configured clients.
pub fn consent_notice(p: &Provider, c: &Client) -> Option<String> {
    if let Some(r) = &c.registration {
        let origin = match &r.origin {
            Some(o) => format!("from the web page at {o}"),
            None => "by a program (no browser Origin)".to_string(),
        };
        let agent = r
            .user_agent
            .as_deref()
            .map(|u| format!(", user agent \"{u}\""))
            .unwrap_or_default();
        return Some(format!(
            "This app registered itself dynamically at {} {origin}{agent}. Allow only if you started it.",
            utc(r.registered_at)
        ));
    }
    p.client_documents.view(&c.client_id).map(|d| {
        format!(
            "This app is identified by its client ID metadata document at {}, fetched at {}. Allow only if you trust that site.",
            d.url,
            utc(d.fetched_at)
        )
    })
}
