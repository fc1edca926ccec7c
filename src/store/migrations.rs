//! Versioned schema migrations, applied in order on open.
//!
//! `PRAGMA user_version` holds the number of migrations applied. A database written by an older
//! Latchkey is upgraded on start; one written by a newer Latchkey is refused rather than damaged.
//! Never edit a migration that has shipped: append a new one.

use tokio_rusqlite::rusqlite::{Connection, Transaction};

/// The migrations, oldest first. Index + 1 is the schema version it produces.
pub const MIGRATIONS: &[&str] = &[
    // v1: the protocol core.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE scopes (
        name        TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        claims      TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE clients (
        client_id  TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        sub           TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        claims        TEXT NOT NULL DEFAULT '{}',
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    CREATE TABLE resources (
        name            TEXT PRIMARY KEY,
        audience        TEXT NOT NULL,
        required_scopes TEXT NOT NULL DEFAULT '[]',
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE TABLE signing_keys (
        kid         TEXT PRIMARY KEY,
        alg         TEXT NOT NULL,
        private_der BLOB NOT NULL,
        public_jwk  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('active', 'retired')),
        created_at  INTEGER NOT NULL,
        retired_at  INTEGER,
        expires_at  INTEGER
    );
    CREATE TABLE tokens (
        id            TEXT PRIMARY KEY,
        hash          BLOB NOT NULL UNIQUE,
        kind          TEXT NOT NULL,
        format        TEXT NOT NULL,
        client_id     TEXT NOT NULL,
        subject       TEXT NOT NULL,
        username      TEXT,
        scope         TEXT NOT NULL,
        audience      TEXT NOT NULL,
        issued_at     INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active',
        status_at     INTEGER,
        status_reason TEXT,
        grant_type    TEXT NOT NULL,
        grant_id      TEXT,
        parent_id     TEXT,
        kid           TEXT,
        claims        TEXT NOT NULL,
        token         TEXT NOT NULL
    );
    CREATE INDEX tokens_by_issued ON tokens (issued_at);
    CREATE INDEX tokens_by_client ON tokens (client_id, issued_at);
    CREATE INDEX tokens_by_grant ON tokens (grant_id);
    "#,
    // v2: remembered consent decisions (OIDC flows).
    r#"
    CREATE TABLE consents (
        username   TEXT NOT NULL,
        client_id  TEXT NOT NULL,
        scopes     TEXT NOT NULL,
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (username, client_id)
    );
    "#,
    // v3: resources keep their whole definition as JSON (rules, validation, profile, the
    // simulated API's expectations, the proxy); the v1 columns stay for older rows.
    r#"
    ALTER TABLE resources ADD COLUMN data TEXT;
    "#,
    // v4: when a used-up code or refresh token was presented again (token lineage).
    r#"
    ALTER TABLE tokens ADD COLUMN replayed_at INTEGER;
    "#,
    // v5: a persona's sign-in settings as JSON (`auto_login`, `acr`, `amr`).
    r#"
    ALTER TABLE users ADD COLUMN login TEXT NOT NULL DEFAULT '{}';
    "#,
    // v6: fault rules (issue 15), each as JSON, in the order they are tried; scenarios.
    r#"
    CREATE TABLE faults (
        name       TEXT PRIMARY KEY,
        position   INTEGER NOT NULL,
        data       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE scenarios (
        name       TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    "#,
];

/// Errors while migrating.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer Latchkey.
    #[error(
        "the database has schema version {found}, newer than this Latchkey understands ({known}); upgrade Latchkey or use another --db"
    )]
    TooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] tokio_rusqlite::rusqlite::Error),
}

/// Applies every migration the database has not seen, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrationError> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(MigrationError::TooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        let tx: Transaction<'_> = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_fresh_database_and_is_idempotent() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len() as i64);
        let n: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'tokens'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(MigrationError::TooNew { found: 999, .. })
        ));
    }
}
