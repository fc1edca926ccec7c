//! Each profile against the same tokens: what it accepts and refuses, and the profile table.

use serde_json::{Value, json};

use crate::common::*;

const PROFILES: [&str; 6] = [
    "latchkey",
    "rfc9068",
    "lenient",
    "jose-node-5",
    "pyjwt-2",
    "jsonwebtoken-node-9",
];

/// Sets every profile's resource to `extra` and checks `token`: the decided_by of each profile
/// (`None`: accepted).
async fn outcomes(lk: &Lk, extra: Value, token: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for p in PROFILES {
        let mut body = json!({"name": format!("p-{p}"), "profile": p, "audience": "books-api"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        lk.resource(body).await;
        let r = lk.check(&format!("p-{p}"), token, "GET", "/books").await;
        assert_eq!(r.status, 200, "{r:?}");
        out.push((p.to_string(), r.json["decided_by"].as_str().map(str::to_string)));
    }
    out
}

fn expect(table: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    table
        .iter()
        .map(|(p, d)| (p.to_string(), d.map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn profiles_agree_and_differ_where_their_verifiers_do() {
    let lk = start().await;
    let good = lk.books_token().await;
    assert_eq!(
        outcomes(&lk, json!({"required_scopes": ["read_books"]}), &good).await,
        expect(&[
            ("latchkey", None),
            ("rfc9068", None),
            ("lenient", None),
            ("jose-node-5", None),
            ("pyjwt-2", None),
            ("jsonwebtoken-node-9", None)
        ])
    );

    // typ JWT: only the strict RFC 9068 profile refuses it.
    let legacy = lk.token("legacy-app", "legacy-secret", "read_books").await;
    assert_eq!(
        outcomes(&lk, json!({"required_scopes": ["read_books"]}), &legacy).await,
        expect(&[
            ("latchkey", None),
            ("rfc9068", Some("typ")),
            ("lenient", None),
            ("jose-node-5", None),
            ("pyjwt-2", None),
            ("jsonwebtoken-node-9", None)
        ])
    );

    // Expired 30 s ago by the API's clock: only the 60 s leeway of lenient lets it through.
    let short = lk
        .mint(json!({"client_id": "books-app", "scopes": ["read_books"], "ttl": 60}))
        .await;
    let short = short["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        outcomes(
            &lk,
            json!({"required_scopes": ["read_books"], "clock_offset": 90}),
            &short
        )
        .await,
        expect(&[
            ("latchkey", Some("exp")),
            ("rfc9068", Some("exp")),
            ("lenient", None),
            ("jose-node-5", Some("exp")),
            ("pyjwt-2", Some("exp")),
            ("jsonwebtoken-node-9", Some("exp"))
        ])
    );

    // Issued 10 min in the API's future: PyJWT and the RFC 9068 profiles refuse the iat.
    assert_eq!(
        outcomes(
            &lk,
            json!({"required_scopes": ["read_books"], "clock_offset": -600}),
            &good
        )
        .await,
        expect(&[
            ("latchkey", Some("iat")),
            ("rfc9068", Some("iat")),
            ("lenient", None),
            ("jose-node-5", None),
            ("pyjwt-2", Some("iat")),
            ("jsonwebtoken-node-9", None)
        ])
    );

    // Scopes under scp (Azure AD style): only lenient reads scp.
    let scp = lk
        .mint(json!({"client_id": "books-app", "scopes": [], "claims": {"scp": ["read_books"]}}))
        .await;
    let scp = scp["access_token"].as_str().unwrap().to_string();
    let out = outcomes(&lk, json!({"required_scopes": ["read_books"]}), &scp).await;
    assert_eq!(
        out,
        expect(&[
            ("latchkey", Some("scope")),
            ("rfc9068", Some("scope")),
            ("lenient", None),
            ("jose-node-5", Some("scope")),
            ("pyjwt-2", Some("scope")),
            ("jsonwebtoken-node-9", Some("scope"))
        ])
    );
    let r = lk.check("p-latchkey", &scp, "GET", "/").await;
    assert!(
        r.row("scope")["explanation"]
            .as_str()
            .unwrap()
            .contains("carries them in scp"),
        "{:#}",
        r.row("scope")
    );

    // An id_token whose aud the API accepts: the libraries take it (they do not tell kinds apart).
    let id_token = lk.password_grant().await["id_token"].as_str().unwrap().to_string();
    assert_eq!(
        outcomes(
            &lk,
            json!({"audience": ["books-api", "web-app"], "required_scopes": []}),
            &id_token
        )
        .await,
        expect(&[
            ("latchkey", Some("kind")),
            ("rfc9068", Some("kind")),
            ("lenient", None),
            ("jose-node-5", None),
            ("pyjwt-2", None),
            ("jsonwebtoken-node-9", None)
        ])
    );
    let r = lk.check("p-jose-node-5", &id_token, "GET", "/").await;
    assert_eq!(r.row("kind")["result"], "skipped");
    assert!(
        r.row("kind")["explanation"]
            .as_str()
            .unwrap()
            .contains("you sent an id_token")
    );
}

#[tokio::test]
async fn eddsa_tokens_are_refused_by_the_verifiers_that_cannot_take_them() {
    let lk = start().await;
    let r = lk.post("/keys/rotate", json!({"alg": "EdDSA"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let t = lk.books_token().await;
    assert_eq!(header(&t)["alg"], "EdDSA");
    assert_eq!(
        outcomes(&lk, json!({"required_scopes": ["read_books"]}), &t).await,
        expect(&[
            ("latchkey", None),
            ("rfc9068", None),
            ("lenient", None),
            ("jose-node-5", None),
            ("pyjwt-2", Some("alg")),
            ("jsonwebtoken-node-9", Some("alg"))
        ])
    );
    // Explicit algorithms override the profile.
    lk.resource(
        json!({"name": "p-pyjwt-2", "profile": "pyjwt-2", "audience": "books-api",
                       "algorithms": ["EdDSA"]}),
    )
    .await;
    assert_eq!(lk.check("p-pyjwt-2", &t, "GET", "/").await.json["allowed"], true);
}

#[tokio::test]
async fn the_profile_table_is_listed_with_checks_and_defaults() {
    let lk = start().await;
    let r = lk.get("/resource-profiles").await;
    assert_eq!(r.status, 200);
    let names: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, PROFILES);
    for p in r.json.as_array().unwrap() {
        assert!(!p["checks"].as_array().unwrap().is_empty());
        assert!(p["defaults"]["algorithms"].is_array());
        assert!(p["defaults"]["leeway"].is_u64());
    }
    let jose = &r.json[3];
    assert_eq!(jose["library"]["package"], "jose");
    assert_eq!(jose["library"]["version"], "5");
    assert_eq!(jose["defaults"]["jwks_refetch_cooldown"], 30);
    assert_eq!(jose["defaults"]["accepted_typ"], json!([]));
    let strict = &r.json[1];
    assert_eq!(
        strict["defaults"]["accepted_typ"],
        json!(["at+jwt", "application/at+jwt"])
    );
    assert_eq!(strict["defaults"]["typ_required"], true);
    // An unknown profile is refused with the names.
    let r = lk.post("/resources", json!({"name": "x", "profile": "spring-5"})).await;
    assert_eq!(r.status, 422);
    assert!(r.json["message"].as_str().unwrap().contains("rfc9068"));
}
