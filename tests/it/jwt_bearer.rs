//! The JWT bearer grant (RFC 7523 §2.1, §3) with `[[trusted_issuers]]`: accepted assertions
//! and each refusal, as `invalid_grant` with a description naming the claim.

use std::time::Duration;

use latchkey::model::SigningAlg;
use serde_json::{Value, json};

use crate::assertions::{JWT_BEARER, TestKey, jti, jwks_server, real_now, toml_config, unsigned};
use crate::common::{Reply, TestServer, basic, spawn};

const IDP: &str = "https://idp.test";
const IDP2: &str = "http://127.0.0.1/idp-by-uri";

struct Fixture {
    s: TestServer,
    idp: TestKey,
    idp2: TestKey,
}

async fn fixture() -> Fixture {
    let idp = TestKey::new(SigningAlg::RS256, "idp-1");
    let idp2 = TestKey::new(SigningAlg::ES256, "idp2-1");
    let uri = jwks_server(vec![idp2.jwk.clone()], Duration::ZERO).await;
    let config = toml_config(json!({
        "scopes": [{"name": "read"}, {"name": "write"}],
        "clients": [
            {"client_id": "bearer-client", "client_secret": "bearer-secret", "grant_types": [JWT_BEARER], "scopes": ["read", "write"]},
            {"client_id": "cc-only", "client_secret": "cc-secret", "grant_types": ["client_credentials"], "scopes": ["read"]},
        ],
        "trusted_issuers": [
            {"issuer": IDP, "jwks": {"keys": [idp.jwk]}, "allowed_subjects": ["alice", "svc-1"], "audiences": ["urn:latchkey:test"]},
            {"issuer": IDP2, "jwks_uri": uri},
        ],
    }));
    Fixture {
        s: spawn(&config).await,
        idp,
        idp2,
    }
}

impl Fixture {
    fn claims(&self, patch: Value) -> Value {
        let now = real_now();
        let mut c = json!({"iss": IDP, "sub": "alice", "aud": format!("{}/token", self.s.issuer().trim_end_matches('/')), "iat": now, "exp": now + 300, "jti": jti()});
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    async fn grant(&self, assertion: &str, extra: &[(&str, &str)]) -> Reply {
        self.grant_as("bearer-client", "bearer-secret", assertion, extra).await
    }

    async fn grant_as(&self, id: &str, secret: &str, assertion: &str, extra: &[(&str, &str)]) -> Reply {
        let mut pairs = vec![("grant_type", JWT_BEARER), ("assertion", assertion)];
        pairs.extend_from_slice(extra);
        self.s.post_form("/token", Some(&basic(id, secret)), &pairs).await
    }
}

#[tokio::test]
async fn an_assertion_from_a_trusted_issuer_gets_a_token_for_its_subject() {
    let f = fixture().await;
    let r = f
        .grant(&f.idp.sign_kid(&f.claims(json!({}))), &[("scope", "read")])
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["scope"], "read");
    assert!(r.json.get("refresh_token").is_none());
    let intro = f.s.introspect_as("cc-only", "cc-secret", &r.token()).await;
    assert_eq!(intro.json["active"], true);
    assert_eq!(intro.json["sub"], "alice");
    assert_eq!(intro.json["client_id"], "bearer-client");
    // The issuer's extra audience, the issuer id as audience, an array, and keys by jwks_uri.
    for aud in [
        json!("urn:latchkey:test"),
        json!(f.s.issuer()),
        json!(["x", format!("{}/token", f.s.issuer().trim_end_matches('/'))]),
    ] {
        let r = f.grant(&f.idp.sign_kid(&f.claims(json!({"aud": aud}))), &[]).await;
        assert_eq!(r.status, 200, "aud {aud}: {r:?}");
    }
    let r = f
        .grant(
            &f.idp2
                .sign_kid(&f.claims(json!({"iss": IDP2, "sub": "anyone", "jti": null}))),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "jwks_uri, any subject, no jti: {r:?}");
    // While the virtual clock is a day ahead.
    f.s.clock().advance(86_400);
    let r = f.grant(&f.idp.sign_kid(&f.claims(json!({}))), &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn each_bad_assertion_is_invalid_grant_with_its_reason() {
    let f = fixture().await;
    let now = real_now();
    let stranger = TestKey::new(SigningAlg::RS256, "idp-1");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "untrusted iss",
            f.idp.sign_kid(&f.claims(json!({"iss": "https://evil.test"}))),
            "not a trusted issuer",
        ),
        (
            "no iss",
            f.idp.sign_kid(&f.claims(json!({"iss": null}))),
            "`iss` is missing",
        ),
        (
            "sub not allowed",
            f.idp.sign_kid(&f.claims(json!({"sub": "mallory"}))),
            "`sub` `mallory` is not among",
        ),
        (
            "no sub",
            f.idp.sign_kid(&f.claims(json!({"sub": null}))),
            "`sub` is missing",
        ),
        (
            "wrong aud",
            f.idp.sign_kid(&f.claims(json!({"aud": "https://other.test"}))),
            "`aud` is",
        ),
        (
            "expired",
            f.idp.sign_kid(&f.claims(json!({"iat": now - 900, "exp": now - 600}))),
            "expired",
        ),
        (
            "no exp",
            f.idp.sign_kid(&f.claims(json!({"exp": null}))),
            "`exp` is missing",
        ),
        (
            "too long",
            f.idp.sign_kid(&f.claims(json!({"exp": now + 7_200}))),
            "at most 3600 s",
        ),
        (
            "nbf ahead",
            f.idp.sign_kid(&f.claims(json!({"nbf": now + 600}))),
            "`nbf`",
        ),
        (
            "iat ahead",
            f.idp.sign_kid(&f.claims(json!({"iat": now + 600, "exp": now + 900}))),
            "`iat`",
        ),
        ("wrong key", stranger.sign_kid(&f.claims(json!({}))), "does not verify"),
        (
            "unknown kid",
            f.idp.sign(&f.claims(json!({})), Some("other")),
            "no key with kid `other`",
        ),
        ("alg none", unsigned(&f.claims(json!({}))), "alg: none"),
        ("garbage", "abc".into(), "not a signed JWT"),
    ];
    for (what, assertion, needle) in cases {
        let r = f.grant(&assertion, &[]).await;
        r.assert_error(400, "invalid_grant");
        let d = r.json["error_description"].as_str().unwrap();
        assert!(d.contains(needle), "{what}: expected `{needle}` in `{d}`");
    }
    let once = f.idp.sign_kid(&f.claims(json!({})));
    assert_eq!(f.grant(&once, &[]).await.status, 200);
    let r = f.grant(&once, &[]).await;
    r.assert_error(400, "invalid_grant");
    assert!(r.json["error_description"].as_str().unwrap().contains("already used"));
}

#[tokio::test]
async fn the_grant_needs_an_assertion_an_allowed_client_and_allowed_scopes() {
    let f = fixture().await;
    let r =
        f.s.post_form(
            "/token",
            Some(&basic("bearer-client", "bearer-secret")),
            &[("grant_type", JWT_BEARER)],
        )
        .await;
    r.assert_error(400, "invalid_request");
    let r = f
        .grant_as("cc-only", "cc-secret", &f.idp.sign_kid(&f.claims(json!({}))), &[])
        .await;
    r.assert_error(400, "unauthorized_client");
    let r = f
        .grant(&f.idp.sign_kid(&f.claims(json!({}))), &[("scope", "admin")])
        .await;
    r.assert_error(400, "invalid_scope");
    let r = f
        .grant_as("bearer-client", "wrong", &f.idp.sign_kid(&f.claims(json!({}))), &[])
        .await;
    r.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn trusted_issuers_round_trip_through_the_admin_api_and_the_config_export() {
    let f = fixture().await;
    let list = f.s.get("/admin/api/trusted-issuers").await;
    assert_eq!(list.json.as_array().unwrap().len(), 2, "{list:?}");
    let new = json!({"issuer": "https://new.test", "jwks": {"keys": [f.idp.jwk]}, "allowed_subjects": ["bob"]});
    let r =
        f.s.http
            .post(f.s.at("/admin/api/trusted-issuers"))
            .json(&new)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 201);
    let r =
        f.s.http
            .post(f.s.at("/admin/api/trusted-issuers"))
            .json(&new)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 409);
    let bad =
        json!({"issuer": "https://bad.test", "jwks": {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "d": "secret"}]}});
    let r =
        f.s.http
            .post(f.s.at("/admin/api/trusted-issuers"))
            .json(&bad)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("jwks.keys[0]"), "{body}");
    let path = format!("/admin/api/trusted-issuers/{}", urlencode("https://new.test"));
    let got = f.s.get(&path).await;
    assert_eq!(got.json["allowed_subjects"], json!(["bob"]));
    // The new issuer works at once.
    let r = f
        .grant(
            &f.idp
                .sign_kid(&f.claims(json!({"iss": "https://new.test", "sub": "bob"}))),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let text =
        f.s.http
            .get(f.s.at("/admin/api/config"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(text.contains("trusted_issuers"), "{text}");
    assert!(text.contains("https://new.test"), "{text}");
    // The export parses back to the same issuers (inline JWK Sets as TOML tables).
    let back = latchkey::config::parse_and_validate("export.toml", &text, &|_| true).expect("export re-imports");
    assert_eq!(back.trusted_issuers.len(), 3);
    assert_eq!(back.trusted_issuers[0].jwks.as_ref().unwrap().keys[0], f.idp.jwk);
    assert_eq!(
        back.trusted_issuers[1]
            .jwks_uri
            .as_deref()
            .map(|u| u.starts_with("http://127.0.0.1:")),
        Some(true)
    );
    let r = f.s.http.delete(f.s.at(&path)).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = f
        .grant(
            &f.idp
                .sign_kid(&f.claims(json!({"iss": "https://new.test", "sub": "bob"}))),
            &[],
        )
        .await;
    r.assert_error(400, "invalid_grant");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
