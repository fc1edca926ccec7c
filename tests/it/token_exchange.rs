//! Token exchange (RFC 8693): impersonation, delegation with nested `act`, each error of
//! §2.2.2, per-client policy refusals, and the lineage of the issued token.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Reply, TestServer, basic, reply, spawn};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const RT: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const IDT: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

const CONFIG: &str = r#"
[[scopes]]
name = "read"

[[scopes]]
name = "write"

[[scopes]]
name = "admin"

[[resources]]
name = "orders"
audience = "orders-api"
required_scopes = ["read"]

# The app alice signs in to (password grant keeps the test short).
[[clients]]
client_id = "app"
client_secret = "app-secret"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "read", "write"]

# A service that exchanges what it receives (default policy).
[[clients]]
client_id = "gateway"
client_secret = "gateway-secret"
grant_types = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
audiences = ["gateway-api"]
scopes = ["read"]

# The second hop.
[[clients]]
client_id = "billing"
client_secret = "billing-secret"
grant_types = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
scopes = ["read"]

# A narrow policy: access tokens only, delegation only, one audience.
[[clients]]
client_id = "strict"
client_secret = "strict-secret"
grant_types = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
scopes = ["read"]
token_exchange = { subject_token_types = ["urn:ietf:params:oauth:token-type:access_token"], audiences = ["only-this-api"], allow_impersonation = false }

# A wide policy: may add its own scopes.
[[clients]]
client_id = "widener"
client_secret = "widener-secret"
grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]
scopes = ["read", "admin"]
token_exchange = { allow_scope_widening = true }

[[clients]]
client_id = "opaque-x"
client_secret = "opaque-secret"
access_token_format = "opaque"
grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]

[[users]]
username = "alice"
password = "alice-password"
"#;

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

/// alice's tokens from the app (access, refresh, id).
async fn alice(s: &TestServer) -> Value {
    let r = s
        .post_form(
            "/token",
            Some(&basic("app", "app-secret")),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid read write"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json
}

async fn cc(s: &TestServer, id: &str, secret: &str) -> String {
    s.token_basic(id, secret, &[]).await.token()
}

async fn exchange(s: &TestServer, id: &str, secret: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![("grant_type", EXCHANGE)];
    pairs.extend_from_slice(extra);
    s.post_form("/token", Some(&basic(id, secret)), &pairs).await
}

async fn token_record(s: &TestServer, jti: &str) -> Value {
    reply(
        s.http
            .get(s.at(&format!("/admin/api/tokens/{jti}")))
            .send()
            .await
            .expect("token"),
    )
    .await
    .json["record"]
        .clone()
}

#[tokio::test]
async fn impersonation_issues_a_narrower_token_for_another_audience_with_its_lineage() {
    let s = spawn(CONFIG).await;
    let t = alice(&s).await;
    let at = t["access_token"].as_str().unwrap();
    let r = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("audience", "orders-api"),
            ("scope", "read"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(r.json["issued_token_type"], AT);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["scope"], "read");
    assert!(r.json.get("refresh_token").is_none());
    let subject = claims(at);
    let new = claims(r.json["access_token"].as_str().unwrap());
    assert_eq!(new["sub"], subject["sub"], "impersonation: the same subject");
    assert_eq!(new["aud"], "orders-api");
    assert_eq!(new["client_id"], "gateway");
    assert!(new.get("act").is_none(), "no actor: {new}");
    assert!(
        new["exp"].as_i64() <= subject["exp"].as_i64(),
        "never outlives the subject token"
    );
    // Lineage: the exchanged token hangs under the subject token, in its grant.
    let rec = token_record(&s, new["jti"].as_str().unwrap()).await;
    assert_eq!(rec["grant_type"], EXCHANGE, "{rec}");
    assert_eq!(rec["parent_id"], subject["jti"]);
    let parent = token_record(&s, subject["jti"].as_str().unwrap()).await;
    assert_eq!(rec["grant_id"], parent["grant_id"]);
    // The resource accepts it.
    let call = s
        .http
        .get(s.at("/resources/orders/x"))
        .bearer_auth(r.json["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), StatusCode::OK);

    // Without audience/resource/scope: the subject's scopes, the client's own audience. The
    // resource identifier is a target too; refresh and id tokens are subjects too.
    let r = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[("subject_token", at), ("subject_token_type", JWT)],
    )
    .await;
    let c = claims(&r.token());
    assert_eq!(
        (c["aud"].clone(), c["scope"].clone()),
        (json!("gateway-api"), json!("openid read write"))
    );
    let orders = format!("{}/resources/orders", s.issuer());
    let r = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", t["refresh_token"].as_str().unwrap()),
            ("subject_token_type", RT),
            ("resource", &orders),
        ],
    )
    .await;
    assert_eq!(claims(&r.token())["aud"], json!(orders));
    let r = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", t["id_token"].as_str().unwrap()),
            ("subject_token_type", IDT),
            ("requested_token_type", JWT),
        ],
    )
    .await;
    assert_eq!(r.json["issued_token_type"], JWT, "{r:?}");
    assert_eq!(claims(&r.token())["sub"], subject["sub"]);
}

#[tokio::test]
async fn delegation_carries_the_actor_in_act_nested_for_each_hop() {
    let s = spawn(CONFIG).await;
    let t = alice(&s).await;
    let at = t["access_token"].as_str().unwrap();
    let gw = cc(&s, "gateway", "gateway-secret").await;
    let r = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("actor_token", &gw),
            ("actor_token_type", AT),
            ("audience", "orders-api"),
        ],
    )
    .await;
    let first = r.token();
    let c = claims(&first);
    assert_eq!(c["sub"], claims(at)["sub"]);
    assert_eq!(c["act"], json!({"sub": "gateway"}));

    // billing, handed that token, exchanges it acting as itself: the earlier actor is nested.
    let bill = cc(&s, "billing", "billing-secret").await;
    let r = exchange(
        &s,
        "billing",
        "billing-secret",
        &[
            ("subject_token", &first),
            ("subject_token_type", AT),
            ("actor_token", &bill),
            ("actor_token_type", JWT),
            ("audience", "orders-api"),
        ],
    )
    .await;
    let c = claims(&r.token());
    assert_eq!(c["act"], json!({"sub": "billing", "act": {"sub": "gateway"}}));
    // Introspection shows the act claim too.
    let i = s
        .introspect_as("billing", "billing-secret", r.json["access_token"].as_str().unwrap())
        .await;
    assert_eq!(i.json["active"], true, "{i:?}");
    assert_eq!(i.json["act"]["act"]["sub"], "gateway", "{i:?}");

    // may_act in the subject token limits who may act (RFC 8693 §4.4).
    let minted = reply(
        s.http
            .post(s.at("/admin/api/tokens"))
            .json(&json!({"client_id": "app", "username": "alice", "claims": {"may_act": {"sub": "billing"}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let limited = minted.json["access_token"].as_str().unwrap().to_string();
    exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", &limited),
            ("subject_token_type", AT),
            ("actor_token", &gw),
            ("actor_token_type", AT),
        ],
    )
    .await
    .assert_error(400, "invalid_request");
    exchange(
        &s,
        "billing",
        "billing-secret",
        &[
            ("subject_token", &limited),
            ("subject_token_type", AT),
            ("actor_token", &bill),
            ("actor_token_type", AT),
        ],
    )
    .await
    .token();
}

#[tokio::test]
async fn each_section_2_2_2_error_is_answered_with_its_code() {
    let s = spawn(CONFIG).await;
    let t = alice(&s).await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let gw = cc(&s, "gateway", "gateway-secret").await;
    let x = |extra: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            exchange(s, "gateway", "gateway-secret", &pairs).await
        }
    };
    let at_s = at.to_string();
    // invalid_request: missing, unknown, mistyped, inactive tokens; bad parameter pairs.
    x(vec![("subject_token_type", AT.into())])
        .await
        .assert_error(400, "invalid_request");
    x(vec![("subject_token", at_s.clone())])
        .await
        .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", "urn:example:saml".into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", "forged".into()),
        ("subject_token_type", AT.into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    let wrong = x(vec![("subject_token", rt.into()), ("subject_token_type", AT.into())]).await;
    wrong.assert_error(400, "invalid_request");
    assert!(
        wrong.json["error_description"]
            .as_str()
            .unwrap()
            .contains("refresh_token"),
        "{wrong:?}"
    );
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", gw.clone()),
    ])
    .await
    .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token_type", AT.into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", "nope".into()),
        ("actor_token_type", AT.into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("requested_token_type", IDT.into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("audience", "".into()),
    ])
    .await
    .assert_error(400, "invalid_request");
    // invalid_target: an audience or resource the client may not target, a malformed resource.
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("audience", "payroll-api".into()),
    ])
    .await
    .assert_error(400, "invalid_target");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("resource", "orders".into()),
    ])
    .await
    .assert_error(400, "invalid_target");
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("resource", "https://elsewhere.example/api".into()),
    ])
    .await
    .assert_error(400, "invalid_target");
    // invalid_scope: wider than the subject token.
    x(vec![
        ("subject_token", at_s.clone()),
        ("subject_token_type", AT.into()),
        ("scope", "read admin".into()),
    ])
    .await
    .assert_error(400, "invalid_scope");
    // unauthorized_client: the grant is not the client's.
    s.post_form(
        "/token",
        Some(&basic("app", "app-secret")),
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", at),
            ("subject_token_type", AT),
        ],
    )
    .await
    .assert_error(400, "unauthorized_client");
    // invalid_client: bad credentials (401).
    exchange(
        &s,
        "gateway",
        "wrong",
        &[("subject_token", at), ("subject_token_type", AT)],
    )
    .await
    .assert_error(401, "invalid_client");

    // Revoked and expired subject tokens are refused.
    let revoked = alice(&s).await;
    let r = s
        .post_form(
            "/revoke",
            Some(&basic("app", "app-secret")),
            &[("token", revoked["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let gone = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[
            ("subject_token", revoked["access_token"].as_str().unwrap()),
            ("subject_token_type", AT),
        ],
    )
    .await;
    gone.assert_error(400, "invalid_request");
    assert!(gone.json["error_description"].as_str().unwrap().contains("revoked"));
    let r = s
        .http
        .post(s.at("/admin/api/clock"))
        .json(&json!({"advance": 3601}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let late = exchange(
        &s,
        "gateway",
        "gateway-secret",
        &[("subject_token", at), ("subject_token_type", AT)],
    )
    .await;
    late.assert_error(400, "invalid_request");
    assert!(
        late.json["error_description"].as_str().unwrap().contains("expired"),
        "{late:?}"
    );
}

#[tokio::test]
async fn client_policies_narrow_and_widen_what_may_be_exchanged() {
    let s = spawn(CONFIG).await;
    let t = alice(&s).await;
    let at = t["access_token"].as_str().unwrap();
    let strict_actor = cc(&s, "strict", "strict-secret").await;
    // strict: impersonation refused, id tokens refused, only its one audience.
    exchange(
        &s,
        "strict",
        "strict-secret",
        &[("subject_token", at), ("subject_token_type", AT)],
    )
    .await
    .assert_error(400, "invalid_request");
    exchange(
        &s,
        "strict",
        "strict-secret",
        &[
            ("subject_token", t["id_token"].as_str().unwrap()),
            ("subject_token_type", IDT),
            ("actor_token", &strict_actor),
            ("actor_token_type", AT),
        ],
    )
    .await
    .assert_error(400, "invalid_request");
    let delegated = [
        ("subject_token", at),
        ("subject_token_type", AT),
        ("actor_token", strict_actor.as_str()),
        ("actor_token_type", AT),
    ];
    let mut orders = delegated.to_vec();
    orders.push(("audience", "orders-api"));
    exchange(&s, "strict", "strict-secret", &orders)
        .await
        .assert_error(400, "invalid_target");
    let mut only = delegated.to_vec();
    only.push(("audience", "only-this-api"));
    let r = exchange(&s, "strict", "strict-secret", &only).await;
    assert_eq!(claims(&r.token())["aud"], "only-this-api");

    // widener: may add its own scopes beyond the subject's, but no others.
    let r = exchange(
        &s,
        "widener",
        "widener-secret",
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("scope", "read admin"),
        ],
    )
    .await;
    assert_eq!(claims(&r.token())["scope"], "read admin");
    exchange(
        &s,
        "widener",
        "widener-secret",
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("scope", "read ghost"),
        ],
    )
    .await
    .assert_error(400, "invalid_scope");

    // A client with opaque tokens cannot be asked for a JWT.
    exchange(
        &s,
        "opaque-x",
        "opaque-secret",
        &[
            ("subject_token", at),
            ("subject_token_type", AT),
            ("requested_token_type", JWT),
        ],
    )
    .await
    .assert_error(400, "invalid_request");
    let r = exchange(
        &s,
        "opaque-x",
        "opaque-secret",
        &[("subject_token", at), ("subject_token_type", AT)],
    )
    .await;
    assert_eq!(r.json["issued_token_type"], AT);
    assert_eq!(r.token().split('.').count(), 1, "opaque");
}

#[tokio::test]
async fn the_policy_round_trips_through_the_admin_api_and_config_and_is_validated() {
    let s = spawn(CONFIG).await;
    let c = s.get("/admin/api/clients/strict").await.json;
    assert_eq!(
        c["token_exchange"],
        json!({"subject_token_types": [AT], "audiences": ["only-this-api"], "allow_impersonation": false})
    );
    assert!(c["grant_types"].as_array().unwrap().contains(&json!(EXCHANGE)));
    let put = |body: Value| {
        let s = &s;
        async move {
            reply(
                s.http
                    .put(s.at(&format!("/admin/api/clients/{}", body["client_id"].as_str().unwrap())))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let mut changed = c.clone();
    changed["token_exchange"]["allow_scope_widening"] = json!(true);
    let r = put(changed.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(s.get("/admin/api/clients/strict").await.json, changed);
    // An unknown token type and a policy without the grant are field errors.
    let mut bad = c.clone();
    bad["token_exchange"]["subject_token_types"] = json!(["urn:example:saml"]);
    let r = put(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(
        r.json.to_string().contains("token_exchange.subject_token_types[0]"),
        "{r:?}"
    );
    let create = |body: Value| {
        let s = &s;
        async move {
            reply(
                s.http
                    .post(s.at("/admin/api/clients"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let mut public = json!({"client_id": "pub", "token_endpoint_auth_method": "none", "grant_types": [EXCHANGE]});
    let r = create(public.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "public clients cannot exchange: {r:?}"
    );
    public["grant_types"] = json!(["urn:ietf:params:oauth:grant-type:device_code"]);
    let r = create(public).await;
    assert!(r.status.is_success(), "public device clients are fine: {r:?}");
    // The config export writes the URNs and the policy back.
    let export = s
        .http
        .get(s.at("/admin/api/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        export.contains(EXCHANGE) && export.contains("allow_scope_widening = true"),
        "{export}"
    );
    assert!(
        export.contains("urn:ietf:params:oauth:grant-type:device_code"),
        "{export}"
    );
}
