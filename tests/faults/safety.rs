//! No rule can make Latchkey unsafe: the admin API and the UI are never touched, an error is
//! only ever redirected to a redirect URI validated for the client, and no rule hands out a
//! token for another client.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::WEB_CB;
use crate::harness::{admin, cc, json_of, server};

/// Every action at every endpoint it applies to, matching everything, until removed.
fn everything() -> Vec<Value> {
    let endpoints = [
        "token",
        "authorize",
        "login",
        "consent",
        "userinfo",
        "introspect",
        "revoke",
        "jwks",
        "discovery",
        "end_session",
        "resources",
        "device_authorization",
        "device",
    ];
    let mut rules = Vec::new();
    for e in endpoints {
        let mut add = |suffix: &str, mut r: Value| {
            r["name"] = json!(format!("{e} {suffix}"));
            r["endpoint"] = json!(e);
            rules.push(r);
        };
        if e != "jwks" && e != "discovery" && e != "device" {
            add("error", json!({"action": "error", "error": "access_denied"}));
        }
        add("status", json!({"action": "status", "status": 500}));
        add("malformed", json!({"action": "malformed", "malformed": "html"}));
        add("drop", json!({"action": "drop"}));
        if e == "token" {
            add("tamper", json!({"action": "tamper", "tamper": "bad_signature"}));
        }
        if e == "jwks" {
            add("jwks", json!({"action": "jwks", "jwks": "empty"}));
        }
    }
    rules
}

#[tokio::test]
async fn with_every_rule_on_the_admin_api_and_the_ui_still_work() {
    let s = server().await;
    let (st, v) = admin(&s, Method::PUT, "/faults", Some(Value::Array(everything()))).await;
    assert_eq!(st, 200, "{v}");
    for path in [
        "/status",
        "/clients",
        "/faults",
        "/stats",
        "/requests",
        "/keys",
        "/openapi.json",
        "/config",
    ] {
        let (st, v) = admin(&s, Method::GET, path, None).await;
        assert_eq!(st, 200, "{path}: {v}");
    }
    for path in ["/admin", "/admin/", "/admin/clients", "/admin/faults"] {
        let r = s.http.get(s.at(path)).send().await.unwrap();
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{path}: {}",
            r.status()
        );
        assert!(r.extensions().get::<()>().is_none());
    }
    // And the protocol endpoints do fail: the first matching rule (the error) wins.
    let (st, _, v) = json_of(cc(&s, "svc").await).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("access_denied")));
    // The admin API turns them off again.
    let (st, _) = admin(&s, Method::PUT, "/faults", Some(json!([]))).await;
    assert_eq!(st, 200);
    assert_eq!(cc(&s, "svc").await.status(), 200);
}

#[tokio::test]
async fn an_error_is_never_redirected_to_an_unregistered_uri() {
    let s = server().await;
    admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "deny", "endpoint": "authorize", "action": "error", "error": "access_denied"})),
    )
    .await;
    let mut b = s.browser();
    for (client, uri) in [
        ("web", "https://evil.example/cb"),
        ("web", "http://localhost:3000/callback/../evil"),
        ("nobody", WEB_CB),
        ("web", "javascript:alert(1)"),
    ] {
        let page = b
            .authorize(&[
                ("client_id", client),
                ("redirect_uri", uri),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "x"),
            ])
            .await;
        assert!(
            page.location().is_none(),
            "{client} {uri}: redirected to {:?}",
            page.location()
        );
        assert!(!page.body.contains("evil.example\" method"), "{}", page.body);
        assert!(page.body.contains("access_denied"), "{}", page.body);
    }
    // Login and consent without a parked request of this browser: a page, no redirect.
    admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "deny login", "endpoint": "login", "action": "error", "error": "access_denied"})),
    )
    .await;
    let page = b
        .post(
            "/login",
            &[
                ("req", "made-up"),
                ("username", "alice"),
                ("password", "alice-password"),
            ],
        )
        .await;
    assert!(page.location().is_none(), "{page:?}");
    // Another browser's parked request is not used up or redirected either.
    let mut alice = s.browser();
    let admin_rules = admin(&s, Method::DELETE, "/faults/deny", None).await;
    assert_eq!(admin_rules.0, 204);
    let login = alice
        .authorize(&[
            ("client_id", "web"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "x"),
        ])
        .await;
    assert!(login.is_login(), "{login:?}");
    let mut mallory = s.browser();
    let page = mallory
        .post(
            "/login",
            &[
                ("req", &login.req()),
                ("username", "alice"),
                ("password", "alice-password"),
            ],
        )
        .await;
    assert!(page.location().is_none(), "{page:?}");
    admin(&s, Method::DELETE, "/faults/deny%20login", None).await;
    let done = alice.login(&login, "alice", "alice-password").await;
    assert!(done.redirect().contains("code="), "{done:?}");
}

#[tokio::test]
async fn no_rule_gives_a_client_another_clients_token() {
    let s = server().await;
    // Whatever the rules, svc2's response never carries a token issued to svc and vice versa.
    let (st, _) = admin(&s, Method::PUT, "/faults", Some(json!([
        {"name": "t1", "endpoint": "token", "client_id": "svc", "action": "tamper", "tamper": "removed_claim", "claim": "client_id"},
        {"name": "t2", "endpoint": "token", "client_id": "svc2", "action": "delay", "delay_ms": 1}
    ]))).await;
    assert_eq!(st, 200);
    let (a, b) = tokio::join!(cc(&s, "svc"), cc(&s, "svc2"));
    let (a, b) = (json_of(a).await.2, json_of(b).await.2);
    let claims = |t: &Value| crate::common::jwt_claims(t["access_token"].as_str().unwrap());
    assert!(claims(&a).get("client_id").is_none());
    assert_eq!(claims(&b)["client_id"], "svc2");
    assert_eq!(claims(&a)["aud"], "svc");
    assert_eq!(claims(&b)["aud"], "svc2");
}
