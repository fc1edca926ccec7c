//! Clients, scopes, users, resources, settings, the virtual clock, config import/export and the
//! status summary. Every change goes through a [`Provider`] method, which validates, persists
//! and publishes the event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Admin, AdminError, FieldIssue};
use crate::config::{self, ConfigFile};
use crate::events::Event;
use crate::model::{AuthMethod, Client, GrantType, Resource, Scope, Settings, TrustedIssuer, User, builtin_scopes};
use crate::provider::Provider;
use crate::resources::ResourceView;

// ---- clients ----

/// Whether a client without a secret should get one generated: it states a secret-based
/// authentication method, or it uses client credentials (which needs a confidential client).
fn needs_secret(c: &Client) -> bool {
    match c.token_endpoint_auth_method {
        Some(AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt) => true,
        Some(AuthMethod::None | AuthMethod::PrivateKeyJwt) => false,
        None => c.grant_types.contains(&GrantType::ClientCredentials),
    }
}

/// Every client, by id (secrets included: the admin API is the developer's own).
pub fn list_clients(p: &Provider) -> Vec<Client> {
    p.clients().iter().map(|c| (**c).clone()).collect()
}

/// One client.
pub fn get_client(p: &Provider, client_id: &str) -> Result<Client, AdminError> {
    p.client(client_id)
        .map(|c| (*c).clone())
        .ok_or_else(|| AdminError::not_found(format!("client `{client_id}`")))
}

/// Creates a client; 409 if the id is taken. A confidential client sent without a secret
/// (see [`needs_secret`]) gets a generated one, returned in the response.
pub async fn create_client(p: &Provider, mut c: Client) -> Result<Client, AdminError> {
    if p.client(&c.client_id).is_some() {
        return Err(AdminError::conflict(format!(
            "client `{}` already exists; use PUT to change it",
            c.client_id
        )));
    }
    if c.client_secret.is_none() && needs_secret(&c) {
        c.client_secret = Some(crate::ids::client_secret());
    }
    p.upsert_client(c.clone()).await?;
    get_client(p, &c.client_id)
}

/// Replaces a client. The body's `client_id` must match the URL. A body without
/// `client_secret` keeps the current secret unless the client becomes public
/// (`token_endpoint_auth_method = "none"`), so the UI can edit a client without handling it.
pub async fn replace_client(p: &Provider, client_id: &str, mut c: Client) -> Result<Client, AdminError> {
    if c.client_id != client_id {
        return Err(AdminError::field(
            "client_id",
            format!("must match the URL (`{client_id}`); a client cannot be renamed"),
        ));
    }
    let old = get_client(p, client_id)?;
    // A body without `registration` (an editor that does not know it) keeps the client's
    // dynamic-registration record (RFC 7591), like the secret below.
    if c.registration.is_none() {
        c.registration = old.registration.clone();
    }
    if c.client_secret.is_none()
        && !matches!(
            c.token_endpoint_auth_method,
            Some(AuthMethod::None | AuthMethod::PrivateKeyJwt)
        )
    {
        c.client_secret = old.client_secret;
    }
    // A client switched to a secret-based method (from `none` or `private_key_jwt`) gets a
    // generated secret, as on creation.
    if c.client_secret.is_none() && needs_secret(&c) {
        c.client_secret = Some(crate::ids::client_secret());
    }
    p.upsert_client(c).await?;
    get_client(p, client_id)
}

/// Deletes a client (its tokens stay recorded).
pub async fn delete_client(p: &Provider, client_id: &str) -> Result<(), AdminError> {
    Ok(p.delete_client(client_id).await?)
}

/// Gives a confidential client a new random secret; the old one stops working at once.
pub async fn regenerate_secret(p: &Provider, client_id: &str) -> Result<Client, AdminError> {
    let mut c = get_client(p, client_id)?;
    if matches!(
        c.token_endpoint_auth_method,
        Some(AuthMethod::None | AuthMethod::PrivateKeyJwt)
    ) {
        return Err(AdminError::conflict(format!(
            "client `{client_id}` authenticates with `{}`, which uses no client secret",
            c.auth_method().as_str()
        )));
    }
    c.client_secret = Some(crate::ids::client_secret());
    p.upsert_client(c).await?;
    get_client(p, client_id)
}

// ---- scopes ----

/// A scope as the admin API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScopeView {
    /// The scope token.
    pub name: String,
    /// What it grants.
    pub description: String,
    /// User claims released with it.
    pub claims: Vec<String>,
    /// Built-in scopes are read-only.
    pub builtin: bool,
    /// The clients allowed to request it.
    pub clients: Vec<String>,
}

fn scope_view(p: &Provider, s: &Scope) -> ScopeView {
    ScopeView {
        name: s.name.clone(),
        description: s.description.clone(),
        claims: s.claims.clone(),
        builtin: s.builtin,
        clients: p
            .clients()
            .iter()
            .filter(|c| c.scopes.contains(&s.name))
            .map(|c| c.client_id.clone())
            .collect(),
    }
}

/// Built-in scopes first, then custom ones.
pub fn list_scopes(p: &Provider) -> Vec<ScopeView> {
    p.scopes().iter().map(|s| scope_view(p, s)).collect()
}

fn find_scope(p: &Provider, name: &str) -> Result<ScopeView, AdminError> {
    p.scopes()
        .iter()
        .find(|s| s.name == name)
        .map(|s| scope_view(p, s))
        .ok_or_else(|| AdminError::not_found(format!("scope `{name}`")))
}

/// Creates a custom scope; 409 if it exists, 403 for a built-in name.
pub async fn create_scope(p: &Provider, s: Scope) -> Result<ScopeView, AdminError> {
    if builtin_scopes().iter().all(|b| b.name != s.name) && p.scope_exists(&s.name) {
        return Err(AdminError::conflict(format!(
            "scope `{}` already exists; use PUT to change it",
            s.name
        )));
    }
    let name = s.name.clone();
    p.upsert_scope(s).await?;
    find_scope(p, &name)
}

/// Replaces a custom scope (built-ins: 403). The body's `name` must match the URL.
pub async fn replace_scope(p: &Provider, name: &str, s: Scope) -> Result<ScopeView, AdminError> {
    if s.name != name {
        return Err(AdminError::field(
            "name",
            format!("must match the URL (`{name}`); a scope cannot be renamed"),
        ));
    }
    let existing = find_scope(p, name)?;
    if existing.builtin {
        return Err(AdminError::from(crate::provider::ChangeError::ReadOnly(format!(
            "`{name}` is a built-in scope and cannot be changed"
        ))));
    }
    p.upsert_scope(s).await?;
    find_scope(p, name)
}

/// Deletes a custom scope no client or resource uses (built-ins: 403; in use: 409).
pub async fn delete_scope(p: &Provider, name: &str) -> Result<(), AdminError> {
    Ok(p.delete_scope(name).await?)
}

// ---- users ----

/// A user as the admin API shows it: never the password.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// The login name.
    pub username: String,
    /// The subject identifier.
    pub sub: Option<String>,
    /// The user's claims.
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Whether a password is set (it is stored hashed and never returned).
    pub has_password: bool,
    /// Hands-free login for browser tests (see [`User::auto_login`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_login: bool,
    /// The acr this persona authenticates at (OIDC Core §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Its authentication methods (OIDC Core §2 `amr`, RFC 8176).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// Every user, by username.
pub async fn list_users(p: &Provider) -> Result<Vec<UserView>, AdminError> {
    Ok(p.store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserView {
            username: u.user.username,
            sub: u.user.sub,
            claims: u.user.claims,
            has_password: u.password_hash.is_some(),
            auto_login: u.user.auto_login,
            acr: u.user.acr,
            amr: u.user.amr,
        })
        .collect())
}

/// One user.
pub async fn get_user(p: &Provider, username: &str) -> Result<UserView, AdminError> {
    list_users(p)
        .await?
        .into_iter()
        .find(|u| u.username == username)
        .ok_or_else(|| AdminError::not_found(format!("user `{username}`")))
}

/// Creates a user (409 if the username is taken). A password is stored hashed.
pub async fn create_user(p: &Provider, u: User) -> Result<UserView, AdminError> {
    if get_user(p, &u.username).await.is_ok() {
        return Err(AdminError::conflict(format!(
            "user `{}` already exists; use PUT to change it",
            u.username
        )));
    }
    let name = u.username.clone();
    p.upsert_user(u).await?;
    get_user(p, &name).await
}

/// Replaces a user. Without `password` the current password is kept; without `sub` the
/// current subject is kept.
pub async fn replace_user(p: &Provider, username: &str, u: User) -> Result<UserView, AdminError> {
    if u.username != username {
        return Err(AdminError::field(
            "username",
            format!("must match the URL (`{username}`); a user cannot be renamed"),
        ));
    }
    get_user(p, username).await?;
    p.upsert_user(u).await?;
    get_user(p, username).await
}

/// Deletes a user.
pub async fn delete_user(p: &Provider, username: &str) -> Result<(), AdminError> {
    Ok(p.delete_user(username).await?)
}

// ---- resources ----

/// Creates a resource (409 if the name is taken).
pub async fn create_resource(p: &Provider, r: Resource) -> Result<ResourceView, AdminError> {
    if p.resource_server.get(&r.name).is_some() {
        return Err(AdminError::conflict(format!(
            "resource `{}` already exists; use PUT to change it",
            r.name
        )));
    }
    let name = r.name.clone();
    p.upsert_resource(r).await?;
    super::resources::get(p, &name)
}

/// Replaces a resource. The body's `name` must match the URL.
pub async fn replace_resource(p: &Provider, name: &str, r: Resource) -> Result<ResourceView, AdminError> {
    if r.name != name {
        return Err(AdminError::field(
            "name",
            format!("must match the URL (`{name}`); a resource cannot be renamed"),
        ));
    }
    super::resources::get(p, name)?;
    p.upsert_resource(r).await?;
    super::resources::get(p, name)
}

/// Deletes a resource.
pub async fn delete_resource(p: &Provider, name: &str) -> Result<(), AdminError> {
    Ok(p.delete_resource(name).await?)
}

// ---- trusted issuers ----

/// Every trusted issuer of JWT bearer assertions (RFC 7523 §2.1).
pub fn list_trusted_issuers(p: &Provider) -> Vec<TrustedIssuer> {
    (*p.trusted_issuers()).clone()
}

/// One trusted issuer, by its `issuer` (404 when unknown).
pub fn get_trusted_issuer(p: &Provider, issuer: &str) -> Result<TrustedIssuer, AdminError> {
    p.trusted_issuer(issuer)
        .ok_or_else(|| AdminError::not_found(format!("trusted issuer `{issuer}`")))
}

/// Adds a trusted issuer (409 when one with that `issuer` exists).
pub async fn create_trusted_issuer(p: &Provider, t: TrustedIssuer) -> Result<TrustedIssuer, AdminError> {
    if p.trusted_issuer(&t.issuer).is_some() {
        return Err(AdminError::conflict(format!(
            "trusted issuer `{}` already exists; use PUT to change it",
            t.issuer
        )));
    }
    let issuer = t.issuer.clone();
    p.upsert_trusted_issuer(t).await?;
    get_trusted_issuer(p, &issuer)
}

/// Replaces a trusted issuer. The body's `issuer` must match the URL.
pub async fn replace_trusted_issuer(p: &Provider, issuer: &str, t: TrustedIssuer) -> Result<TrustedIssuer, AdminError> {
    if t.issuer != issuer {
        return Err(AdminError::field(
            "issuer",
            format!("must match the URL (`{issuer}`); delete and add to change it"),
        ));
    }
    get_trusted_issuer(p, issuer)?;
    p.upsert_trusted_issuer(t).await?;
    get_trusted_issuer(p, issuer)
}

/// Removes a trusted issuer.
pub async fn delete_trusted_issuer(p: &Provider, issuer: &str) -> Result<(), AdminError> {
    Ok(p.delete_trusted_issuer(issuer).await?)
}

// ---- settings ----

/// Replaces the server settings. Lifetimes must be between a second and 10 years. A new
/// `signing_alg` takes effect at the next key rotation (or start).
pub async fn set_settings(p: &Provider, s: Settings) -> Result<Settings, AdminError> {
    let errs: Vec<FieldIssue> = crate::validate::settings(&s)
        .into_iter()
        .map(FieldIssue::from)
        .collect();
    if !errs.is_empty() {
        return Err(AdminError::invalid(errs));
    }
    p.set_settings(s).await?;
    Ok((*p.settings()).clone())
}

// ---- clock ----

/// The virtual clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockView {
    /// The server's time, UNIX seconds (offset included).
    pub now: i64,
    /// The offset from real time, in seconds.
    pub offset: i64,
}

/// Moves the virtual clock: exactly one of `advance` (relative) or `offset` (absolute).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// Seconds to move by (negative moves back).
    pub advance: Option<i64>,
    /// The offset from real time to set, in seconds.
    pub offset: Option<i64>,
}

/// The clock now.
pub fn clock(p: &Provider) -> ClockView {
    ClockView {
        now: p.clock.now(),
        offset: p.clock.offset_secs(),
    }
}

/// Moves the clock and publishes `clock.moved`.
pub fn move_clock(p: &Provider, change: ClockChange) -> Result<ClockView, AdminError> {
    const LIMIT: i64 = 100 * 365 * 86_400;
    match (change.advance, change.offset) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AdminError::field(
                "advance",
                "give exactly one of `advance` (seconds to move by) or `offset` (seconds from real time)",
            ));
        }
        (Some(a), None) if a.unsigned_abs() > LIMIT.unsigned_abs() => {
            return Err(AdminError::field("advance", "must be within 100 years"));
        }
        (Some(a), None)
            if p.clock
                .offset_secs()
                .checked_add(a)
                .is_none_or(|o| o.unsigned_abs() > LIMIT.unsigned_abs()) =>
        {
            return Err(AdminError::field(
                "advance",
                "would move the clock more than 100 years from real time",
            ));
        }
        (None, Some(o)) if o.unsigned_abs() > LIMIT.unsigned_abs() => {
            return Err(AdminError::field("offset", "must be within 100 years"));
        }
        (Some(a), None) => p.clock.advance(a),
        (None, Some(o)) => p.clock.set_offset(o),
    }
    let offset = p.clock.offset_secs();
    p.events.publish(p.clock.now_ms(), Event::ClockMoved { offset });
    Ok(clock(p))
}

// ---- config ----

/// The registry and settings as a `latchkey.toml` (users without passwords: they are stored
/// hashed and cannot be exported).
/// `dynamic_clients`: whether dynamically registered clients (RFC 7591) are included.
pub async fn export_toml(p: &Provider, dynamic_clients: bool) -> Result<String, AdminError> {
    let mut cfg = p.export_config().await?;
    if !dynamic_clients {
        cfg.clients.retain(|c| c.registration.is_none());
    }
    cfg.to_toml().map_err(AdminError::internal)
}

/// What an import changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Custom scopes in the file.
    pub scopes: usize,
    /// Clients in the file.
    pub clients: usize,
    /// Users in the file.
    pub users: usize,
    /// Resources in the file.
    pub resources: usize,
}

/// Parses and validates a config file (`file` names it in messages); errors carry the line.
pub fn parse_config(p: &Provider, file: &str, src: &str) -> Result<ConfigFile, AdminError> {
    config::parse_and_validate(file, src, &|s| p.scope_exists(s)).map_err(invalid_config)
}

/// Reads, parses and upserts the config file at `path` (`[[keys]]` paths relative to it).
pub async fn import_file(p: &Provider, path: &std::path::Path) -> Result<ImportSummary, AdminError> {
    let cfg = config::parse_file(path, &|s| p.scope_exists(s)).map_err(invalid_config)?;
    apply(p, cfg).await
}

fn invalid_config(errs: config::ConfigErrors) -> AdminError {
    let fields: Vec<FieldIssue> = errs
        .0
        .iter()
        .map(|e| FieldIssue {
            field: e.key.clone().unwrap_or_default(),
            message: e.message.clone(),
            line: e.line,
            column: e.column,
        })
        .collect();
    let mut err = AdminError::new(super::ErrorKind::BadRequest, "invalid_config", errs.to_string());
    err.fields = fields;
    err
}

/// Upserts a config file: what it names is created or replaced; nothing else is deleted.
pub async fn import_config(p: &Provider, file: &str, src: &str) -> Result<ImportSummary, AdminError> {
    apply(p, parse_config(p, file, src)?).await
}

async fn apply(p: &Provider, cfg: ConfigFile) -> Result<ImportSummary, AdminError> {
    let summary = ImportSummary {
        scopes: cfg.scopes.len(),
        clients: cfg.clients.len(),
        users: cfg.users.len(),
        resources: cfg.resources.len(),
    };
    p.apply_config(cfg).await?;
    Ok(summary)
}

// ---- status ----

/// Registry counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Counts {
    /// Clients.
    pub clients: usize,
    /// Users.
    pub users: usize,
    /// Scopes (built-in and custom).
    pub scopes: usize,
    /// Resources.
    pub resources: usize,
    /// Tokens by live state (`active`, `expired`, `revoked`, `consumed`).
    pub tokens: BTreeMap<String, i64>,
}

/// The server at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Status {
    /// Latchkey's version.
    pub version: String,
    /// The issuer.
    pub issuer: String,
    /// Seconds since the server started (real time).
    pub uptime: u64,
    /// The virtual clock.
    pub clock: ClockView,
    /// The active signing key.
    pub active_kid: String,
    /// Its algorithm.
    pub active_alg: String,
    /// Counts.
    pub counts: Counts,
    /// Whether the admin API requires a bearer token.
    pub admin_token_required: bool,
    /// The config file the server started from, and whether its last change was applied
    /// (null without `--config`).
    pub config: Option<crate::config::ConfigFileState>,
}

/// The status summary.
pub async fn status(a: &Admin) -> Result<Status, AdminError> {
    let p = &a.provider;
    let mut tokens: BTreeMap<String, i64> = ["active", "expired", "revoked", "consumed", "key_retired"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let unpublished = super::tokens::unpublished_kids(p).await?;
    for (state, n) in p.store.count_token_states(p.clock.now(), unpublished).await? {
        tokens.insert(state, n);
    }
    let (kid, alg) = p.keys.active();
    Ok(Status {
        version: env!("CARGO_PKG_VERSION").to_string(),
        issuer: p.issuer.id.clone(),
        uptime: a.started.elapsed().as_secs(),
        clock: clock(p),
        active_kid: kid,
        active_alg: alg.as_str().to_string(),
        counts: Counts {
            clients: p.clients().len(),
            users: p.store.list_users().await?.len(),
            scopes: p.scopes().len(),
            resources: p.resources().len(),
            tokens,
        },
        admin_token_required: a.token.is_some(),
        config: p.config_file().map(|c| (*c).clone()),
    })
}
