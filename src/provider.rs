//! The provider: everything the protocol layer works with (store, keys, clock, events,
//! settings), plus an in-memory mirror of the registry (clients and scopes) that every token,
//! introspection and revocation request reads.
//!
//! All changes to clients, scopes, users, resources and settings go through here, so the
//! mirror, the store and the events bus never disagree.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::clock::Clock;
use crate::config::ConfigFile;
use crate::events::{Event, EventBus};
use crate::faults::{FaultRule, Scenario};
use crate::keys::Keys;
use crate::model::{Client, Resource, Scope, Settings, TrustedIssuer, User, builtin_scopes};
use crate::store::{Store, StoreError};
use crate::validate::{self, FieldError};

pub use crate::issuer::Issuer;

/// Why a registry change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The object is invalid; each error names a field.
    #[error("invalid: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The object does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A built-in object cannot be changed.
    #[error("{0}")]
    ReadOnly(String),
    /// It conflicts with another object.
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

type ClientMap = HashMap<String, Arc<Client>>;

/// The provider. Shared behind an `Arc`.
pub struct Provider {
    /// The issuer.
    pub issuer: Issuer,
    /// The database.
    pub store: Store,
    /// Signing keys.
    pub keys: Keys,
    /// The one clock.
    pub clock: Clock,
    /// The events bus.
    pub events: EventBus,
    /// Browser sessions (bounded).
    pub sessions: crate::oauth::session::Sessions,
    /// Authorization requests waiting for the user (bounded, browser-bound).
    pub pending: crate::oauth::pending::PendingRequests,
    /// Pushed authorization requests (RFC 9126; bounded, in memory).
    pub pushed: crate::oauth::authorize::pushed_store::PushedRequests,
    /// Device authorization requests (RFC 8628; bounded, in memory).
    pub device_codes: crate::oauth::device::DeviceCodes,
    /// The resource-server simulator's resources and recent calls.
    pub resource_server: crate::resources::server::ResourceServer,
    /// Used `jti` values of client and JWT bearer assertions (bounded; RFC 7523 §3).
    pub jtis: crate::oauth::replay::JtiSet,
    /// Server-provided DPoP nonces (RFC 9449 §8; `[server] use_dpop_nonce`).
    pub dpop_nonces: crate::oauth::dpop::nonce::Nonces,
    /// JWK Sets fetched from clients' and trusted issuers' `jwks_uri` (bounded cache).
    pub remote_jwks: crate::oauth::jwks_uri::RemoteJwks,
    /// Client ID Metadata Documents fetched for URL `client_id`s (bounded cache).
    pub client_documents: crate::oauth::client_documents::Documents,
    /// When the server listens beyond loopback: the admin token, which registration then
    /// requires unless `[registration] initial_access_token` is set.
    pub registration_gate: std::sync::OnceLock<String>,
    trusted_issuers: RwLock<Arc<Vec<TrustedIssuer>>>,
    /// The fault rules in force, with their counters (read on every request).
    pub faults: crate::faults::Faults,
    /// Calls per endpoint, client and user since start or the last reset.
    pub stats: crate::faults::stats::Stats,
    settings: RwLock<Arc<Settings>>,
    clients: RwLock<Arc<ClientMap>>,
    scopes: RwLock<Arc<Vec<Scope>>>,
    /// Discovery as fetched through the front channel (`[0]`) and the back channel (`[1]`).
    discovery: RwLock<[Option<Bytes>; 2]>,
    /// `[server] backchannel_url`, resolved against the issuer (see [`Issuer::back_channel`]).
    backchannel: RwLock<Option<Arc<Issuer>>>,
    acr_values: RwLock<Arc<Vec<String>>>,
    config_file: RwLock<Option<Arc<crate::config::ConfigFileState>>>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    match lock.write() {
        Ok(mut g) => *g = value,
        Err(p) => *p.into_inner() = value,
    }
}

impl Provider {
    /// The config file the server started from and how its last load went (`None` without
    /// `--config`).
    pub fn config_file(&self) -> Option<Arc<crate::config::ConfigFileState>> {
        read(&self.config_file)
    }

    /// Records how the config file's last load went (see [`crate::watch`]).
    pub fn set_config_file(&self, state: crate::config::ConfigFileState) {
        write(&self.config_file, Some(Arc::new(state)));
    }

    /// Builds the provider over an opened store and loaded keys, reading the registry.
    pub async fn new(
        issuer: Issuer,
        store: Store,
        keys: Keys,
        clock: Clock,
        events: EventBus,
        settings: Settings,
    ) -> Result<Provider, StoreError> {
        let p = Provider {
            issuer,
            store,
            keys,
            clock,
            events,
            sessions: crate::oauth::session::Sessions::default(),
            pending: crate::oauth::pending::PendingRequests::default(),
            pushed: crate::oauth::authorize::pushed_store::PushedRequests::default(),
            device_codes: crate::oauth::device::DeviceCodes::default(),
            resource_server: crate::resources::server::ResourceServer::default(),
            jtis: crate::oauth::replay::JtiSet::default(),
            dpop_nonces: crate::oauth::dpop::nonce::Nonces::default(),
            remote_jwks: crate::oauth::jwks_uri::RemoteJwks::default(),
            client_documents: crate::oauth::client_documents::Documents::default(),
            registration_gate: std::sync::OnceLock::new(),
            trusted_issuers: RwLock::new(Arc::new(Vec::new())),
            faults: crate::faults::Faults::default(),
            stats: crate::faults::stats::Stats::default(),
            settings: RwLock::new(Arc::new(settings)),
            clients: RwLock::new(Arc::new(HashMap::new())),
            scopes: RwLock::new(Arc::new(Vec::new())),
            discovery: RwLock::new([None, None]),
            backchannel: RwLock::new(None),
            acr_values: RwLock::new(Arc::new(Vec::new())),
            config_file: RwLock::new(None),
        };
        p.reload_clients().await?;
        p.reload_scopes().await?;
        p.reload_resources().await?;
        p.reload_acr_values().await?;
        p.reload_trusted_issuers().await?;
        p.faults.replace(p.store.list_faults().await?);
        p.stats.reset_at(p.clock.now_ms());
        Ok(p)
    }

    /// The trusted issuers of JWT bearer assertions, in their stored order.
    pub fn trusted_issuers(&self) -> Arc<Vec<TrustedIssuer>> {
        read(&self.trusted_issuers)
    }

    /// The trusted issuer whose `issuer` is exactly `iss`.
    pub fn trusted_issuer(&self, iss: &str) -> Option<TrustedIssuer> {
        self.trusted_issuers().iter().find(|t| t.issuer == iss).cloned()
    }

    async fn reload_trusted_issuers(&self) -> Result<(), StoreError> {
        let list = self.store.load_trusted_issuers().await?;
        write(&self.trusted_issuers, Arc::new(list));
        Ok(())
    }

    async fn save_trusted_issuers(&self, list: Vec<TrustedIssuer>) -> Result<(), StoreError> {
        self.store.save_trusted_issuers(&list).await?;
        self.events
            .publish(self.clock.now_ms(), Event::TrustedIssuersUpdated(list.clone()));
        write(&self.trusted_issuers, Arc::new(list));
        Ok(())
    }

    /// Creates or replaces the trusted issuer with `t.issuer`. Returns whether it was new.
    pub async fn upsert_trusted_issuer(&self, t: TrustedIssuer) -> Result<bool, ChangeError> {
        let errs = validate::trusted_issuer(&t);
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let mut list = (*self.trusted_issuers()).clone();
        let created = match list.iter_mut().find(|x| x.issuer == t.issuer) {
            Some(old) => {
                if *old == t {
                    return Ok(false);
                }
                *old = t;
                false
            }
            None => {
                list.push(t);
                true
            }
        };
        self.save_trusted_issuers(list).await?;
        Ok(created)
    }

    /// Deletes the trusted issuer `issuer`.
    pub async fn delete_trusted_issuer(&self, issuer: &str) -> Result<(), ChangeError> {
        let mut list = (*self.trusted_issuers()).clone();
        let before = list.len();
        list.retain(|t| t.issuer != issuer);
        if list.len() == before {
            return Err(ChangeError::NotFound(format!("trusted issuer `{issuer}`")));
        }
        self.save_trusted_issuers(list).await?;
        Ok(())
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<Settings> {
        read(&self.settings)
    }

    /// Replaces the settings (persisted) and publishes `settings.updated`.
    pub async fn set_settings(&self, s: Settings) -> Result<(), StoreError> {
        self.store.save_settings(&s).await?;
        self.events
            .publish(self.clock.now_ms(), Event::SettingsUpdated(Box::new(s.clone())));
        write(&self.settings, Arc::new(s));
        self.invalidate_discovery();
        Ok(())
    }

    /// The client with exactly this id (byte for byte): a registered one, else the client of a
    /// fetched Client ID Metadata Document with that URL
    /// ([`crate::oauth::client_metadata_document::resolve`] fetches it).
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        read(&self.clients)
            .get(client_id)
            .cloned()
            .or_else(|| self.client_documents.client(client_id))
    }

    /// Whether a client with exactly this id is in the registry (not a metadata document).
    pub fn client_registered(&self, client_id: &str) -> bool {
        read(&self.clients).contains_key(client_id)
    }

    /// Deletes every dynamically registered client (RFC 7591); returns their ids.
    pub async fn delete_dynamic_clients(&self) -> Result<Vec<String>, ChangeError> {
        let ids: Vec<String> = self
            .clients()
            .iter()
            .filter(|c| c.registration.is_some())
            .map(|c| c.client_id.clone())
            .collect();
        for id in &ids {
            self.delete_client(id).await?;
        }
        Ok(ids)
    }

    /// Every client, by id.
    pub fn clients(&self) -> Vec<Arc<Client>> {
        let mut v: Vec<_> = read(&self.clients).values().cloned().collect();
        v.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        v
    }

    /// Every scope: built-in first, then custom ones by name.
    pub fn scopes(&self) -> Arc<Vec<Scope>> {
        read(&self.scopes)
    }

    /// Whether a scope with this name is registered.
    pub fn scope_exists(&self, name: &str) -> bool {
        self.scopes().iter().any(|s| s.name == name)
    }

    async fn reload_clients(&self) -> Result<(), StoreError> {
        let map = self
            .store
            .list_clients()
            .await?
            .into_iter()
            .map(|c| (c.client_id.clone(), Arc::new(c)))
            .collect();
        write(&self.clients, Arc::new(map));
        Ok(())
    }

    async fn reload_scopes(&self) -> Result<(), StoreError> {
        let mut all = builtin_scopes();
        all.extend(self.store.list_scopes().await?);
        write(&self.scopes, Arc::new(all));
        self.invalidate_discovery();
        Ok(())
    }

    async fn reload_resources(&self) -> Result<(), StoreError> {
        let all = self.store.list_resources().await?;
        self.resource_server.load(&self.issuer, all);
        Ok(())
    }

    /// The acr values personas authenticate at (OIDC Core §2), for discovery's
    /// `acr_values_supported`: `"0"` (a persona without one) and every persona's `acr`, sorted.
    pub fn acr_values(&self) -> Arc<Vec<String>> {
        read(&self.acr_values)
    }

    async fn reload_acr_values(&self) -> Result<(), StoreError> {
        let mut values: Vec<String> = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter_map(|u| u.user.acr)
            .collect();
        values.push(crate::oauth::acr::LEVEL_ZERO.to_string());
        values.sort();
        values.dedup();
        if *self.acr_values() != values {
            write(&self.acr_values, Arc::new(values));
            self.invalidate_discovery();
        }
        Ok(())
    }

    /// Every resource, by name (from the in-memory mirror).
    pub fn resources(&self) -> Vec<Resource> {
        let mut v: Vec<Resource> = self.resource_server.all().iter().map(|c| c.resource.clone()).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The cached discovery document for the front channel (`back_channel == false`) or the
    /// back channel, built by `build` when missing.
    pub fn discovery_cached(&self, back_channel: bool, build: impl FnOnce() -> Bytes) -> Bytes {
        let slot = usize::from(back_channel);
        if let Some(b) = read(&self.discovery)[slot].clone() {
            return b;
        }
        let b = build();
        match self.discovery.write() {
            Ok(mut g) => g[slot] = Some(b.clone()),
            Err(p) => p.into_inner()[slot] = Some(b.clone()),
        }
        b
    }

    fn invalidate_discovery(&self) {
        write(&self.discovery, [None, None]);
    }

    /// The back-channel base URL (`[server] backchannel_url`), when one is configured.
    pub fn back_channel(&self) -> Option<Arc<Issuer>> {
        read(&self.backchannel)
    }

    /// Sets (or with `None` removes) the back-channel base URL: `url` is validated and resolved
    /// with [`Issuer::back_channel`]; the error says what is wrong with it.
    pub fn set_back_channel(&self, url: Option<&str>) -> Result<(), String> {
        let resolved = match url {
            Some(u) => Some(Arc::new(self.issuer.back_channel(u)?)),
            None => None,
        };
        write(&self.backchannel, resolved);
        self.invalidate_discovery();
        Ok(())
    }

    /// Whether a request's `Host` (`host[:port]`) is the configured back channel's.
    pub fn is_back_channel_host(&self, host: Option<&str>) -> bool {
        match (host, self.back_channel()) {
            (Some(h), Some(b)) => b.serves_host(h),
            _ => false,
        }
    }

    // ---- registry changes ----

    /// Creates or replaces a client after validating it. Returns true when created.
    pub async fn upsert_client(&self, mut client: Client) -> Result<bool, ChangeError> {
        client.normalize();
        let errs = validate::client(&client, &|s| self.scope_exists(s));
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let created = self.store.upsert_client(&client, self.clock.now()).await?;
        self.reload_clients().await?;
        let ev = if created {
            Event::ClientCreated(Box::new(client))
        } else {
            Event::ClientUpdated(Box::new(client))
        };
        self.events.publish(self.clock.now_ms(), ev);
        Ok(created)
    }

    /// Deletes a client (its tokens stay recorded).
    pub async fn delete_client(&self, client_id: &str) -> Result<(), ChangeError> {
        if !self.store.delete_client(client_id).await? {
            return Err(ChangeError::NotFound(format!("client `{client_id}`")));
        }
        self.reload_clients().await?;
        self.events.publish(
            self.clock.now_ms(),
            Event::ClientDeleted {
                client_id: client_id.to_string(),
            },
        );
        Ok(())
    }

    /// Creates or replaces a custom scope. Returns true when created.
    pub async fn upsert_scope(&self, mut scope: Scope) -> Result<bool, ChangeError> {
        if builtin_scopes().iter().any(|b| b.name == scope.name) {
            return Err(ChangeError::ReadOnly(format!(
                "`{}` is a built-in scope and cannot be changed",
                scope.name
            )));
        }
        scope.builtin = false;
        let errs = validate::scope(&scope);
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let created = self.store.upsert_scope(&scope, self.clock.now()).await?;
        self.reload_scopes().await?;
        let ev = if created {
            Event::ScopeCreated(scope)
        } else {
            Event::ScopeUpdated(scope)
        };
        self.events.publish(self.clock.now_ms(), ev);
        Ok(created)
    }

    /// Deletes a custom scope that no client or resource uses.
    pub async fn delete_scope(&self, name: &str) -> Result<(), ChangeError> {
        if builtin_scopes().iter().any(|b| b.name == name) {
            return Err(ChangeError::ReadOnly(format!(
                "`{name}` is a built-in scope and cannot be deleted"
            )));
        }
        let users: Vec<String> = self
            .clients()
            .iter()
            .filter(|c| c.scopes.iter().any(|s| s == name))
            .map(|c| c.client_id.clone())
            .collect();
        if !users.is_empty() {
            return Err(ChangeError::Conflict(format!(
                "scope `{name}` is allowed for client(s) {}; remove it from them first",
                users.join(", ")
            )));
        }
        let resources: Vec<String> = self
            .store
            .list_resources()
            .await?
            .into_iter()
            .filter(|r| {
                r.required_scopes.iter().any(|s| s == name)
                    || r.rules.iter().any(|rule| rule.scopes.iter().any(|s| s == name))
            })
            .map(|r| r.name)
            .collect();
        if !resources.is_empty() {
            return Err(ChangeError::Conflict(format!(
                "scope `{name}` is required by resource(s) {}; remove it from them first",
                resources.join(", ")
            )));
        }
        if !self.store.delete_scope(name).await? {
            return Err(ChangeError::NotFound(format!("scope `{name}`")));
        }
        self.reload_scopes().await?;
        self.events
            .publish(self.clock.now_ms(), Event::ScopeDeleted { name: name.to_string() });
        Ok(())
    }

    /// Creates or replaces a user; a password, when given, is stored hashed (argon2id).
    pub async fn upsert_user(&self, mut user: User) -> Result<bool, ChangeError> {
        let errs = validate::user(&user);
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let hash = match user.password.take() {
            Some(pw) => Some(
                tokio::task::spawn_blocking(move || crate::password::hash(&pw))
                    .await
                    .map_err(|e| ChangeError::Store(StoreError::Corrupt(e.to_string())))?
                    .map_err(|e| ChangeError::Store(StoreError::Corrupt(e)))?,
            ),
            None => None,
        };
        if user.sub.is_none() {
            user.sub = self
                .store
                .list_users()
                .await?
                .into_iter()
                .find(|u| u.user.username == user.username)
                .and_then(|u| u.user.sub)
                .or_else(|| Some(crate::ids::stable_sub(&user.username)));
        }
        let created = self
            .store
            .upsert_user(&user, hash, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => ChangeError::Conflict(m),
                other => ChangeError::Store(other),
            })?;
        self.reload_acr_values().await?;
        let ev = if created {
            Event::UserCreated(Box::new(user))
        } else {
            Event::UserUpdated(Box::new(user))
        };
        self.events.publish(self.clock.now_ms(), ev);
        Ok(created)
    }

    /// Deletes a user.
    pub async fn delete_user(&self, username: &str) -> Result<(), ChangeError> {
        if !self.store.delete_user(username).await? {
            return Err(ChangeError::NotFound(format!("user `{username}`")));
        }
        self.reload_acr_values().await?;
        self.events.publish(
            self.clock.now_ms(),
            Event::UserDeleted {
                username: username.to_string(),
            },
        );
        Ok(())
    }

    /// Creates or replaces a resource.
    pub async fn upsert_resource(&self, r: Resource) -> Result<bool, ChangeError> {
        let mut errs = validate::resource(&r, &|s| self.scope_exists(s));
        if let Some(c) = &r.introspection_client
            && validate::is_identifier(c)
            && self.client(c).is_none()
        {
            errs.push(validate::FieldError::new(
                validate::Path::key("introspection_client"),
                format!("no client `{c}`; name the client the API authenticates to /introspect as"),
            ));
        }
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let created = self.store.upsert_resource(&r, self.clock.now()).await?;
        self.reload_resources().await?;
        let view = Box::new(crate::resources::view::ResourceView::of(&self.issuer, r));
        let ev = if created {
            Event::ResourceCreated(view)
        } else {
            Event::ResourceUpdated(view)
        };
        self.events.publish(self.clock.now_ms(), ev);
        Ok(created)
    }

    /// Deletes a resource.
    pub async fn delete_resource(&self, name: &str) -> Result<(), ChangeError> {
        if !self.store.delete_resource(name).await? {
            return Err(ChangeError::NotFound(format!("resource `{name}`")));
        }
        self.reload_resources().await?;
        self.events
            .publish(self.clock.now_ms(), Event::ResourceDeleted { name: name.to_string() });
        Ok(())
    }

    // ---- fault rules and scenarios ----

    fn faults_changed(&self) {
        self.events.publish(
            self.clock.now_ms(),
            Event::FaultsChanged {
                rules: self.faults.list(),
            },
        );
    }

    /// Replaces every fault rule (validated as a set), persists them and publishes
    /// `faults.changed`. Counters of unchanged rules are kept.
    pub async fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), ChangeError> {
        let errs = crate::faults::validate_set(&rules, &validate::Path::key("faults"));
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        self.store.save_faults(&rules, self.clock.now()).await?;
        self.faults.replace(rules);
        self.faults_changed();
        Ok(())
    }

    fn rule_errors(rule: &FaultRule) -> Result<(), ChangeError> {
        let errs = crate::faults::validate(rule, &validate::Path::default());
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ChangeError::Invalid(errs))
        }
    }

    /// Adds a rule at the end (tried last). Conflict when the name is taken.
    pub async fn create_fault(&self, rule: FaultRule) -> Result<(), ChangeError> {
        Self::rule_errors(&rule)?;
        let mut all = self.faults.rules();
        if all.iter().any(|r| r.name == rule.name) {
            return Err(ChangeError::Conflict(format!(
                "a fault rule named `{}` exists",
                rule.name
            )));
        }
        all.push(rule);
        self.set_faults(all).await
    }

    /// Replaces the rule `name` in place (`rule` may carry a new name; its counters restart).
    /// Returns true when it was created (no rule had that name).
    pub async fn replace_fault(&self, name: &str, rule: FaultRule) -> Result<bool, ChangeError> {
        Self::rule_errors(&rule)?;
        let mut all = self.faults.rules();
        if rule.name != name && all.iter().any(|r| r.name == rule.name) {
            return Err(ChangeError::Conflict(format!(
                "a fault rule named `{}` exists",
                rule.name
            )));
        }
        let created = match all.iter_mut().find(|r| r.name == name) {
            Some(slot) => {
                *slot = rule;
                false
            }
            None => {
                all.push(rule);
                true
            }
        };
        self.set_faults(all).await?;
        Ok(created)
    }

    /// Deletes the rule `name`.
    pub async fn delete_fault(&self, name: &str) -> Result<(), ChangeError> {
        let mut all = self.faults.rules();
        let before = all.len();
        all.retain(|r| r.name != name);
        if all.len() == before {
            return Err(ChangeError::NotFound(format!("fault rule `{name}`")));
        }
        self.set_faults(all).await
    }

    /// Turns the rule `name` on or off (its counters are kept).
    pub async fn enable_fault(&self, name: &str, enabled: bool) -> Result<(), ChangeError> {
        let mut all = self.faults.rules();
        let Some(r) = all.iter_mut().find(|r| r.name == name) else {
            return Err(ChangeError::NotFound(format!("fault rule `{name}`")));
        };
        if r.enabled == enabled {
            return Ok(());
        }
        r.enabled = enabled;
        self.store.save_faults(&all, self.clock.now()).await?;
        self.faults.set_enabled(name, enabled);
        self.faults_changed();
        Ok(())
    }

    /// Puts the counters of `name` (or of every rule) back to zero: a rule used up by `times`
    /// fires again.
    pub fn reset_fault_counters(&self, name: Option<&str>) -> Result<(), ChangeError> {
        if !self.faults.reset_counters(name) && name.is_some() {
            return Err(ChangeError::NotFound(format!(
                "fault rule `{}`",
                name.unwrap_or_default()
            )));
        }
        self.faults_changed();
        Ok(())
    }

    /// Every scenario, by name.
    pub async fn scenarios(&self) -> Result<Vec<Scenario>, StoreError> {
        self.store.list_scenarios().await
    }

    /// Creates or replaces a scenario. Returns true when created.
    pub async fn upsert_scenario(&self, sc: Scenario) -> Result<bool, ChangeError> {
        let errs = crate::faults::scenario::validate(&sc, &validate::Path::default());
        if !errs.is_empty() {
            return Err(ChangeError::Invalid(errs));
        }
        let created = self.store.upsert_scenario(&sc, self.clock.now()).await?;
        self.events.publish(self.clock.now_ms(), Event::ScenariosChanged);
        Ok(created)
    }

    /// Deletes a scenario.
    pub async fn delete_scenario(&self, name: &str) -> Result<(), ChangeError> {
        if !self.store.delete_scenario(name).await? {
            return Err(ChangeError::NotFound(format!("scenario `{name}`")));
        }
        self.events.publish(self.clock.now_ms(), Event::ScenariosChanged);
        Ok(())
    }

    /// The current state as a scenario named `name`: the clock offset, every fault rule, the
    /// settings a scenario can hold, and (when asked) every client and user without their
    /// secrets' hashes (clients keep their secret as configured).
    pub async fn snapshot_scenario(
        &self,
        name: &str,
        description: String,
        with_registry: bool,
    ) -> Result<Scenario, StoreError> {
        let offset = self.clock.offset_secs();
        let (clients, users) = if with_registry {
            (
                self.clients().iter().map(|c| (**c).clone()).collect(),
                self.store.list_users().await?.into_iter().map(|u| u.user).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Scenario {
            name: name.to_string(),
            description,
            clock_offset: (offset != 0).then_some(offset),
            faults: self.faults.rules(),
            clients,
            users,
            settings: Some(crate::faults::ScenarioSettings::of(&self.settings())),
        })
    }

    /// Applies the scenario `name` (see [`Scenario`]) and publishes `scenario.applied`.
    pub async fn apply_scenario(&self, name: &str) -> Result<Scenario, ChangeError> {
        let Some(sc) = self.scenarios().await?.into_iter().find(|s| s.name == name) else {
            return Err(ChangeError::NotFound(format!("scenario `{name}`")));
        };
        for c in sc.clients.clone() {
            self.upsert_client(c).await?;
        }
        for u in sc.users.clone() {
            self.upsert_user(u).await?;
        }
        if let Some(s) = &sc.settings {
            let merged = s.over(&self.settings());
            if merged != *self.settings() {
                self.set_settings(merged).await?;
            }
        }
        self.set_faults(sc.faults.clone()).await?;
        // A scenario starts its rules afresh, even one identical to a rule already in force.
        self.faults.reset_counters(None);
        let offset = sc.clock_offset.unwrap_or(0);
        if offset != self.clock.offset_secs() {
            self.clock.set_offset(offset);
            self.events.publish(self.clock.now_ms(), Event::ClockMoved { offset });
        }
        self.events
            .publish(self.clock.now_ms(), Event::ScenarioApplied { name: name.to_string() });
        Ok(sc)
    }

    /// Upserts a validated config file: the file wins for what it names; nothing else is
    /// deleted. Settings it states are applied; the signing algorithm takes effect at the next
    /// start (or key rotation).
    pub async fn apply_config(&self, cfg: ConfigFile) -> Result<(), ChangeError> {
        if let Some(url) = &cfg.server.backchannel_url
            && let Err(message) = self.set_back_channel(Some(url))
        {
            return Err(ChangeError::Invalid(vec![FieldError {
                path: validate::Path::key("server").then("backchannel_url"),
                message,
            }]));
        }
        let merged = cfg.merge_settings(&self.settings());
        if merged != *self.settings() {
            self.set_settings(merged).await?;
        }
        if !cfg.keys.is_empty() {
            self.install_fixed_keys(&cfg).await?;
        }
        for s in cfg.scopes {
            self.upsert_scope(s).await?;
        }
        for c in cfg.clients {
            let unchanged = self.client(&c.client_id).is_some_and(|old| {
                let mut n = c.clone();
                n.normalize();
                *old == n
            });
            if !unchanged {
                self.upsert_client(c).await?;
            }
        }
        for u in cfg.users {
            self.upsert_user(u).await?;
        }
        for r in cfg.resources {
            let unchanged = self.resource_server.get(&r.name).is_some_and(|c| c.resource == r);
            if !unchanged {
                self.upsert_resource(r).await?;
            }
        }
        for t in cfg.trusted_issuers {
            self.upsert_trusted_issuer(t).await?;
        }
        if !cfg.faults.is_empty() {
            let mut all = self.faults.rules();
            for f in cfg.faults {
                match all.iter_mut().find(|r| r.name == f.name) {
                    Some(slot) => *slot = f,
                    None => all.push(f),
                }
            }
            if all != self.faults.rules() {
                self.set_faults(all).await?;
            }
        }
        for sc in cfg.scenarios {
            let unchanged = self.store.list_scenarios().await?.contains(&sc);
            if !unchanged {
                self.upsert_scenario(sc).await?;
            }
        }
        Ok(())
    }

    /// Installs the file's `[[keys]]` ([`crate::keys::Keys::load_fixed`]'s rules), reloads the
    /// JWKS, and publishes `key.rotated` when the active key changed.
    async fn install_fixed_keys(&self, cfg: &ConfigFile) -> Result<(), ChangeError> {
        let now = self.clock.now();
        let fixed = cfg
            .fixed_keys(now)
            .map_err(|e| ChangeError::Store(StoreError::Corrupt(e.to_string())))?;
        let before = self.keys.active();
        let settings = self.settings();
        let retention = i64::try_from(settings.access_token_ttl.0.max(settings.id_token_ttl.0)).unwrap_or(i64::MAX);
        self.store
            .install_fixed_keys(fixed, now, now.saturating_add(retention))
            .await?;
        self.keys
            .reload(&self.store, now)
            .await
            .map_err(|e| ChangeError::Store(StoreError::Corrupt(e.to_string())))?;
        self.invalidate_discovery();
        let (kid, alg) = self.keys.active();
        if kid != before.0 {
            self.events.publish(
                self.clock.now_ms(),
                Event::KeyRotated {
                    kid,
                    alg: alg.as_str().to_string(),
                },
            );
        }
        Ok(())
    }

    /// `--config-mode replace`: removes the resources, clients, users and custom scopes `cfg`
    /// does not name (in that order, so nothing removed is still referenced); tokens stay.
    /// Returns what was removed, as `client `x`` and the like.
    pub async fn prune_to(&self, cfg: &ConfigFile) -> Result<Vec<String>, ChangeError> {
        let mut removed = Vec::new();
        for r in self.resources() {
            if !cfg.resources.iter().any(|f| f.name == r.name) {
                self.delete_resource(&r.name).await?;
                removed.push(format!("resource `{}`", r.name));
            }
        }
        for t in self.trusted_issuers().iter() {
            if !cfg.trusted_issuers.iter().any(|f| f.issuer == t.issuer) {
                self.delete_trusted_issuer(&t.issuer).await?;
                removed.push(format!("trusted issuer `{}`", t.issuer));
            }
        }
        for c in self.clients() {
            if !cfg.clients.iter().any(|f| f.client_id == c.client_id) {
                self.delete_client(&c.client_id).await?;
                removed.push(format!("client `{}`", c.client_id));
            }
        }
        for u in self.store.list_users().await? {
            let name = u.user.username.clone();
            if !cfg.users.iter().any(|f| f.username == name) {
                self.delete_user(&name).await?;
                removed.push(format!("user `{name}`"));
            }
        }
        let kept: Vec<FaultRule> = self
            .faults
            .rules()
            .into_iter()
            .filter(|r| cfg.faults.iter().any(|f| f.name == r.name))
            .collect();
        for r in self.faults.rules() {
            if !kept.iter().any(|k| k.name == r.name) {
                removed.push(format!("fault rule `{}`", r.name));
            }
        }
        if kept.len() != self.faults.rules().len() {
            self.set_faults(kept).await?;
        }
        for sc in self.scenarios().await? {
            if !cfg.scenarios.iter().any(|f| f.name == sc.name) {
                self.delete_scenario(&sc.name).await?;
                removed.push(format!("scenario `{}`", sc.name));
            }
        }
        for sc in self.scopes().iter().filter(|s| !s.builtin) {
            if !cfg.scopes.iter().any(|f| f.name == sc.name) {
                self.delete_scope(&sc.name).await?;
                removed.push(format!("scope `{}`", sc.name));
            }
        }
        Ok(removed)
    }

    /// After the store was reset ([`Store::reset_to_baseline`]): reads the settings, clients,
    /// scopes and resources back into the in-memory mirrors (every resource starts afresh, with
    /// no recent calls and empty JWKS caches), ends every browser session and waiting
    /// authorization request, and puts the virtual clock back to real time. Publishes nothing:
    /// the caller publishes one `server.reset`.
    pub async fn reload_after_reset(&self) -> Result<(), StoreError> {
        let settings = self.store.load_settings().await?.unwrap_or_default();
        write(&self.settings, Arc::new(settings));
        self.reload_clients().await?;
        self.reload_scopes().await?;
        self.reload_acr_values().await?;
        self.reload_trusted_issuers().await?;
        self.jtis.clear();
        self.dpop_nonces.clear();
        self.remote_jwks.clear();
        self.client_documents.clear();
        let all = self.store.list_resources().await?;
        self.resource_server.reset(&self.issuer, all);
        self.sessions.clear();
        self.pending.clear();
        self.pushed.clear();
        self.device_codes.clear();
        self.clock.set_offset(0);
        self.invalidate_discovery();
        // The rules as they stood at start, every counter and call count back to zero.
        self.faults.replace(self.store.list_faults().await?);
        self.faults.reset_counters(None);
        self.stats.reset_at(self.clock.now_ms());
        Ok(())
    }

    /// The current registry as a config file (what `latchkey export` writes).
    pub async fn export_config(&self) -> Result<ConfigFile, StoreError> {
        let mut cfg = ConfigFile::with_settings(&self.settings());
        cfg.scopes = self.store.list_scopes().await?;
        cfg.clients = self.clients().iter().map(|c| (**c).clone()).collect();
        cfg.users = self.store.list_users().await?.into_iter().map(|u| u.user).collect();
        cfg.resources = self.store.list_resources().await?;
        cfg.trusted_issuers = (*self.trusted_issuers()).clone();
        cfg.faults = self.faults.rules();
        cfg.scenarios = self.store.list_scenarios().await?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_urls_never_double_a_slash() {
        let i = Issuer::parse("http://localhost:8000/").unwrap();
        assert_eq!(i.id, "http://localhost:8000/");
        assert_eq!(i.url("/token"), "http://localhost:8000/token");
        assert_eq!(i.path, "");
        let j = Issuer::parse("https://idp.test/realms/dev").unwrap();
        assert_eq!(j.url("/jwks"), "https://idp.test/realms/dev/jwks");
        assert_eq!(j.path, "/realms/dev");
        assert_eq!(j.host().as_deref(), Some("idp.test"));
        assert!(Issuer::parse("ftp://x").is_err());
        assert!(Issuer::parse("http://x/?a=b").is_err());
    }
}
