//! `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9) at the
//! token, introspection and revocation endpoints, with assertions signed by the `jsonwebtoken`
//! crate (tests/conformance signs them with PyJWT and Node's `jose` too).

use std::time::Duration;

use latchkey::model::SigningAlg;
use serde_json::{Value, json};

use crate::assertions::{
    TYPE, TestKey, client_claims, jti, jwks_server, real_now, rotating_jwks_server, sign_hs256, toml_config,
    unreachable_url, unsigned,
};
use crate::common::{Reply, TestServer, basic, spawn};

const HS_SECRET: &str = "a-long-shared-secret-for-hs256-0123456789";

struct Fixture {
    s: TestServer,
    rsa: TestKey,
    ec: TestKey,
}

async fn fixture_with(server: Value) -> Fixture {
    let rsa = TestKey::new(SigningAlg::RS256, "r1");
    let ec = TestKey::new(SigningAlg::ES256, "e1");
    let ec_uri = jwks_server(vec![ec.jwk.clone()], Duration::ZERO).await;
    let slow_uri = jwks_server(vec![ec.jwk.clone()], Duration::from_secs(8)).await;
    let gone_uri = unreachable_url().await;
    let pkj = |id: &str, alg: &str| {
        json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt",
               "token_endpoint_auth_signing_alg": alg, "grant_types": ["client_credentials"], "scopes": ["read"]})
    };
    let mut rsa_client = pkj("rsa-client", "RS256");
    rsa_client["jwks"] = json!({"keys": [rsa.jwk]});
    let mut ec_client = pkj("ec-client", "ES256");
    ec_client["jwks_uri"] = json!(ec_uri);
    let mut slow = pkj("slow-client", "ES256");
    slow["jwks_uri"] = json!(slow_uri);
    let mut gone = pkj("gone-client", "ES256");
    gone["jwks_uri"] = json!(gone_uri);
    let config = toml_config(json!({
        "server": server,
        "scopes": [{"name": "read"}],
        "clients": [
            rsa_client, ec_client, slow, gone,
            {"client_id": "hs-client", "client_secret": HS_SECRET, "token_endpoint_auth_method": "client_secret_jwt",
             "token_endpoint_auth_signing_alg": "HS256", "grant_types": ["client_credentials"], "scopes": ["read"]},
            {"client_id": "basic-client", "client_secret": "basic-secret", "grant_types": ["client_credentials"], "scopes": ["read"]},
        ],
    }));
    Fixture {
        s: spawn(&config).await,
        rsa,
        ec,
    }
}

async fn fixture() -> Fixture {
    fixture_with(json!({})).await
}

impl Fixture {
    /// An endpoint's URL as discovery names it (the issuer's, not the listener's address).
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.s.issuer().trim_end_matches('/'))
    }

    fn token_url(&self) -> String {
        self.url("/token")
    }

    /// A client-credentials request authenticated by `assertion` alone.
    async fn token_with(&self, assertion: &str) -> Reply {
        self.s
            .post_form(
                "/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", TYPE),
                    ("client_assertion", assertion),
                ],
            )
            .await
    }

    fn rsa_assertion(&self, aud: Value) -> String {
        self.rsa.sign_kid(&client_claims("rsa-client", aud))
    }
}

#[track_caller]
fn assert_refused(r: &Reply, needle: &str) {
    r.assert_error(401, "invalid_client");
    assert!(
        !r.header("www-authenticate").is_empty(),
        "a 401 carries a challenge: {r:?}"
    );
    let d = r.json["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(needle), "expected `{needle}` in `{d}`");
}

#[tokio::test]
async fn private_key_jwt_rs256_is_accepted_with_every_audience_form() {
    let f = fixture().await;
    let issuer = f.s.issuer().to_string();
    for aud in [
        json!(f.token_url()),
        json!(issuer),
        json!(["https://someone-else.example", f.token_url()]),
        json!([issuer]),
    ] {
        let r = f.token_with(&f.rsa_assertion(aud.clone())).await;
        assert_eq!(r.status, 200, "aud {aud}: {r:?}");
        assert_eq!(r.json["scope"], "read");
        // client_id in the form too, as some libraries send it.
        let r =
            f.s.post_form(
                "/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "rsa-client"),
                    ("client_assertion_type", TYPE),
                    ("client_assertion", &f.rsa_assertion(aud.clone())),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "aud {aud} with client_id: {r:?}");
    }
}

#[tokio::test]
async fn private_key_jwt_es256_through_a_jwks_uri_and_client_secret_jwt_hs256_are_accepted() {
    let f = fixture().await;
    let r = f
        .token_with(&f.ec.sign_kid(&client_claims("ec-client", json!(f.token_url()))))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // Without kid, the one key still verifies.
    let r = f
        .token_with(&f.ec.sign(&client_claims("ec-client", json!(f.token_url())), None))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = f
        .token_with(&sign_hs256(
            HS_SECRET,
            &client_claims("hs-client", json!([f.token_url()])),
        ))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn assertions_follow_real_time_while_the_virtual_clock_is_a_day_ahead() {
    let f = fixture().await;
    f.s.clock().advance(86_400);
    let r = f.token_with(&f.rsa_assertion(json!(f.token_url()))).await;
    assert_eq!(r.status, 200, "{r:?}");
    // The issued token follows the virtual clock.
    let exp = r.json["expires_in"].as_u64().unwrap();
    let intro = f.s.introspect_as("basic-client", "basic-secret", &r.token()).await;
    assert_eq!(intro.json["active"], true, "{intro:?}");
    assert!(intro.json["exp"].as_i64().unwrap() >= real_now() + 86_400 + exp as i64 - 5);
    f.s.clock().advance(-2 * 86_400);
    let r = f.token_with(&f.rsa_assertion(json!(f.token_url()))).await;
    assert_eq!(r.status, 200, "a day behind: {r:?}");
}

#[tokio::test]
async fn with_assertion_time_virtual_the_clock_shift_shows_as_expiry() {
    let f = fixture_with(json!({"assertion_time": "virtual"})).await;
    let r = f.token_with(&f.rsa_assertion(json!(f.token_url()))).await;
    assert_eq!(r.status, 200, "{r:?}");
    f.s.clock().advance(86_400);
    let r = f.token_with(&f.rsa_assertion(json!(f.token_url()))).await;
    assert_refused(&r, "virtual time");
    assert_refused(&r, "expired");
}

#[tokio::test]
async fn each_kind_of_bad_assertion_is_refused_with_its_reason() {
    let f = fixture().await;
    let aud = json!(f.token_url());
    let now = real_now();
    let other = TestKey::new(SigningAlg::RS256, "r1");
    let with = |patch: Value| {
        let mut c = client_claims("rsa-client", aud.clone());
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong key",
            other.sign(&with(json!({})), Some("r1")),
            "does not verify with key `r1`",
        ),
        (
            "expired",
            f.rsa.sign_kid(&with(json!({"iat": now - 600, "exp": now - 300}))),
            "expired",
        ),
        (
            "no exp",
            f.rsa.sign_kid(&with(json!({"exp": null}))),
            "`exp` is missing",
        ),
        (
            "too long",
            f.rsa.sign_kid(&with(json!({"exp": now + 86_400}))),
            "at most 600 s",
        ),
        (
            "not yet valid",
            f.rsa.sign_kid(&with(json!({"nbf": now + 300, "exp": now + 400}))),
            "`nbf`",
        ),
        (
            "wrong aud",
            f.rsa.sign_kid(&with(json!({"aud": "https://elsewhere.example/token"}))),
            "`aud` is",
        ),
        (
            "wrong aud array",
            f.rsa.sign_kid(&with(json!({"aud": ["a", "b"]}))),
            "`aud` is",
        ),
        (
            "no aud",
            f.rsa.sign_kid(&with(json!({"aud": null}))),
            "`aud` is missing",
        ),
        (
            "wrong iss",
            f.rsa.sign_kid(&with(json!({"iss": "someone"}))),
            "`iss` is `someone`",
        ),
        (
            "no jti",
            f.rsa.sign_kid(&with(json!({"jti": null}))),
            "`jti` is missing",
        ),
        (
            "unknown kid",
            f.rsa.sign(&with(json!({})), Some("nope")),
            "no key with kid `nope`",
        ),
        ("alg none", unsigned(&with(json!({}))), "alg: none"),
        ("not a JWT", "not-a-jwt".into(), "not a signed JWT"),
        (
            "HS256 for a private_key_jwt client",
            sign_hs256("x", &with(json!({}))),
            "registered for private_key_jwt",
        ),
    ];
    for (what, assertion, needle) in cases {
        let r = f.token_with(&assertion).await;
        assert_eq!(r.status, 401, "{what}: {r:?}");
        assert_refused(&r, needle);
    }
    // Wrong sub: the client is looked up by `sub`, so a `sub` that names another client is
    // refused by that client's checks; with client_id in the form, the mismatch is named.
    let r =
        f.s.post_form(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "rsa-client"),
                ("client_assertion_type", TYPE),
                ("client_assertion", &f.rsa.sign_kid(&with(json!({"sub": "ec-client"})))),
            ],
        )
        .await;
    assert_refused(&r, "`sub` is `ec-client`");
    let r = f.token_with(&f.rsa.sign_kid(&with(json!({"sub": "nobody"})))).await;
    assert_refused(&r, "unknown client `nobody`");
    let r = f.token_with(&f.rsa.sign_kid(&with(json!({"sub": "ec-client"})))).await;
    assert_refused(&r, "");
}

#[tokio::test]
async fn a_jti_is_single_use() {
    let f = fixture().await;
    let a = f.rsa_assertion(json!(f.token_url()));
    assert_eq!(f.token_with(&a).await.status, 200);
    assert_refused(&f.token_with(&a).await, "already used");
    // The same jti from another client is its own namespace.
    let mut c = client_claims("hs-client", json!(f.token_url()));
    let shared = jti();
    c["jti"] = json!(shared);
    assert_eq!(f.token_with(&sign_hs256(HS_SECRET, &c)).await.status, 200);
    let mut c = client_claims("rsa-client", json!(f.token_url()));
    c["jti"] = json!(shared);
    assert_eq!(f.token_with(&f.rsa.sign_kid(&c)).await.status, 200);
}

#[tokio::test]
async fn a_client_must_use_the_method_it_registered() {
    let f = fixture().await;
    // A secret-based client sending an assertion made with its secret.
    let r = f
        .token_with(&sign_hs256(
            "basic-secret",
            &client_claims("basic-client", json!(f.token_url())),
        ))
        .await;
    assert_refused(
        &r,
        "registered for client_secret_basic but authenticated with client_secret_jwt",
    );
    // A private_key_jwt client trying HTTP Basic: 401 with a Basic challenge (RFC 6749 §5.2).
    let r = f.s.token_basic("rsa-client", "guess", &[]).await;
    r.assert_error(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"), "{r:?}");
    assert!(
        r.json["error_description"]
            .as_str()
            .unwrap()
            .contains("private_key_jwt")
    );
    // A client_secret_jwt client signing with RS256 (its registered alg is HS256).
    let r = f
        .token_with(&f.rsa.sign_kid(&client_claims("hs-client", json!(f.token_url()))))
        .await;
    assert_refused(
        &r,
        "registered for client_secret_jwt but authenticated with private_key_jwt",
    );
    // Wrong assertion type, and mixed methods.
    let a = f.rsa_assertion(json!(f.token_url()));
    let r =
        f.s.post_form(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:example:saml"),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_refused(&r, "client_assertion_type `urn:example:saml` is not supported");
    let r =
        f.s.post_form(
            "/token",
            Some(&basic("basic-client", "basic-secret")),
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
    r.assert_error(400, "invalid_request");
    let r =
        f.s.post_form(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_assertion", &a)],
        )
        .await;
    r.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn introspection_and_revocation_accept_assertions_with_their_own_url_as_audience() {
    let f = fixture().await;
    let token = f.token_with(&f.rsa_assertion(json!(f.token_url()))).await.token();
    let intro_url = f.url("/introspect");
    let r =
        f.s.post_form(
            "/introspect",
            None,
            &[
                ("token", &token),
                ("client_assertion_type", TYPE),
                ("client_assertion", &f.rsa_assertion(json!(intro_url))),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["active"], true);
    // The revocation URL is not an audience of the introspection endpoint.
    let r =
        f.s.post_form(
            "/introspect",
            None,
            &[
                ("token", &token),
                ("client_assertion_type", TYPE),
                ("client_assertion", &f.rsa_assertion(json!(f.url("/revoke")))),
            ],
        )
        .await;
    assert_refused(&r, "`aud` is");
    let r =
        f.s.post_form(
            "/revoke",
            None,
            &[
                ("token", &token),
                ("client_assertion_type", TYPE),
                ("client_assertion", &f.rsa_assertion(json!(f.url("/revoke")))),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = f.s.introspect_as("basic-client", "basic-secret", &token).await;
    assert_eq!(r.json, json!({"active": false}));
}

#[tokio::test]
async fn a_slow_or_unreachable_jwks_uri_is_a_clear_invalid_client() {
    let f = fixture().await;
    let started = std::time::Instant::now();
    let r = f
        .token_with(&f.ec.sign_kid(&client_claims("slow-client", json!(f.token_url()))))
        .await;
    assert_refused(&r, "did not answer within 5 s");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "bounded by the fetch timeout"
    );
    let r = f
        .token_with(&f.ec.sign_kid(&client_claims("gone-client", json!(f.token_url()))))
        .await;
    assert_refused(&r, "could not be reached");
}

#[tokio::test]
async fn the_request_log_shows_the_assertion_and_the_skew() {
    let f = fixture().await;
    let mut c = client_claims("rsa-client", json!(f.token_url()));
    c["iat"] = json!(real_now() - 30);
    let r = f.token_with(&f.rsa.sign_kid(&c)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let entry = logged(&f.s, "/token", 0).await;
    assert_eq!(entry["client_id"], "rsa-client");
    let a = &entry["assertion"];
    assert_eq!(a["method"], "private_key_jwt", "{entry}");
    assert_eq!(a["time_basis"], "real");
    assert_eq!(a["accepted"], true);
    assert_eq!(a["key_source"], "jwks");
    let skew = a["skew_seconds"].as_i64().unwrap();
    assert!((-35..=-25).contains(&skew), "{a}");
    assert!(
        entry["curl"].as_str().unwrap().contains("${CLIENT_ASSERTION:?"),
        "{entry}"
    );
    let r = f
        .token_with(&f.rsa.sign(&client_claims("rsa-client", json!("x")), Some("r1")))
        .await;
    assert_eq!(r.status, 401);
    let entry = logged(&f.s, "/token", entry["id"].as_i64().unwrap()).await;
    assert_eq!(entry["assertion"]["accepted"], false);
    assert!(entry["assertion"]["refused"].as_str().unwrap().contains("`aud`"));
}

/// The newest request-log entry for `path` with an id above `after` (the log is written as
/// the response goes out).
async fn logged(s: &TestServer, path: &str, after: i64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let r = s.get("/admin/api/requests?limit=5").await;
        let items = r.json["items"].as_array().cloned().unwrap_or_default();
        if let Some(e) = items.iter().find(|e| e["path"] == path)
            && e["id"].as_i64().unwrap_or(0) > after
        {
            return e.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no log entry for {path}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn discovery_lists_the_methods_and_algorithms_for_each_endpoint() {
    let f = fixture().await;
    let d = f.s.get("/.well-known/openid-configuration").await.json;
    for ep in ["token", "introspection", "revocation"] {
        let methods = d[format!("{ep}_endpoint_auth_methods_supported")]
            .as_array()
            .unwrap()
            .clone();
        for m in [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "client_secret_jwt",
        ] {
            assert!(methods.contains(&json!(m)), "{ep}: {methods:?}");
        }
        let algs = d[format!("{ep}_endpoint_auth_signing_alg_values_supported")]
            .as_array()
            .unwrap()
            .clone();
        for a in ["RS256", "ES256", "PS256", "EdDSA", "HS256"] {
            assert!(algs.contains(&json!(a)), "{ep}: {algs:?}");
        }
        assert!(!algs.contains(&json!("none")));
    }
    assert!(
        d["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(crate::assertions::JWT_BEARER))
    );
}

#[tokio::test]
async fn jwt_client_fields_round_trip_through_the_admin_api_and_the_config_export() {
    let f = fixture().await;
    let c = f.s.get("/admin/api/clients/rsa-client").await.json;
    assert_eq!(c["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(c["token_endpoint_auth_signing_alg"], "RS256");
    assert_eq!(c["jwks"]["keys"][0], Value::Object(f.rsa.jwk.clone()));
    assert!(c.get("client_secret").is_none(), "{c}");
    // A client registered through the admin API with a pasted key, used at once.
    let key = TestKey::new(SigningAlg::ES256, "pasted");
    let body = json!({"client_id": "pasted", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.jwk]}, "grant_types": ["client_credentials"], "scopes": ["read"]});
    let r =
        f.s.http
            .post(f.s.at("/admin/api/clients"))
            .json(&body)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = f
        .token_with(&key.sign_kid(&client_claims("pasted", json!(f.token_url()))))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // A private key pasted by mistake is refused, naming the key.
    let mut private = key.jwk.clone();
    private.insert("d".into(), json!("c2VjcmV0"));
    let body = json!({"client_id": "oops", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [private]}, "grant_types": ["client_credentials"]});
    let r =
        f.s.http
            .post(f.s.at("/admin/api/clients"))
            .json(&body)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("jwks.keys[0]"));
    let text =
        f.s.http
            .get(f.s.at("/admin/api/config"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    let back = latchkey::config::parse_and_validate("export.toml", &text, &|_| true).expect("export re-imports");
    let rsa = back.clients.iter().find(|c| c.client_id == "rsa-client").unwrap();
    assert_eq!(rsa.jwks.as_ref().unwrap().keys[0], f.rsa.jwk);
    let ec = back.clients.iter().find(|c| c.client_id == "ec-client").unwrap();
    assert!(ec.jwks_uri.is_some());
    assert!(text.contains("assertion_time = \"real\""), "{text}");
}

#[tokio::test]
async fn a_rotated_key_at_the_jwks_uri_is_fetched_when_an_assertion_names_its_kid() {
    let old = TestKey::new(SigningAlg::ES256, "old");
    let new = TestKey::new(SigningAlg::RS256, "new");
    let (uri, keys, fetches) = rotating_jwks_server(vec![old.jwk.clone()]).await;
    let config = toml_config(json!({
        "scopes": [{"name": "read"}],
        "clients": [{"client_id": "rotating", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri,
                     "grant_types": ["client_credentials"], "scopes": ["read"]}],
    }));
    let s = spawn(&config).await;
    let token = format!("{}/token", s.issuer().trim_end_matches('/'));
    let post = |a: String| {
        let s = &s;
        async move {
            s.post_form(
                "/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", TYPE),
                    ("client_assertion", &a),
                ],
            )
            .await
        }
    };
    assert_eq!(
        post(old.sign_kid(&client_claims("rotating", json!(token))))
            .await
            .status,
        200
    );
    assert_eq!(
        post(old.sign_kid(&client_claims("rotating", json!(token))))
            .await
            .status,
        200
    );
    let count = || fetches.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(count(), 1, "the document is cached");
    // The app rotates to a new key: the first assertion naming it makes Latchkey fetch again
    // (once the 10 s cooldown since the last fetch has passed).
    *keys.lock().unwrap() = vec![new.jwk.clone()];
    let r = post(new.sign_kid(&client_claims("rotating", json!(token)))).await;
    assert_refused(&r, "no key with kid `new`");
    assert_eq!(count(), 1, "within the cooldown the cached document is used");
    tokio::time::sleep(Duration::from_millis(10_200)).await;
    let r = post(new.sign_kid(&client_claims("rotating", json!(token)))).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(count(), 2);
    // The old key is gone from the document now.
    assert_refused(
        &post(old.sign_kid(&client_claims("rotating", json!(token)))).await,
        "no key with kid `old`",
    );
}
