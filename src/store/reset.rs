//! Resetting a database between tests (`POST /admin/api/reset`, `latchkey reset`).
//!
//! The registry (settings, scopes, clients, users with their password hashes, resources) as it
//! stood when the server started is copied into `TEMP` tables of the writer connection
//! ([`Store::save_baseline`]): they live as long as the connection and never reach the database
//! file. [`Store::reset_to_baseline`] then puts the registry back and empties what requests
//! created (tokens, remembered consents) in one transaction: a plain table copy, with no
//! re-hashing of passwords and no re-validation, so it takes about a millisecond.

use tokio_rusqlite::rusqlite::{self, OptionalExtension, params};

use super::{Store, StoreError, StoredKey};

/// The registry tables a reset restores.
const REGISTRY: &[&str] = &[
    "settings",
    "scopes",
    "clients",
    "users",
    "resources",
    "faults",
    "scenarios",
];

/// What a reset removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetCounts {
    /// Tokens removed (every kind).
    pub tokens: u64,
    /// Remembered consent decisions removed.
    pub consents: u64,
}

fn clear_requests(tx: &rusqlite::Transaction<'_>) -> Result<ResetCounts, StoreError> {
    let tokens = tx.execute("DELETE FROM tokens", [])?;
    let consents = tx.execute("DELETE FROM consents", [])?;
    Ok(ResetCounts {
        tokens: u64::try_from(tokens).unwrap_or(u64::MAX),
        consents: u64::try_from(consents).unwrap_or(u64::MAX),
    })
}

fn replace_keys(tx: &rusqlite::Transaction<'_>, key: &StoredKey) -> Result<(), StoreError> {
    tx.execute("DELETE FROM signing_keys", [])?;
    tx.execute(
        "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, status, created_at) VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
        params![key.kid, key.alg, key.private_der, key.public_jwk, key.created_at],
    )?;
    Ok(())
}

impl Store {
    /// Copies the current registry aside as the state [`Store::reset_to_baseline`] restores,
    /// replacing an earlier copy.
    pub async fn save_baseline(&self) -> Result<(), StoreError> {
        self.w(|c| {
            let tx = c.transaction()?;
            for t in REGISTRY {
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS temp.baseline_{t}; CREATE TEMP TABLE baseline_{t} AS SELECT * FROM main.{t};"
                ))?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// The settings in the baseline copy, if one was saved and holds settings.
    pub async fn load_baseline_settings(&self) -> Result<Option<crate::model::Settings>, StoreError> {
        self.w(|c| {
            let saved: i64 = c.query_row(
                "SELECT count(*) FROM temp.sqlite_master WHERE type = 'table' AND name = 'baseline_settings'",
                [],
                |r| r.get(0),
            )?;
            if saved == 0 {
                return Ok(None);
            }
            let v: Option<String> = c
                .query_row(
                    "SELECT value FROM temp.baseline_settings WHERE key = 'server'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            v.map(|s| super::from_json(&s)).transpose()
        })
        .await
    }

    /// In one transaction: every token and remembered consent removed, the registry replaced by
    /// the copy [`Store::save_baseline`] made, and, with `new_key`, every signing key replaced
    /// by that one (active). Fails with [`StoreError::Corrupt`] when no baseline was saved.
    /// Empties the token cache.
    pub async fn reset_to_baseline(&self, new_key: Option<StoredKey>) -> Result<ResetCounts, StoreError> {
        let counts = self
            .w(move |c| {
                let tx = c.transaction()?;
                let saved: i64 = tx.query_row(
                    "SELECT count(*) FROM temp.sqlite_master WHERE type = 'table' AND name LIKE 'baseline_%'",
                    [],
                    |r| r.get(0),
                )?;
                if usize::try_from(saved).ok() != Some(REGISTRY.len()) {
                    return Err(StoreError::Corrupt(
                        "no baseline to reset to (the server saves one when it starts)".into(),
                    ));
                }
                let counts = clear_requests(&tx)?;
                for t in REGISTRY {
                    tx.execute_batch(&format!(
                        "DELETE FROM main.{t}; INSERT INTO main.{t} SELECT * FROM temp.baseline_{t};"
                    ))?;
                }
                if let Some(key) = &new_key {
                    replace_keys(&tx, key)?;
                }
                tx.commit()?;
                Ok(counts)
            })
            .await?;
        self.tokens.clear();
        Ok(counts)
    }

    /// For `latchkey reset` on a database no server has open: removes every token and
    /// remembered consent and, with `new_key`, replaces every signing key by that one; with
    /// `clear_registry`, also deletes every client, custom scope, user and resource (the caller
    /// then applies a config file). One transaction.
    pub async fn reset_offline(
        &self,
        clear_registry: bool,
        new_key: Option<StoredKey>,
    ) -> Result<ResetCounts, StoreError> {
        let counts = self
            .w(move |c| {
                let tx = c.transaction()?;
                let counts = clear_requests(&tx)?;
                if clear_registry {
                    tx.execute_batch(
                        "DELETE FROM clients; DELETE FROM scopes; DELETE FROM users; DELETE FROM resources;",
                    )?;
                }
                if let Some(key) = &new_key {
                    replace_keys(&tx, key)?;
                }
                tx.commit()?;
                Ok(counts)
            })
            .await?;
        self.tokens.clear();
        Ok(counts)
    }
}
