//! The SQLite store (tokio-rusqlite): clients, scopes, users, resources, settings, signing keys
//! and every token issued.
//!
//! A file database runs in WAL mode with one writer connection and one reader connection, so
//! introspection reads never wait behind token writes. The file is created readable by its
//! owner only. `:memory:` uses a single connection.

mod cache;
mod migrations;
mod reset;
mod tokens;

#[cfg(test)]
#[path = "tests.rs"]
mod file_tests;

use std::path::{Path, PathBuf};

use tokio_rusqlite::Connection;
use tokio_rusqlite::rusqlite::{self, OptionalExtension, params};

pub use migrations::MigrationError;
pub use reset::ResetCounts;
pub use tokens::{TokenBrief, TokenFilter, TokenKind, TokenRecord, TokenStatus};

use crate::model::{Client, Resource, Scope, Settings, User};

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// Nothing is written to disk.
    Memory,
    /// A SQLite file.
    File(PathBuf),
}

impl DbLocation {
    /// Parses the `--db` argument: `:memory:` or a path.
    pub fn parse(s: &str) -> DbLocation {
        if s == ":memory:" {
            DbLocation::Memory
        } else {
            DbLocation::File(PathBuf::from(s))
        }
    }

    /// The default: `latchkey.db` in the platform data directory.
    pub fn default_file() -> DbLocation {
        let base = dirs::data_dir().unwrap_or_else(|| PathBuf::from("."));
        DbLocation::File(base.join("latchkey").join("latchkey.db"))
    }
}

impl std::fmt::Display for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Memory => f.write_str(":memory:"),
            DbLocation::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Store failures. They are server-side faults (a 500), never the client's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database thread is gone.
    #[error("the database connection is closed")]
    Closed,
    /// Stored JSON did not decode.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Opening or migrating failed.
    #[error("cannot open the database {path}: {message}")]
    Open {
        /// The database.
        path: String,
        /// Why.
        message: String,
    },
    /// A unique constraint failed (duplicate key).
    #[error("{0}")]
    Conflict(String),
}

impl From<tokio_rusqlite::Error<StoreError>> for StoreError {
    fn from(e: tokio_rusqlite::Error<StoreError>) -> Self {
        match e {
            tokio_rusqlite::Error::Error(e) => e,
            tokio_rusqlite::Error::Close((_, e)) => StoreError::Sqlite(e),
            _ => StoreError::Closed,
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// JOSE algorithm.
    pub alg: String,
    /// PKCS#8 DER private key.
    pub private_der: Vec<u8>,
    /// The public JWK (JSON).
    pub public_jwk: String,
    /// `active` or `retired`.
    pub status: String,
    /// When it was created.
    pub created_at: i64,
    /// When it stopped signing.
    pub retired_at: Option<i64>,
    /// When it leaves the JWKS.
    pub expires_at: Option<i64>,
}

/// A user as stored: the password only as its hash.
#[derive(Debug, Clone)]
pub struct StoredUser {
    /// The persona (password field empty).
    pub user: User,
    /// The argon2id PHC string.
    pub password_hash: Option<String>,
}

/// A persona's sign-in settings, stored as JSON in `users.login` (schema v5).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct UserLogin {
    #[serde(default)]
    auto_login: bool,
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
}

fn stored_user(
    username: String,
    sub: String,
    password_hash: Option<String>,
    claims: &str,
    login: &str,
) -> Result<StoredUser, StoreError> {
    let login: UserLogin = from_json(login)?;
    Ok(StoredUser {
        user: User {
            username,
            password: None,
            sub: Some(sub),
            claims: from_json(claims)?,
            auto_login: login.auto_login,
            acr: login.acr,
            amr: login.amr,
        },
        password_hash,
    })
}

/// The handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    write: Connection,
    read: Connection,
    tokens: std::sync::Arc<cache::TokenCache>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database.
    pub async fn open(location: &DbLocation) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: location.to_string(),
            message,
        };
        match location {
            DbLocation::Memory => {
                let conn = Connection::open_in_memory()
                    .await
                    .map_err(|e| open_err(e.to_string()))?;
                conn.call(|c| prepare(c, false)).await.map_err(StoreError::from)?;
                Ok(Store {
                    write: conn.clone(),
                    read: conn,
                    tokens: Default::default(),
                })
            }
            DbLocation::File(path) => {
                create_private(path).map_err(open_err)?;
                let write = Connection::open(path).await.map_err(|e| open_err(e.to_string()))?;
                write
                    .call(|c| prepare(c, true))
                    .await
                    .map_err(|e| open_err(StoreError::from(e).to_string()))?;
                let read = Connection::open(path).await.map_err(|e| open_err(e.to_string()))?;
                read.call(|c| {
                    c.busy_timeout(std::time::Duration::from_secs(5))?;
                    c.pragma_update(None, "query_only", true)?;
                    Ok::<_, StoreError>(())
                })
                .await?;
                Ok(Store {
                    write,
                    read,
                    tokens: Default::default(),
                })
            }
        }
    }

    async fn w<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut rusqlite::Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        Ok(self.write.call(f).await?)
    }

    async fn r<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut rusqlite::Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        Ok(self.read.call(f).await?)
    }

    // ---- settings ----

    /// The persisted server settings, if any were saved.
    pub async fn load_settings(&self) -> Result<Option<Settings>, StoreError> {
        self.r(|c| {
            let v: Option<String> = c
                .query_row("SELECT value FROM settings WHERE key = 'server'", [], |r| r.get(0))
                .optional()?;
            v.map(|s| from_json(&s)).transpose()
        })
        .await
    }

    /// Persists the server settings.
    pub async fn save_settings(&self, s: &Settings) -> Result<(), StoreError> {
        let v = json(s)?;
        self.w(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES ('server', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![v],
            )?;
            Ok(())
        })
        .await
    }

    /// The trusted issuers of JWT bearer assertions (`[[trusted_issuers]]`), kept with the
    /// settings (so a reset restores them with the settings).
    pub async fn load_trusted_issuers(&self) -> Result<Vec<crate::model::TrustedIssuer>, StoreError> {
        self.r(|c| {
            let v: Option<String> = c
                .query_row("SELECT value FROM settings WHERE key = 'trusted_issuers'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(v.map(|s| from_json(&s)).transpose()?.unwrap_or_default())
        })
        .await
    }

    /// Persists the whole list of trusted issuers.
    pub async fn save_trusted_issuers(&self, list: &[crate::model::TrustedIssuer]) -> Result<(), StoreError> {
        let v = json(&list)?;
        self.w(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES ('trusted_issuers', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![v],
            )?;
            Ok(())
        })
        .await
    }

    // ---- scopes ----

    /// Custom scopes, by name.
    pub async fn list_scopes(&self) -> Result<Vec<Scope>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached("SELECT name, description, claims FROM scopes ORDER BY name")?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (name, description, claims) = row?;
                out.push(Scope {
                    name,
                    description,
                    claims: from_json(&claims)?,
                    builtin: false,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces a custom scope. Returns true when it was created.
    pub async fn upsert_scope(&self, s: &Scope, now: i64) -> Result<bool, StoreError> {
        let (name, description, claims) = (s.name.clone(), s.description.clone(), json(&s.claims)?);
        self.w(move |c| {
            let existed = c.query_row("SELECT 1 FROM scopes WHERE name = ?1", [&name], |_| Ok(())).optional()?.is_some();
            c.execute(
                "INSERT INTO scopes (name, description, claims, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description, claims = excluded.claims, updated_at = excluded.updated_at",
                params![name, description, claims, now],
            )?;
            Ok(!existed)
        })
        .await
    }

    /// Deletes a custom scope. Returns whether it existed.
    pub async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.w(move |c| Ok(c.execute("DELETE FROM scopes WHERE name = ?1", [name])? > 0))
            .await
    }

    // ---- clients ----

    /// Every client, by id.
    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached("SELECT data FROM clients ORDER BY client_id")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(from_json(&row?)?);
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces a client. Returns true when it was created.
    pub async fn upsert_client(&self, client: &Client, now: i64) -> Result<bool, StoreError> {
        let id = client.client_id.clone();
        let data = json(client)?;
        self.w(move |c| {
            let existed = c
                .query_row("SELECT 1 FROM clients WHERE client_id = ?1", [&id], |_| Ok(()))
                .optional()?
                .is_some();
            c.execute(
                "INSERT INTO clients (client_id, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (client_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                params![id, data, now],
            )?;
            Ok(!existed)
        })
        .await
    }

    /// Deletes a client and the consents users gave it (a new client registered later under
    /// the same id must ask again). Returns whether it existed.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let id = client_id.to_string();
        self.w(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM consents WHERE client_id = ?1", [&id])?;
            let existed = tx.execute("DELETE FROM clients WHERE client_id = ?1", [&id])? > 0;
            tx.commit()?;
            Ok(existed)
        })
        .await
    }

    // ---- users ----

    /// Every user (without passwords), by username.
    pub async fn list_users(&self) -> Result<Vec<StoredUser>, StoreError> {
        self.r(|c| {
            let mut st =
                c.prepare_cached("SELECT username, sub, password_hash, claims, login FROM users ORDER BY username")?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (username, sub, password_hash, claims, login) = row?;
                out.push(stored_user(username, sub, password_hash, &claims, &login)?);
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces a user. `password_hash`: `Some` sets it, `None` keeps the stored one.
    /// Returns true when it was created.
    pub async fn upsert_user(&self, user: &User, password_hash: Option<String>, now: i64) -> Result<bool, StoreError> {
        let username = user.username.clone();
        let sub = user.sub.clone().unwrap_or_else(|| username.clone());
        let claims = json(&user.claims)?;
        let login = json(&UserLogin {
            auto_login: user.auto_login,
            acr: user.acr.clone(),
            amr: user.amr.clone(),
        })?;
        self.w(move |c| {
            let existed = c.query_row("SELECT 1 FROM users WHERE username = ?1", [&username], |_| Ok(())).optional()?.is_some();
            let res = c.execute(
                "INSERT INTO users (username, sub, password_hash, claims, login, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?6, ?5, ?5)
                 ON CONFLICT (username) DO UPDATE SET sub = excluded.sub,
                    password_hash = COALESCE(excluded.password_hash, users.password_hash),
                    claims = excluded.claims, login = excluded.login, updated_at = excluded.updated_at",
                params![username, sub, password_hash, claims, now, login],
            );
            match res {
                Ok(_) => Ok(!existed),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(StoreError::Conflict(format!("sub `{sub}` is already used by another user")))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Deletes a user and the consents they gave. Returns whether it existed.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let u = username.to_string();
        self.w(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM consents WHERE username = ?1", [&u])?;
            let existed = tx.execute("DELETE FROM users WHERE username = ?1", [&u])? > 0;
            tx.commit()?;
            Ok(existed)
        })
        .await
    }

    // ---- resources ----

    /// Every resource, by name. Rows written before schema v3 (name, audience, scopes only)
    /// are read from their columns.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, StoreError> {
        self.r(|c| {
            let mut st =
                c.prepare_cached("SELECT name, audience, required_scopes, data FROM resources ORDER BY name")?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (name, audience, req, data) = row?;
                out.push(match data {
                    Some(d) => from_json(&d)?,
                    None => Resource {
                        name,
                        audience: crate::model::Audience(if audience.is_empty() { vec![] } else { vec![audience] }),
                        required_scopes: from_json(&req)?,
                        ..Resource::default()
                    },
                });
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces a resource. Returns true when it was created.
    pub async fn upsert_resource(&self, r: &Resource, now: i64) -> Result<bool, StoreError> {
        let (name, req, data) = (r.name.clone(), json(&r.required_scopes)?, json(r)?);
        let audience = r.audience.values().first().cloned().unwrap_or_default();
        self.w(move |c| {
            let existed = c.query_row("SELECT 1 FROM resources WHERE name = ?1", [&name], |_| Ok(())).optional()?.is_some();
            c.execute(
                "INSERT INTO resources (name, audience, required_scopes, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (name) DO UPDATE SET audience = excluded.audience, required_scopes = excluded.required_scopes,
                    data = excluded.data, updated_at = excluded.updated_at",
                params![name, audience, req, data, now],
            )?;
            Ok(!existed)
        })
        .await
    }

    /// Deletes a resource. Returns whether it existed.
    pub async fn delete_resource(&self, name: &str) -> Result<bool, StoreError> {
        let n = name.to_string();
        self.w(move |c| Ok(c.execute("DELETE FROM resources WHERE name = ?1", [n])? > 0))
            .await
    }

    // ---- fault rules and scenarios ----

    /// Every fault rule, in the order they are tried.
    pub async fn list_faults(&self) -> Result<Vec<crate::faults::FaultRule>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached("SELECT data FROM faults ORDER BY position, name")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(from_json(&row?)?);
            }
            Ok(out)
        })
        .await
    }

    /// Replaces every fault rule (in one transaction), keeping their order.
    pub async fn save_faults(&self, rules: &[crate::faults::FaultRule], now: i64) -> Result<(), StoreError> {
        let rows = rules
            .iter()
            .map(|r| Ok((r.name.clone(), json(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.w(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM faults", [])?;
            for (i, (name, data)) in rows.iter().enumerate() {
                tx.execute(
                    "INSERT INTO faults (name, position, data, updated_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, i64::try_from(i).unwrap_or(i64::MAX), data, now],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Every scenario, by name.
    pub async fn list_scenarios(&self) -> Result<Vec<crate::faults::Scenario>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached("SELECT data FROM scenarios ORDER BY name")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(from_json(&row?)?);
            }
            Ok(out)
        })
        .await
    }

    /// Inserts or replaces a scenario. Returns true when it was created.
    pub async fn upsert_scenario(&self, sc: &crate::faults::Scenario, now: i64) -> Result<bool, StoreError> {
        let (name, data) = (sc.name.clone(), json(sc)?);
        self.w(move |c| {
            let existed = c
                .query_row("SELECT 1 FROM scenarios WHERE name = ?1", [&name], |_| Ok(()))
                .optional()?
                .is_some();
            c.execute(
                "INSERT INTO scenarios (name, data, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                params![name, data, now],
            )?;
            Ok(!existed)
        })
        .await
    }

    /// Deletes a scenario. Returns whether it existed.
    pub async fn delete_scenario(&self, name: &str) -> Result<bool, StoreError> {
        let n = name.to_string();
        self.w(move |c| Ok(c.execute("DELETE FROM scenarios WHERE name = ?1", [n])? > 0))
            .await
    }

    // ---- signing keys ----

    /// Every signing key, newest first, including retired keys that have left the JWKS (their
    /// `private_der` is empty once [`Store::purge_expired_keys`] ran).
    pub async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached(
                "SELECT kid, alg, private_der, public_jwk, status, created_at, retired_at, expires_at
                 FROM signing_keys ORDER BY created_at DESC, rowid DESC",
            )?;
            let rows = st.query_map([], |r| {
                Ok(StoredKey {
                    kid: r.get(0)?,
                    alg: r.get(1)?,
                    private_der: r.get(2)?,
                    public_jwk: r.get(3)?,
                    status: r.get(4)?,
                    created_at: r.get(5)?,
                    retired_at: r.get(6)?,
                    expires_at: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Adds `key` as the active key and retires the others (kept published until
    /// `retire_expires_at`), in one transaction.
    pub async fn activate_key(&self, key: StoredKey, retire_expires_at: i64) -> Result<(), StoreError> {
        self.w(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE signing_keys SET status = 'retired', retired_at = ?1, expires_at = ?2 WHERE status = 'active'",
                params![key.created_at, retire_expires_at],
            )?;
            tx.execute(
                "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, status, created_at) VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
                params![key.kid, key.alg, key.private_der, key.public_jwk, key.created_at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Installs fixed keys from the config file in one transaction: `keys[0]` becomes the active
    /// key, the rest are published as retired keys without an end (`expires_at` NULL, which only
    /// fixed keys have). The previously active key, and fixed keys the file no longer names,
    /// are retired until `retire_expires_at`. A row with the same `kid` is overwritten; its
    /// `created_at` is kept.
    pub async fn install_fixed_keys(
        &self,
        keys: Vec<StoredKey>,
        now: i64,
        retire_expires_at: i64,
    ) -> Result<(), StoreError> {
        self.w(move |c| {
            let tx = c.transaction()?;
            let Some(first) = keys.first() else {
                return Ok(());
            };
            tx.execute(
                "UPDATE signing_keys SET status = 'retired', retired_at = ?1, expires_at = ?2
                 WHERE status = 'active' AND kid != ?3",
                params![now, retire_expires_at, first.kid],
            )?;
            let named: Vec<String> = keys.iter().map(|k| k.kid.clone()).collect();
            let mut st = tx.prepare("SELECT kid FROM signing_keys WHERE status = 'retired' AND expires_at IS NULL")?;
            let open: Vec<String> = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            drop(st);
            for kid in open.iter().filter(|k| !named.contains(k)) {
                tx.execute(
                    "UPDATE signing_keys SET expires_at = ?1 WHERE kid = ?2",
                    params![retire_expires_at, kid],
                )?;
            }
            for (i, k) in keys.iter().enumerate() {
                let (status, retired_at) = if i == 0 { ("active", None) } else { ("retired", Some(now)) };
                tx.execute(
                    "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, status, created_at, retired_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
                     ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg, private_der = excluded.private_der,
                        public_jwk = excluded.public_jwk, status = excluded.status,
                        retired_at = CASE WHEN excluded.status = 'active' THEN NULL
                                          ELSE COALESCE(signing_keys.retired_at, excluded.retired_at) END,
                        expires_at = NULL",
                    params![k.kid, k.alg, k.private_der, k.public_jwk, status, k.created_at, retired_at],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Forgets the private key of every retired key whose publication time has passed (it can
    /// never sign or verify again); the row and its public JWK stay, so the Keys table can
    /// show when it left the JWKS. Returns how many keys were wiped now.
    pub async fn purge_expired_keys(&self, now: i64) -> Result<usize, StoreError> {
        self.w(move |c| {
            Ok(c.execute(
                "UPDATE signing_keys SET private_der = X'' WHERE status = 'retired' AND expires_at IS NOT NULL
                 AND expires_at <= ?1 AND length(private_der) > 0",
                [now],
            )?)
        })
        .await
    }
}

impl Store {
    /// One user with its password hash.
    pub async fn find_user(&self, username: &str) -> Result<Option<StoredUser>, StoreError> {
        let username = username.to_string();
        self.r(move |c| {
            let mut st =
                c.prepare_cached("SELECT username, sub, password_hash, claims, login FROM users WHERE username = ?1")?;
            let row = st
                .query_row([username], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()?;
            row.map(|(username, sub, password_hash, claims, login)| {
                stored_user(username, sub, password_hash, &claims, &login)
            })
            .transpose()
        })
        .await
    }

    /// The scopes `username` has consented to for `client_id`.
    pub async fn consented_scopes(&self, username: &str, client_id: &str) -> Result<Vec<String>, StoreError> {
        let (u, c) = (username.to_string(), client_id.to_string());
        self.r(move |conn| {
            let v: Option<String> = conn
                .query_row(
                    "SELECT scopes FROM consents WHERE username = ?1 AND client_id = ?2",
                    params![u, c],
                    |r| r.get(0),
                )
                .optional()?;
            v.map_or(Ok(Vec::new()), |s| from_json(&s))
        })
        .await
    }

    /// Remembers that `username` consented to `scopes` for `client_id` (added to earlier ones).
    pub async fn remember_consent(
        &self,
        username: &str,
        client_id: &str,
        scopes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut all = self.consented_scopes(username, client_id).await?;
        for s in scopes {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        let (u, c, v) = (username.to_string(), client_id.to_string(), json(&all)?);
        self.w(move |conn| {
            conn.execute(
                "INSERT INTO consents (username, client_id, scopes, granted_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (username, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
                params![u, c, v, now],
            )?;
            Ok(())
        })
        .await
    }
}

/// Creates the file (and its folder) readable by its owner only, and tightens an existing one.
fn create_private(path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Pragmas and migrations for a freshly opened connection.
fn prepare(c: &mut rusqlite::Connection, file: bool) -> Result<(), StoreError> {
    if file {
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "NORMAL")?;
    }
    c.pragma_update(None, "foreign_keys", true)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    migrations::migrate(c).map_err(|e| match e {
        MigrationError::Sqlite(e) => StoreError::Sqlite(e),
        other => StoreError::Corrupt(other.to_string()),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_databases_are_private_and_reopen_with_their_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("l.db");
        let loc = DbLocation::File(path.clone());
        let store = Store::open(&loc).await.unwrap();
        let scope = Scope {
            name: "read".into(),
            description: "d".into(),
            claims: vec![],
            builtin: false,
        };
        assert!(store.upsert_scope(&scope, 1).await.unwrap());
        assert!(!store.upsert_scope(&scope, 2).await.unwrap());
        drop(store);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = Store::open(&loc).await.unwrap();
        assert_eq!(again.list_scopes().await.unwrap(), vec![scope]);
    }

    #[tokio::test]
    async fn an_old_schema_is_upgraded_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // A database as an older build left it: the first migration only.
            let mut c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(migrations::MIGRATIONS[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            let tx = c.transaction().unwrap();
            tx.execute(
                "INSERT INTO scopes (name, description, claims, created_at, updated_at) VALUES ('kept', '', '[]', 0, 0)",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&DbLocation::File(path)).await.unwrap();
        let names: Vec<String> = store.list_scopes().await.unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, vec!["kept"]);
    }
}
