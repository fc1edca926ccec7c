//! Tampered tokens: rejected by an independent verifier for the reason the rule names, and
//! inactive at introspection (never recorded as issued).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{admin, cc, json_of, logged, server, verify};

async fn introspect(s: &crate::common::TestServer, token: &str) -> Value {
    s.http
        .post(s.at("/introspect"))
        .basic_auth("svc", Some("svc-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_tampering_is_caught_by_an_independent_verifier_and_introspects_inactive() {
    let s = server().await;
    let jwks: Value = s.http.get(s.at("/jwks")).send().await.unwrap().json().await.unwrap();
    let good = json_of(cc(&s, "svc").await).await.2["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let claims = crate::common::jwt_claims(&good);
    let (iss, now) = (
        claims["iss"].as_str().unwrap().to_string(),
        claims["iat"].as_i64().unwrap(),
    );
    assert!(verify(&jwks, &good, &iss, "svc", now).is_ok());
    assert_eq!(introspect(&s, &good).await["active"], true);
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("bad_signature", None, "bad signature"),
        ("unknown_kid", None, "is not in /jwks"),
        ("alg_none", None, "alg \"none\" refused"),
        ("wrong_iss", None, "iss \"https://not-latchkey.invalid/\""),
        ("wrong_aud", None, "does not include svc"),
        ("expired", None, "expired"),
        ("nbf_future", None, "nbf"),
        ("iat_future", None, "iat"),
    ];
    for (how, claim, why) in cases {
        let mut rule = json!({"name": how, "endpoint": "token", "client_id": "svc", "action": "tamper", "tamper": how, "times": 1});
        if let Some(c) = claim {
            rule["claim"] = json!(c);
        }
        let (st, v) = admin(&s, Method::PUT, "/faults", Some(json!([rule]))).await;
        assert_eq!(st, 200, "{v}");
        let (st, _, body) = json_of(cc(&s, "svc").await).await;
        assert_eq!(st, 200, "{how}: {body}");
        let token = body["access_token"].as_str().unwrap();
        let err = verify(&jwks, token, &iss, "svc", now).expect_err(how);
        assert!(err.contains(why), "{how}: {err}");
        assert_eq!(introspect(&s, token).await["active"], false, "{how}");
        let entry = logged(&s, "/token").await;
        assert_eq!(entry["fault"]["rule"], *how);
        assert!(
            entry["fault"]["change"]
                .as_str()
                .unwrap()
                .starts_with(&format!("access_token tampered ({how})")),
            "{entry}"
        );
    }
    // Claims: verified, but not what the client expects.
    for (how, claim, check) in [
        ("missing_scope", None, "scope"),
        ("extra_claim", Some("admin"), "admin"),
        ("removed_claim", Some("client_id"), "client_id"),
    ] {
        let mut rule = json!({"name": how, "endpoint": "token", "action": "tamper", "tamper": how, "times": 1});
        if let Some(c) = claim {
            rule["claim"] = json!(c);
        }
        admin(&s, Method::PUT, "/faults", Some(json!([rule]))).await;
        let body = json_of(cc(&s, "svc").await).await.2;
        let token = body["access_token"].as_str().unwrap();
        let c = verify(&jwks, token, &iss, "svc", now).expect(how);
        let present = c.get(check).is_some();
        assert_eq!(present, how == "extra_claim", "{how}: {c}");
        assert_eq!(introspect(&s, token).await["active"], false, "{how}");
    }
}

#[tokio::test]
async fn the_id_token_can_be_tampered_instead() {
    let s = server().await;
    admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "old id", "endpoint": "token", "grant_type": "password", "action": "tamper", "tamper": "expired", "token": "id_token"})),
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
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    let body = json_of(r).await.2;
    let jwks: Value = s.http.get(s.at("/jwks")).send().await.unwrap().json().await.unwrap();
    let at = crate::common::jwt_claims(body["access_token"].as_str().unwrap());
    let now = at["iat"].as_i64().unwrap();
    assert!(verify(&jwks, body["access_token"].as_str().unwrap(), "", "", now).is_ok());
    let err = verify(&jwks, body["id_token"].as_str().unwrap(), "", "cli", now).unwrap_err();
    assert_eq!(err, "expired");
}

#[tokio::test]
async fn an_opaque_token_is_left_alone_and_the_log_says_why() {
    let s = server().await;
    let (_, mut settings) = admin(&s, Method::GET, "/settings", None).await;
    settings["access_token_format"] = json!("opaque");
    let (st, v) = admin(&s, Method::PUT, "/settings", Some(settings)).await;
    assert_eq!(st, 200, "{v}");
    admin(
        &s,
        Method::POST,
        "/faults",
        Some(json!({"name": "t", "endpoint": "token", "action": "tamper", "tamper": "expired"})),
    )
    .await;
    let body = json_of(cc(&s, "svc").await).await.2;
    assert_eq!(
        introspect(&s, body["access_token"].as_str().unwrap()).await["active"],
        true
    );
    assert_eq!(
        logged(&s, "/token").await["fault"]["change"],
        "access_token is not a JWT (opaque): nothing changed"
    );
}
