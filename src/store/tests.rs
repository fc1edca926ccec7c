//! Store tests on real files: schema upgrades keep the data, WAL mode, file permissions.

use super::*;
use crate::ids;

/// Writes a database exactly as a v1 build left it (only the first migration), with a client,
/// a custom scope and a token in it.
fn write_v1_database(path: &Path) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(migrations::MIGRATIONS[0]).unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    let tx = c.transaction().unwrap();
    tx.execute(
        "INSERT INTO clients (client_id, data, created_at, updated_at) VALUES (?1, ?2, 10, 10)",
        params![
            "old-client",
            r#"{"client_id":"old-client","client_secret":"s3cret","grant_types":["client_credentials"],"scopes":["legacy"]}"#
        ],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO scopes (name, description, claims, created_at, updated_at) VALUES ('legacy', 'old', '[]', 10, 10)",
        [],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO tokens (id, hash, kind, format, client_id, subject, username, scope, audience, issued_at,
            expires_at, status, grant_type, claims, token)
         VALUES ('tok-1', ?1, 'access_token', 'opaque', 'old-client', 'old-client', NULL, 'legacy', '[\"old-client\"]',
            100, 3700, 'active', 'client_credentials', '{\"sub\":\"old-client\"}', 'the-old-token')",
        params![ids::token_hash("the-old-token")],
    )
    .unwrap();
    tx.commit().unwrap();
}

fn user_version(path: &Path) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_v1_database_with_data_upgrades_to_the_current_version_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    write_v1_database(&path);
    assert_eq!(user_version(&path), 1);

    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    let clients = store.list_clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, "old-client");
    assert_eq!(clients[0].client_secret.as_deref(), Some("s3cret"));
    assert_eq!(clients[0].scopes, vec!["legacy"]);
    let scopes = store.list_scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].description, "old");
    let tok = store
        .find_token_by_hash(ids::token_hash("the-old-token"))
        .await
        .unwrap()
        .expect("the v1 token survives the upgrade");
    assert_eq!(tok.id, "tok-1");
    assert_eq!(tok.kind, TokenKind::AccessToken);
    assert_eq!(tok.status, TokenStatus::Active);
    assert_eq!(tok.expires_at, 3700);
    assert_eq!(tok.audience, vec!["old-client"]);
    assert_eq!(tok.claims["sub"], "old-client");
    drop(store);

    let current = i64::try_from(migrations::MIGRATIONS.len()).unwrap();
    assert_eq!(user_version(&path), current);
    // The later migrations' tables exist.
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'consents'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(c);

    // Opening again is a no-op: same version, same data.
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    assert_eq!(store.list_clients().await.unwrap().len(), 1);
    assert_eq!(user_version(&path), current);
}

#[tokio::test]
async fn a_file_database_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    // Journal mode WAL is persistent: any other connection sees it.
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    drop(store);
}

#[tokio::test]
async fn a_v1_database_is_switched_to_wal_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1-journal.db");
    write_v1_database(&path);
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    drop(store);
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_created_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    assert!(!path.exists());
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    drop(store);
}

#[cfg(unix)]
#[tokio::test]
async fn an_existing_world_readable_file_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loose.db");
    write_v1_database(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    drop(store);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    write_v1_database(&path);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
    }
    let err = match Store::open(&DbLocation::File(path.clone())).await {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("999"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert_eq!(user_version(&path), 999);
}

#[cfg(unix)]
#[tokio::test]
async fn the_wal_and_shm_files_are_private_too() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("side.db");
    let store = Store::open(&DbLocation::File(path.clone())).await.unwrap();
    let scope = Scope {
        name: "s".into(),
        description: String::new(),
        claims: vec![],
        builtin: false,
    };
    store.upsert_scope(&scope, 1).await.unwrap();
    for suffix in ["-wal", "-shm"] {
        let side = dir.path().join(format!("side.db{suffix}"));
        let mode = std::fs::metadata(&side)
            .unwrap_or_else(|e| panic!("{}: {e}", side.display()))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{suffix}: mode {mode:o}");
    }
    drop(store);
}
