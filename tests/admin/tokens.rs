//! Tokens: list, detail, introspection parity, revoke, mint, inspect.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn token_detail_matches_introspection_and_revocation_shows() {
    let lk = start().await;
    let (s, tok) = lk.client_credentials("read_books").await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().unwrap();

    let (s, page) = lk.get("/tokens?client_id=books-app").await;
    assert_eq!(s, 200, "{page}");
    let item = &page["items"][0];
    assert_eq!(item["state"], "active");
    assert!(item.get("token").is_none(), "the list does not carry token values");
    let id = item["id"].as_str().unwrap().to_string();

    let (s, d) = lk.get(&format!("/tokens/{id}")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["token"], access);
    assert_eq!(d["format"], "jwt");
    assert_eq!(d["header"]["typ"], "at+jwt");
    assert_eq!(d["payload"]["client_id"], "books-app");
    assert_eq!(d["signature"]["verified"], true, "{d}");
    assert_eq!(d["signature"]["alg"], "RS256");
    assert_eq!(d["status"]["state"], "active");
    assert!(d["status"]["expires_in"].as_i64().unwrap() > 3000);
    let reason = d["status"]["reason"].as_str().unwrap();
    assert!(
        reason == "valid for 1 h more" || (reason.starts_with("valid for 59 min ") && reason.ends_with(" s more")),
        "{reason}"
    );
    assert_eq!(
        d["introspection"],
        lk.introspect(access).await,
        "exactly what /introspect says"
    );

    let (s, r) = lk.post(&format!("/tokens/{id}/revoke"), json!({})).await;
    assert_eq!((s, r["revoked"].clone()), (200, json!([id.clone()])));
    let (_, d) = lk.get(&format!("/tokens/{id}")).await;
    assert_eq!(d["status"]["state"], "revoked");
    assert_eq!(d["status"]["reason"], "revoked by the admin");
    assert_eq!(d["introspection"], json!({"active": false}));
    assert_eq!(lk.introspect(access).await, json!({"active": false}));
    let (_, r) = lk.post(&format!("/tokens/{id}/revoke"), json!({})).await;
    assert_eq!(r["revoked"], json!([]), "revoking twice changes nothing");
    assert_eq!(lk.get("/tokens/nope").await.0, 404);
    assert_eq!(lk.post("/tokens/nope/revoke", json!({})).await.0, 404);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn tokens_filter_by_status_kind_and_user_and_paginate() {
    let lk = start().await;
    for _ in 0..3 {
        lk.client_credentials("read_books").await;
    }
    let (s, m) = lk
        .post(
            "/tokens",
            json!({"client_id": "books-app", "username": "alice", "ttl": 60}),
        )
        .await;
    assert_eq!(s, 201, "{m}");

    let (_, p1) = lk.get("/tokens?limit=2").await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(p1["items"][0]["id"], m["id"], "newest first");
    let cursor = p1["next_cursor"].as_i64().unwrap();
    let (_, p2) = lk.get(&format!("/tokens?limit=2&cursor={cursor}")).await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 2);
    assert!(p2["next_cursor"].is_null());

    let (_, by_user) = lk.get("/tokens?username=alice").await;
    assert_eq!(by_user["items"].as_array().unwrap().len(), 1);
    let (_, by_kind) = lk.get("/tokens?kind=refresh_token").await;
    assert_eq!(by_kind["items"].as_array().unwrap().len(), 0);

    lk.server.clock().advance(120);
    let (_, expired) = lk.get("/tokens?status=expired").await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1, "{expired}");
    assert_eq!(expired["items"][0]["state"], "expired");
    let (_, active) = lk.get("/tokens?status=active").await;
    assert_eq!(active["items"].as_array().unwrap().len(), 3);
    let (_, d) = lk.get(&format!("/tokens/{}", m["id"].as_str().unwrap())).await;
    assert_eq!(d["status"]["state"], "expired");
    assert_eq!(d["status"]["expires_in"], 0);
    assert_eq!(d["introspection"], json!({"active": false}));

    let (s, e) = lk.get("/tokens?status=sleeping").await;
    assert_eq!((s, field_names(&e)), (422, vec!["status".to_string()]));
    let (s, e) = lk.get("/tokens?kind=cookie").await;
    assert_eq!((s, field_names(&e)), (422, vec!["kind".to_string()]));
    let (s, _) = lk.get("/tokens?limit=0").await;
    assert_eq!(s, 422);
    let (s, e) = lk.get("/tokens?limit=lots").await;
    assert_eq!(s, 400, "{e}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn minting_checks_scopes_users_and_refuses_registered_claims() {
    let lk = start().await;
    // A claim Latchkey sets itself is refused, naming where it comes from (never dropped).
    let (s, e) = lk
        .post(
            "/tokens",
            json!({"client_id": "books-app", "claims": {"tenant": "acme", "iss": "https://evil.example",
                   "aud": "other-api", "scope": "admin"}}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        field_names(&e),
        vec![
            "claims.iss".to_string(),
            "claims.aud".to_string(),
            "claims.scope".to_string()
        ]
    );
    assert!(e.to_string().contains("the client's `audiences`"), "{e}");
    let (s, m) = lk
        .post(
            "/tokens",
            json!({"client_id": "books-app", "username": "alice", "scopes": ["read_books"], "ttl": 300,
                   "claims": {"tenant": "acme", "nbf": 1}}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(
        (m["expires_in"].as_u64(), m["scope"].as_str()),
        (Some(300), Some("read_books"))
    );
    let intro = lk.introspect(m["access_token"].as_str().unwrap()).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["tenant"], "acme");
    assert_eq!(intro["nbf"], 1);
    assert_eq!(intro["iss"], lk.server.issuer());
    assert_eq!(intro["username"], "alice");
    assert_eq!(intro["sub"].as_str().unwrap().len(), 36);

    let (s, e) = lk
        .post("/tokens", json!({"client_id": "books-app", "scopes": ["openid"]}))
        .await;
    assert_eq!((s, field_names(&e)), (422, vec!["scopes[0]".to_string()]), "{e}");
    let (s, e) = lk.post("/tokens", json!({"client_id": "nope"})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["client_id".to_string()]));
    let (s, e) = lk
        .post("/tokens", json!({"client_id": "books-app", "username": "zed"}))
        .await;
    assert_eq!((s, field_names(&e)), (422, vec!["username".to_string()]));
    let (s, e) = lk.post("/tokens", json!({"client_id": "books-app", "ttl": 0})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["ttl".to_string()]));
    let (s, e) = lk.post("/tokens", json!({"client_id": "books-app", "ttl": -5})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["ttl".to_string()]), "{e}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn inspect_explains_foreign_and_garbage_tokens() {
    let lk = start().await;
    // A JWT signed elsewhere (HS256, unknown kid).
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let foreign = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"someone-else","typ":"JWT"}"#),
        b64(r#"{"sub":"x","iss":"https://elsewhere.example"}"#),
        b64("sig")
    );
    let (s, d) = lk.post("/tokens/inspect", json!({"token": foreign})).await;
    assert_eq!(s, 200, "{d}");
    assert!(d["record"].is_null());
    assert_eq!(d["payload"]["iss"], "https://elsewhere.example");
    assert_eq!(d["signature"]["verified"], false);
    assert!(
        d["signature"]["reason"].as_str().unwrap().contains("unknown kid"),
        "{d}"
    );
    assert_eq!(d["introspection"], json!({"active": false}));

    let (s, e) = lk.post("/tokens/inspect", json!({"token": "hello world"})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["token".to_string()]));
    assert!(e["message"].as_str().unwrap().contains("neither a JWT"), "{e}");
    let (s, _) = lk.post("/tokens/inspect", json!({"token": ""})).await;
    assert_eq!(s, 422);

    // A tampered token of ours: found by nobody, signature fails.
    let (_, tok) = lk.client_credentials("read_books").await;
    let access = tok["access_token"].as_str().unwrap();
    let mut parts: Vec<&str> = access.split('.').collect();
    let payload = b64(r#"{"sub":"admin"}"#);
    parts[1] = &payload;
    let (_, d) = lk.post("/tokens/inspect", json!({"token": parts.join(".")})).await;
    assert_eq!(d["signature"]["verified"], false, "{d}");
    assert!(
        d["signature"]["reason"].as_str().unwrap().contains("does not verify"),
        "{d}"
    );
    lk.server.shutdown().await;
}

/// Rotating with a retention of 0 takes the old key out of the JWKS at once: its live tokens
/// are `key_retired` in the list, the detail and the status counts, exactly when /introspect
/// says inactive; the key stays listed as `unpublished`. The preview said so beforehand.
#[tokio::test]
async fn a_token_whose_key_left_the_jwks_is_key_retired_everywhere_introspection_agrees() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let access = tok["access_token"].as_str().unwrap().to_string();
    let (_, page) = lk.get("/tokens").await;
    let id = page["items"][0]["id"].as_str().unwrap().to_string();
    let old_kid = page["items"][0]["kid"].as_str().unwrap().to_string();

    // The preview: the token lives 3600 s; a retention of 0 leaves it unverifiable at once.
    let (s, pv) = lk.get("/keys/rotation-preview?retention=0").await;
    assert_eq!(s, 200, "{pv}");
    assert_eq!(pv["kid"], old_kid.as_str());
    assert_eq!(
        (pv["live_tokens"].as_i64(), pv["stop_verifying"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(pv["last_expiry"], page["items"][0]["expires_at"]);
    assert_eq!(pv["unpublished_at"], lk.get("/clock").await.1["now"]);
    let safe = pv["safe_retention"].as_i64().unwrap();
    assert!((3590..=3600).contains(&safe), "{pv}");
    let (_, pv) = lk.get(&format!("/keys/rotation-preview?retention={safe}")).await;
    assert_eq!(pv["stop_verifying"], 0, "the safe retention keeps every token: {pv}");
    let (s, e) = lk.get("/keys/rotation-preview?retention=999999999999").await;
    assert_eq!((s, field_names(&e)), (422, vec!["retention".to_string()]));
    let (s, _) = lk.get("/keys/rotation-preview?retention=soon").await;
    assert_eq!(s, 400, "not a number");
    // The default is the rotation's default (the longest token lifetime): nothing stops verifying.
    assert_eq!(lk.get("/keys/rotation-preview").await.1["stop_verifying"], 0);

    let (s, keys) = lk.post("/keys/rotate", json!({"retention": 0})).await;
    assert_eq!(s, 200, "{keys}");
    let old = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .unwrap();
    assert_eq!(old["status"], "unpublished", "{old}");
    assert_eq!(old["published"], false);
    assert!(old["expires_at"].as_i64().is_some(), "when it left the JWKS");
    assert_eq!(old["live_tokens"], 1);

    assert_eq!(lk.introspect(&access).await, json!({"active": false}));
    let (_, page) = lk.get("/tokens").await;
    assert_eq!(page["items"][0]["state"], "key_retired");
    let (_, d) = lk.get(&format!("/tokens/{id}")).await;
    assert_eq!(d["record"]["state"], "key_retired");
    assert_eq!(d["status"]["state"], "key_retired");
    assert!(d["status"]["reason"].as_str().unwrap().contains("left the JWKS"), "{d}");
    assert_eq!(d["signature"]["verified"], false);
    assert_eq!(d["introspection"], json!({"active": false}));
    let (_, only) = lk.get("/tokens?status=key_retired").await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let (_, active) = lk.get("/tokens?status=active").await;
    assert_eq!(active["items"], json!([]), "not active any more");
    let (_, st) = lk.get("/status").await;
    assert_eq!(st["counts"]["tokens"]["key_retired"], 1, "{st}");
    assert_eq!(st["counts"]["tokens"]["active"], 0, "{st}");

    // A token from the new key is active; the key list still shows the old one after a restart
    // of the key ring (another rotation reloads it from the store).
    let (_, fresh) = lk.client_credentials("read_books").await;
    assert_eq!(
        lk.introspect(fresh["access_token"].as_str().unwrap()).await["active"],
        true
    );
    let (_, active) = lk.get("/tokens?status=active").await;
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
    let (_, keys) = lk.post("/keys/rotate", json!({"retention": 0})).await;
    let statuses: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "unpublished", "unpublished"], "{keys}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn a_retired_key_expiring_by_the_clock_makes_its_tokens_key_retired() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let access = tok["access_token"].as_str().unwrap().to_string();
    let (s, _) = lk.post("/keys/rotate", json!({"retention": 60})).await;
    assert_eq!(s, 200);
    assert_eq!(lk.get("/tokens").await.1["items"][0]["state"], "active");
    let (s, _) = lk.post("/clock", json!({"advance": 61})).await;
    assert_eq!(s, 200);
    assert_eq!(lk.introspect(&access).await, json!({"active": false}));
    assert_eq!(lk.get("/tokens").await.1["items"][0]["state"], "key_retired");
    let (_, keys) = lk.get("/keys").await;
    let statuses: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "unpublished"], "{keys}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn tokens_filter_by_grant_and_refuse_an_unknown_status() {
    let lk = start().await;
    lk.client_credentials("read_books").await;
    let (_, page) = lk.get("/tokens?grant_id=nope").await;
    assert_eq!(page["items"], json!([]));
    let (s, e) = lk.get("/tokens?status=retired").await;
    assert_eq!((s, field_names(&e)), (422, vec!["status".to_string()]));
    assert!(e.to_string().contains("key_retired"), "{e}");
    lk.server.shutdown().await;
}
