//! Each action at the endpoints it applies to: status, body and headers; connection behaviour
//! for drop and timeout with a real client; counts; log marks and events.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{add, admin, cc, events_of, json_of, logged, rule, server};

#[tokio::test]
async fn status_503_once_for_one_client_with_retry_after_a_log_mark_an_event_and_counters() {
    let s = server().await;
    add(
        &s,
        json!({"name": "token endpoint down", "endpoint": "token", "client_id": "svc", "action": "status", "status": 503, "times": 1}),
    )
    .await;
    // Another client is not matched.
    let (st, _, v) = json_of(cc(&s, "svc2").await).await;
    assert_eq!(st, 200, "{v}");
    let (st, h, body) = json_of(cc(&s, "svc").await).await;
    assert_eq!(st, 503);
    assert_eq!(h["retry-after"], "5");
    assert!(body.as_str().unwrap().starts_with("503 Service Unavailable"), "{body}");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    // Once: the next request is answered normally.
    let (st, _, v) = json_of(cc(&s, "svc").await).await;
    assert_eq!(st, 200, "{v}");
    let r = rule(&s, "token endpoint down").await;
    assert_eq!(
        (r["fired"].as_u64(), r["matched"].as_u64(), r["active"].as_bool()),
        (Some(1), Some(1), Some(false))
    );
    assert_eq!(r["summary"], "status 503");
    // The log marks the changed response (the newest /token entry is the normal one).
    let (_, page) = admin(&s, Method::GET, "/requests?limit=10", None).await;
    let marked: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("fault").is_some())
        .collect();
    assert_eq!(marked.len(), 1, "{page}");
    assert_eq!(marked[0]["status"], 503);
    assert_eq!(marked[0]["fault"]["rule"], "token endpoint down");
    assert_eq!(marked[0]["fault"]["change"], "status 503, Retry-After 5");
    let fired = events_of(&s, "fault.fired").await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0]["data"]["rule"], "token endpoint down");
    assert_eq!(fired[0]["data"]["endpoint"], "token");
    assert_eq!(fired[0]["data"]["fired"], 1);
}

#[tokio::test]
async fn status_with_a_json_body_429_and_custom_retry_after() {
    let s = server().await;
    add(
        &s,
        json!({"name": "slow down", "endpoint": "token", "action": "status", "status": 429, "retry_after": 30, "body": "{\"error\":\"rate_limited\"}"}),
    )
    .await;
    let (st, h, v) = json_of(cc(&s, "svc").await).await;
    assert_eq!((st, v["error"].as_str()), (429, Some("rate_limited")));
    assert_eq!(h["retry-after"], "30");
    assert_eq!(h["content-type"], "application/json");
}

#[tokio::test]
async fn error_at_the_token_endpoint_is_rfc6749_json_and_invalid_client_gets_a_basic_challenge() {
    let s = server().await;
    add(&s, json!({"name": "g", "endpoint": "token", "grant_type": "client_credentials", "action": "error", "error": "invalid_grant", "times": 1})).await;
    add(&s, json!({"name": "c", "endpoint": "token", "client_id": "svc2", "action": "error", "error": "invalid_client", "error_description": "secret rotated"})).await;
    let (st, h, v) = json_of(cc(&s, "svc").await).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_grant")), "{v}");
    assert_eq!(v["error_description"], "fault rule `g` made this request fail");
    assert!(h["cache-control"].to_str().unwrap().contains("no-store"));
    let (st, h, v) = json_of(cc(&s, "svc2").await).await;
    assert_eq!(
        (st, v["error"].as_str(), v["error_description"].as_str()),
        (401, Some("invalid_client"), Some("secret rotated"))
    );
    assert_eq!(h["www-authenticate"], "Basic realm=\"latchkey\"");
}

#[tokio::test]
async fn every_nth_and_n_times() {
    let s = server().await;
    add(
        &s,
        json!({"name": "flaky", "endpoint": "introspect", "action": "status", "status": 500, "every": 2, "times": 2}),
    )
    .await;
    let token = json_of(cc(&s, "svc").await).await.2["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = s
            .http
            .post(s.at("/introspect"))
            .basic_auth("svc", Some("svc-secret"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 500, 200, 500, 200, 200]);
    let r = rule(&s, "flaky").await;
    assert_eq!((r["fired"].as_u64(), r["active"].as_bool()), (Some(2), Some(false)));
    // Counters reset: it fires again.
    let (st, _) = admin(&s, Method::POST, "/faults/flaky/reset", None).await;
    assert_eq!(st, 200);
    assert_eq!(rule(&s, "flaky").await["active"], true);
}

#[tokio::test]
async fn delay_answers_late_with_the_normal_answer() {
    let s = server().await;
    add(
        &s,
        json!({"name": "slow jwks", "endpoint": "jwks", "action": "delay", "delay_ms": 400}),
    )
    .await;
    let t = Instant::now();
    let r = s.http.get(s.at("/jwks")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    assert_eq!(logged(&s, "/jwks").await["fault"]["change"], "answered 400 ms late");
}

/// Sends a raw HTTP/1.1 request and reads until the server closes: what came back and when.
async fn raw(s: &crate::common::TestServer, request: &str) -> (Vec<u8>, Duration) {
    let addr = s.url().trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let t = Instant::now();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got))
        .await
        .expect("closed within 10 s");
    (got, t.elapsed())
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer_and_the_log_says_so() {
    let s = server().await;
    add(
        &s,
        json!({"name": "gone", "endpoint": "discovery", "action": "drop", "times": 1}),
    )
    .await;
    let (got, _) = raw(
        &s,
        "GET /.well-known/openid-configuration HTTP/1.1\r\nhost: localhost\r\n\r\n",
    )
    .await;
    assert!(got.is_empty(), "got {}", String::from_utf8_lossy(&got));
    // reqwest sees a connection error, not a response.
    add(
        &s,
        json!({"name": "gone2", "endpoint": "token", "action": "drop", "times": 1}),
    )
    .await;
    let err = s
        .http
        .post(s.at("/token"))
        .basic_auth("svc", Some("svc-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err}");
    let e = logged(&s, "/.well-known/openid-configuration").await;
    assert_eq!(
        (e["status"].as_u64(), e["fault"]["change"].as_str()),
        (Some(444), Some("connection closed without an answer"))
    );
    // The server is fine afterwards.
    assert_eq!(
        s.http
            .get(s.at("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn timeout_stays_silent_for_the_time_then_closes() {
    let s = server().await;
    add(
        &s,
        json!({"name": "hang", "endpoint": "userinfo", "action": "timeout", "timeout_ms": 600}),
    )
    .await;
    let (got, took) = raw(&s, "GET /userinfo HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
    assert!(got.is_empty(), "got {}", String::from_utf8_lossy(&got));
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // A client with a shorter timeout gives up first.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.get(s.at("/userinfo")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn malformed_bodies() {
    let s = server().await;
    add(&s, json!({"name": "cut", "endpoint": "token", "client_id": "svc", "action": "malformed", "malformed": "truncated_json"})).await;
    add(
        &s,
        json!({"name": "portal", "endpoint": "token", "client_id": "svc2", "action": "malformed", "malformed": "html"}),
    )
    .await;
    add(
        &s,
        json!({"name": "ct", "endpoint": "discovery", "action": "malformed", "malformed": "wrong_content_type"}),
    )
    .await;
    let r = cc(&s, "svc").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert!(text.starts_with("{\"access_token\":"), "{text}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "still parses: {text}"
    );
    let r = cc(&s, "svc2").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("Bad Gateway"));
    let r = s
        .http
        .get(s.at("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(v["issuer"].is_string());
}

#[tokio::test]
async fn userinfo_and_resources_errors_carry_a_bearer_challenge_and_paths_glob() {
    let s = server().await;
    add(
        &s,
        json!({"name": "u", "endpoint": "userinfo", "action": "error", "error": "invalid_token"}),
    )
    .await;
    let r = s
        .http
        .get(s.at("/userinfo"))
        .bearer_auth("whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.starts_with("Bearer realm=\"latchkey\", error=\"invalid_token\""),
        "{challenge}"
    );
    add(
        &s,
        json!({"name": "r", "endpoint": "resources", "path": "books/admin/*", "action": "status", "status": 502}),
    )
    .await;
    let token = json_of(cc(&s, "svc").await).await.2["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Not matched: the simulator's own verdict (whatever it is), not the rule's 502.
    let ok = s
        .http
        .get(s.at("/resources/books/list"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_ne!(ok.status(), 502);
    assert!(logged(&s, "/resources/books/list").await.get("fault").is_none());
    let bad = s
        .http
        .get(s.at("/resources/books/admin/x"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 502);
}

#[tokio::test]
async fn jwks_faults_seen_by_a_verifier() {
    let s = server().await;
    // A rotation, so there is a previous key.
    let (st, v) = admin(&s, Method::POST, "/keys/rotate", Some(json!({}))).await;
    assert!(st == 200 || st == 201, "{v}");
    let (_, keys) = admin(&s, Method::GET, "/keys", None).await;
    let kids = |v: &serde_json::Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let full: serde_json::Value = s.http.get(s.at("/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(full["keys"].as_array().unwrap().len(), 2, "{keys}");
    let token = json_of(cc(&s, "svc").await).await.2["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let current = header["kid"].as_str().unwrap().to_string();
    let iat = crate::common::jwt_claims(&token)["iat"].as_i64().unwrap();
    crate::harness::verify(&full, &token, "", "svc", iat).expect("the real set verifies it");
    for (how, expect_current, n) in [
        ("empty", false, 0),
        ("key_missing", false, 1),
        ("previous_only", false, 1),
    ] {
        let (st, _) = admin(
            &s,
            Method::PUT,
            "/faults",
            Some(json!([{"name": how, "endpoint": "jwks", "action": "jwks", "jwks": how}])),
        )
        .await;
        assert_eq!(st, 200);
        let v: serde_json::Value = s.http.get(s.at("/jwks")).send().await.unwrap().json().await.unwrap();
        let k = kids(&v);
        assert_eq!(k.len(), n, "{how}: {v}");
        assert_eq!(k.contains(&current), expect_current, "{how}");
        // A verifier holding only what /jwks serves now cannot verify the current token.
        let err = crate::harness::verify(&v, &token, &s.at("/"), "svc", i64::MAX / 2).unwrap_err();
        assert!(err.contains("is not in /jwks"), "{how}: {err}");
    }
    let (st, _) = admin(
        &s,
        Method::PUT,
        "/faults",
        Some(json!([{"name": "down", "endpoint": "jwks", "action": "jwks", "jwks": "unavailable", "retry_after": 9}])),
    )
    .await;
    assert_eq!(st, 200);
    let r = s.http.get(s.at("/jwks")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()),
        (503, "9")
    );
    // Removed: the real set again.
    let (st, _) = admin(&s, Method::DELETE, "/faults/down", None).await;
    assert_eq!(st, 204);
    let v: serde_json::Value = s.http.get(s.at("/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(kids(&v).len(), 2);
}

#[tokio::test]
async fn admin_api_crud_enable_disable_and_validation() {
    let s = server().await;
    let (st, v) = admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "x", "endpoint": "token", "action": "status"})),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["fields"][0]["field"], "status", "{v}");
    let (st, v) = admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "x", "endpoint": "token", "action": "jwks", "jwks": "empty"})),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "x", "endpoint": "tokens", "action": "drop"})),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    add(
        &s,
        json!({"name": "x", "endpoint": "token", "action": "status", "status": 500}),
    )
    .await;
    let (st, _) = admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "x", "endpoint": "token", "action": "drop"})),
    )
    .await;
    assert_eq!(st, 409);
    let (st, v) = admin(&s, Method::POST, "/faults/x/disable", None).await;
    assert_eq!(
        (st, v["enabled"].as_bool(), v["active"].as_bool()),
        (200, Some(false), Some(false)),
        "{v}"
    );
    assert_eq!(cc(&s, "svc").await.status(), 200);
    admin(&s, Method::POST, "/faults/x/enable", None).await;
    assert_eq!(cc(&s, "svc").await.status(), 500);
    let (st, v) = admin(
        &s,
        Method::PUT,
        "/faults/x",
        Some(json!({"name": "y", "endpoint": "token", "action": "status", "status": 502})),
    )
    .await;
    assert_eq!(
        (st, v["name"].as_str(), v["fired"].as_u64()),
        (200, Some("y"), Some(0)),
        "{v}"
    );
    assert_eq!(cc(&s, "svc").await.status(), 502);
    let (_, list) = admin(&s, Method::GET, "/faults", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(admin(&s, Method::DELETE, "/faults/y", None).await.0, 204);
    assert_eq!(admin(&s, Method::DELETE, "/faults/y", None).await.0, 404);
    assert_eq!(cc(&s, "svc").await.status(), 200);
    let changed = events_of(&s, "faults.changed").await;
    assert!(changed.len() >= 5, "{changed:?}");
}

#[tokio::test]
async fn stats_count_calls_per_endpoint_client_and_user_and_reset() {
    let s = server().await;
    for _ in 0..3 {
        cc(&s, "svc").await;
    }
    cc(&s, "svc2").await;
    s.http.get(s.at("/jwks")).send().await.unwrap();
    let pw = s
        .http
        .post(s.at("/token"))
        .basic_auth("cli", Some("cli-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(pw.status(), 200);
    let (_, v) = admin(&s, Method::GET, "/stats", None).await;
    assert_eq!(v["all"]["endpoints"]["token"], 5, "{v}");
    assert_eq!(v["all"]["endpoints"]["jwks"], 1, "{v}");
    assert_eq!(v["clients"]["svc"]["endpoints"]["token"], 3, "{v}");
    assert_eq!(v["clients"]["svc2"]["total"], 1, "{v}");
    assert_eq!(v["users"]["alice"]["endpoints"]["token"], 1, "{v}");
    // The admin API itself is never counted.
    assert!(v["all"]["endpoints"].get("admin").is_none());
    let (_, v) = admin(&s, Method::POST, "/stats/reset", None).await;
    assert_eq!(v["all"]["total"], 0);
    cc(&s, "svc").await;
    let (_, v) = admin(&s, Method::POST, "/reset", None).await;
    assert!(v["tokens"].as_u64().is_some());
    let (_, v) = admin(&s, Method::GET, "/stats", None).await;
    assert_eq!(v["all"]["total"], 0, "{v}");
}

#[tokio::test]
async fn a_watched_endpoint_still_gets_its_body_untouched() {
    // Userinfo with the token in a POSTed form body (RFC 6750 §2.2) while a userinfo rule that
    // does not fire (every 1000th) is on: the handler sees the body.
    let s = server().await;
    add(
        &s,
        json!({"name": "rare", "endpoint": "userinfo", "action": "drop", "every": 1000}),
    )
    .await;
    let r = s
        .http
        .post(s.at("/token"))
        .basic_auth("cli", Some("cli-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
            ("scope", "openid profile"),
        ])
        .send()
        .await
        .unwrap();
    let token = json_of(r).await.2["access_token"].as_str().unwrap().to_string();
    let r = s
        .http
        .post(s.at("/userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let (st, _, v) = json_of(r).await;
    assert_eq!((st, v["name"].as_str()), (200, Some("Alice Liddell")), "{v}");
}

/// The device flow's endpoints are endpoints like the others: a rule at
/// `/device_authorization` answers for the matching client, an `error` rule is RFC 6749 §5.2
/// JSON there, and the verification page refuses an `error` rule (it is a page for people).
#[tokio::test]
async fn the_device_authorization_endpoint_and_the_verification_page_take_rules() {
    let s = server().await;
    add(
        &s,
        json!({"name": "device codes down", "endpoint": "device_authorization", "client_id": "svc", "action": "error", "error": "temporarily_unavailable", "times": 1}),
    )
    .await;
    let r = s
        .http
        .post(s.at("/device_authorization"))
        .basic_auth("svc", Some("svc-secret"))
        .form(&[("scope", "read_books")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "temporarily_unavailable", "{v}");
    assert_eq!(rule(&s, "device codes down").await["fired"], 1);

    let (st, v) = admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "page error", "endpoint": "device", "action": "error", "error": "access_denied"})),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("verification page"), "{v}");
    add(
        &s,
        json!({"name": "page down", "endpoint": "device", "action": "status", "status": 502}),
    )
    .await;
    let r = s.http.get(s.at("/device")).send().await.unwrap();
    assert_eq!(r.status(), 502);
}
