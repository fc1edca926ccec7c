//! Token lineage through the admin API: the `grant_id` filter returns a whole grant (code,
//! each refresh, the tokens issued from each), `parent_id` links each token to what it came
//! from, and a replayed code or refresh token is marked with `replayed_at` while its family
//! carries the revocation reason.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::*;

async fn admin(srv: &TestServer, path: &str) -> Value {
    let r = srv
        .http
        .get(srv.at(&format!("/admin/api{path}")))
        .send()
        .await
        .expect("GET admin");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("JSON")
}

async fn code_for_web(srv: &TestServer) -> String {
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid read_books"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    cb.q("code").to_string()
}

async fn exchange(srv: &TestServer, code: &str) -> Reply {
    srv.token(
        Some(("web", "web-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await
}

async fn refresh(srv: &TestServer, token: &str) -> Reply {
    srv.token(
        Some(("web", "web-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// The grant's tokens by id, and the id of the token whose value is `value`.
async fn grant(srv: &TestServer, grant_id: &str) -> HashMap<String, Value> {
    let page = admin(srv, &format!("/tokens?grant_id={grant_id}&limit=500")).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| (t["id"].as_str().expect("id").to_string(), t.clone()))
        .collect()
}

async fn id_of(srv: &TestServer, token: &str) -> String {
    let r = srv
        .http
        .post(srv.at("/admin/api/tokens/inspect"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .expect("inspect");
    let d: Value = r.json().await.expect("JSON");
    d["record"]["id"].as_str().expect("a recorded token").to_string()
}

#[tokio::test]
async fn a_grant_lists_its_code_refreshes_and_the_family_a_replayed_refresh_token_revoked() {
    let srv = spawn_default().await;
    let code = code_for_web(&srv).await;
    let first = exchange(&srv, &code).await;
    srv.clock().advance(5);
    let second = refresh(&srv, &first.ok("refresh_token")).await;
    srv.clock().advance(5);
    let third = refresh(&srv, &second.ok("refresh_token")).await;

    let code_id = id_of(&srv, &code).await;
    let rt1 = id_of(&srv, &first.ok("refresh_token")).await;
    let rt2 = id_of(&srv, &second.ok("refresh_token")).await;
    let rt3 = id_of(&srv, &third.ok("refresh_token")).await;
    let at1 = id_of(&srv, &first.ok("access_token")).await;
    let idt1 = id_of(&srv, &first.ok("id_token")).await;
    let at3 = id_of(&srv, &third.ok("access_token")).await;

    let tokens = grant(&srv, &code_id).await;
    // The code, then 3 × (access, id, refresh).
    assert_eq!(tokens.len(), 10, "{tokens:#?}");
    assert!(tokens.values().all(|t| t["grant_id"] == code_id.as_str()));
    assert_eq!(tokens[&code_id]["kind"], "authorization_code");
    assert_eq!(tokens[&code_id]["parent_id"], Value::Null);
    assert_eq!(tokens[&code_id]["state"], "consumed");
    for id in [&at1, &idt1, &rt1] {
        assert_eq!(tokens[id]["parent_id"], code_id.as_str(), "{}", tokens[id]);
    }
    assert_eq!(tokens[&rt2]["parent_id"], rt1.as_str());
    assert_eq!(tokens[&rt3]["parent_id"], rt2.as_str());
    assert_eq!(tokens[&at3]["parent_id"], rt2.as_str());
    assert_eq!(tokens[&rt1]["state"], "consumed");
    assert_eq!(tokens[&rt1]["status_reason"], "rotated");
    assert_eq!(tokens[&rt1]["replayed_at"], Value::Null);

    // Replaying the first refresh token revokes the family and marks the replayed token.
    srv.clock().advance(5);
    refresh(&srv, &first.ok("refresh_token"))
        .await
        .assert_error(400, "invalid_grant");
    let tokens = grant(&srv, &code_id).await;
    assert!(tokens[&rt1]["replayed_at"].as_i64().is_some(), "{}", tokens[&rt1]);
    assert_eq!(tokens[&rt1]["state"], "consumed", "a used-up token stays consumed");
    assert_eq!(
        tokens[&rt2]["replayed_at"],
        Value::Null,
        "only the token presented again"
    );
    for id in [&rt3, &at3] {
        assert_eq!(tokens[id]["state"], "revoked");
        assert_eq!(tokens[id]["status_reason"], "rotated refresh token reused");
        assert_eq!(tokens[id]["status_at"], tokens[&rt1]["replayed_at"]);
    }
    // Another grant is not listed.
    let other = exchange(&srv, &code_for_web(&srv).await).await;
    let other_id = id_of(&srv, &other.ok("access_token")).await;
    assert!(!grant(&srv, &code_id).await.contains_key(&other_id));
}

#[tokio::test]
async fn a_replayed_code_is_marked_and_the_tokens_issued_from_it_are_revoked_with_the_reason() {
    let srv = spawn_default().await;
    let code = code_for_web(&srv).await;
    let first = exchange(&srv, &code).await;
    let code_id = id_of(&srv, &code).await;
    exchange(&srv, &code).await.assert_error(400, "invalid_grant");
    let tokens = grant(&srv, &code_id).await;
    assert!(tokens[&code_id]["replayed_at"].as_i64().is_some());
    let at = id_of(&srv, &first.ok("access_token")).await;
    assert_eq!(tokens[&at]["state"], "revoked");
    assert_eq!(
        tokens[&at]["status_reason"],
        "authorization code replayed (RFC 6749 §4.1.2)"
    );
    // The first replay is kept.
    let at_replay = tokens[&code_id]["replayed_at"].clone();
    srv.clock().advance(3);
    exchange(&srv, &code).await.assert_error(400, "invalid_grant");
    assert_eq!(grant(&srv, &code_id).await[&code_id]["replayed_at"], at_replay);
}
