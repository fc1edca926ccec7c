//! `POST /admin/api/reset`: back to the config file's state between tests.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::*;
use crate::events::Reader;

/// Everything a reset restores, as the admin API shows it.
async fn registry(lk: &Lk) -> Value {
    let mut out = serde_json::Map::new();
    for path in ["/clients", "/scopes", "/users", "/resources", "/settings"] {
        let (s, v) = lk.get(path).await;
        assert_eq!(s, 200, "{path}: {v}");
        out.insert(path.to_string(), v);
    }
    Value::Object(out)
}

async fn kids(lk: &Lk) -> Vec<String> {
    let (s, keys) = lk.get("/keys").await;
    assert_eq!(s, 200);
    keys.as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn reset_restores_the_config_state_exactly() {
    let lk = start().await;
    let before = registry(&lk).await;
    let kids_before = kids(&lk).await;

    // A test's worth of changes: a token, a minted token, the clock, the registry.
    let (s, tok) = lk.client_credentials("read_books").await;
    assert_eq!(s, 200, "{tok}");
    let token = tok["access_token"].as_str().unwrap().to_string();
    let (s, minted) = lk
        .post("/tokens", json!({"client_id": "books-app", "username": "alice"}))
        .await;
    assert_eq!(s, 201, "{minted}");
    assert_eq!(lk.post("/clock", json!({"advance": 600})).await.0, 200);
    let (s, v) = lk
        .put(
            "/clients/books-app",
            json!({"client_id": "books-app", "client_secret": "changed-secret-0123456789",
                   "grant_types": ["client_credentials"], "scopes": ["read_books"]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = lk
        .post(
            "/clients",
            json!({"client_id": "added-by-test", "grant_types": ["client_credentials"],
                                  "client_secret": "another-secret-0123456789", "scopes": []}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(lk.delete("/users/alice").await, 204);
    assert_eq!(
        lk.post("/users", json!({"username": "bob", "password": "bob-password-123"}))
            .await
            .0,
        201
    );
    assert_eq!(lk.post("/scopes", json!({"name": "extra"})).await.0, 201);
    assert_eq!(lk.delete("/resources/books").await, 204);
    let (s, mut settings) = lk.get("/settings").await;
    assert_eq!(s, 200);
    settings["access_token_ttl"] = json!(42);
    assert_eq!(lk.put("/settings", settings).await.0, 200);
    assert_ne!(registry(&lk).await, before);

    let mut events = Reader::open(&lk, None).await;
    let r = lk.http.post(lk.api("/reset")).send().await.unwrap();
    let (s, summary) = body(r).await;
    assert_eq!(s, 200, "{summary}");
    assert_eq!(summary["tokens"], 2, "{summary}");
    assert_eq!(summary["keys"], false);
    assert!(summary["requests"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["elapsed_ms"].as_f64().unwrap() >= 0.0);
    let ev = events
        .next_of("server.reset", Duration::from_secs(5))
        .await
        .expect("a server.reset event");
    let env: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(env["data"]["keys"], false);

    // The registry is the file's again, byte for byte as the API shows it.
    assert_eq!(registry(&lk).await, before);
    // A token from before is unknown: inactive at introspection, gone from the list.
    assert_eq!(lk.introspect(&token).await, json!({"active": false}));
    let (_, list) = lk.get("/tokens").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    // Clock, request log back to zero; the keys kept.
    let (_, clock) = lk.get("/clock").await;
    assert_eq!(clock["offset"], 0, "{clock}");
    let (_, requests) = lk.get("/requests").await;
    assert_eq!(
        requests["items"].as_array().map(Vec::len),
        Some(1),
        "only the introspection since: {requests}"
    );
    assert_eq!(requests["items"][0]["id"], 1, "numbering restarts: {requests}");
    assert_eq!(kids(&lk).await, kids_before);
    // The file's client works with the file's secret again (the in-memory mirror is reloaded),
    // and the changed secret no longer does.
    let (s, tok) = lk.client_credentials("read_books add_books").await;
    assert_eq!(s, 200, "{tok}");
    let r = lk
        .http
        .post(format!("{}/token", lk.url))
        .basic_auth("books-app", Some("changed-secret-0123456789"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The resource the file names is served again (its audience is not this token's: 401, not
    // the 404 of an unknown resource).
    let r = lk
        .http
        .get(format!("{}/resources/books/x", lk.url))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn reset_keeps_the_keys_unless_asked() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let first = kids(&lk).await;
    assert_eq!(first.len(), 1);

    let r = lk.http.post(lk.api("/reset?keys=true")).send().await.unwrap();
    let (s, summary) = body(r).await;
    assert_eq!(s, 200, "{summary}");
    assert_eq!(summary["keys"], true);
    let second = kids(&lk).await;
    assert_eq!(second.len(), 1, "only the fresh key is left: {second:?}");
    assert_ne!(second, first);
    let jwks: Value = lk
        .http
        .get(format!("{}/jwks", lk.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], second[0].as_str());
    assert_eq!(
        lk.introspect(tok["access_token"].as_str().unwrap()).await["active"],
        false
    );
    // New tokens are signed with the new key.
    let (_, tok) = lk.client_credentials("read_books").await;
    let header = tok["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], second[0].as_str());

    // The same through the body.
    let (s, summary) = lk.post("/reset", json!({"keys": true})).await;
    assert_eq!(s, 200, "{summary}");
    assert_ne!(kids(&lk).await, second);
    // And a body that is not the request's shape is refused, naming the field.
    let (s, err) = lk.post("/reset", json!({"key": true})).await;
    assert_eq!(s, 422, "{err}");
    assert!(err.to_string().contains("key"), "{err}");
    let r = lk.http.post(lk.api("/reset?keys=maybe")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}
