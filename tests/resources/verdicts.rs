//! One token per verdict row, each failing exactly that row: the status, the challenge byte for
//! byte and the verdict.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

fn challenge(lk: &Lk, resource: &str, error: &str, description: &str) -> String {
    format!(
        "Bearer realm=\"{resource}\", error=\"{error}\", error_description=\"{description}\", resource_metadata=\"{}\"",
        lk.metadata_url(resource)
    )
}

/// Asserts a refused call: status, exactly one failed row (`row`), the challenge equal to the
/// verdict's and starting as RFC 6750 says.
fn assert_refused(r: &Resp, status: u16, row: &str, error: &str) {
    assert_eq!(r.status, status, "{:#}", r.json);
    assert_eq!(failed(&r.json), vec![row.to_string()], "{:#}", r.json);
    assert_eq!(r.json["decided_by"], row);
    assert_eq!(r.json["allowed"], false);
    assert_eq!(r.json["error"], error);
    assert!(r.header("latchkey-verdict").unwrap().contains("/admin/api/resources/"));
    let www = r.header("www-authenticate").expect("a challenge");
    assert_eq!(Some(www), r.json["challenge"].as_str());
    assert!(
        www.starts_with("Bearer realm=\"") && www.contains(&format!("error=\"{error}\"")),
        "{www}"
    );
    assert!(
        r.row(row)["fix"].is_string(),
        "a failed row says how to fix it: {:#}",
        r.row(row)
    );
    assert!(www.is_ascii());
}

#[tokio::test]
async fn a_good_token_passes_every_row_and_links_its_verdict() {
    let lk = start().await;
    let t = lk.books_token().await;
    let r = lk.get_books("books", &t).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json,
        json!({"resource": "books", "method": "GET", "path": "/books", "sub": "books-app",
               "client_id": "books-app", "scope": "read_books"})
    );
    let link = r.header("latchkey-verdict").unwrap().to_string();
    assert!(
        link.starts_with(&format!("{}/admin/api/resources/books/calls/", lk.issuer())),
        "{link}"
    );
    let call = resp(lk.http.get(&link).send().await.unwrap()).await;
    assert_eq!(call.status, 200);
    let v = &call.json["verdict"];
    assert_eq!(v["allowed"], true);
    assert_eq!(v["status"], 200);
    assert!(v["challenge"].is_null());
    assert!(failed(v).is_empty(), "{v:#}");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "request",
            "format",
            "kind",
            "typ",
            "alg",
            "kid",
            "signature",
            "iss",
            "aud",
            "exp",
            "nbf",
            "iat",
            "scope",
            "active",
            "revocation",
            "dpop"
        ]
    );
    assert_eq!(verdict_row(v, "aud")["result"], "passed");
    // An unbound Bearer token: DPoP plays no part (RFC 9449 §7).
    assert_eq!(verdict_row(v, "dpop")["result"], "skipped");
    assert!(
        verdict_row(v, "kid")["explanation"]
            .as_str()
            .unwrap()
            .contains("first time")
    );
}

#[tokio::test]
async fn no_token_is_a_bare_challenge() {
    let lk = start().await;
    let r = lk.call(Method::GET, "books/books", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!(
            "Bearer realm=\"books\", resource_metadata=\"{}\"",
            lk.metadata_url("books")
        )
    );
    assert!(r.json["error"].is_null());
    assert_eq!(r.json["decided_by"], "request");
    assert_eq!(r.row("request")["result"], "failed");
    assert_eq!(r.row("format")["result"], "skipped");
    // Basic credentials are not a bearer token either.
    let r = resp(
        lk.http
            .get(format!("{}/resources/books/books", lk.url))
            .basic_auth("books-app", Some("books-secret"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.row("request")["explanation"].as_str().unwrap().contains("Basic"));
    assert!(!r.header("www-authenticate").unwrap().contains("error="));
}

#[tokio::test]
async fn a_wrong_audience_fails_aud() {
    let lk = start().await;
    let t = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk.get_books("books", &t).await;
    assert_refused(&r, 401, "aud", "invalid_token");
    assert_eq!(r.row("aud")["actual"], "other-app");
    assert_eq!(
        r.row("aud")["expected"],
        json!([format!("{}/resources/books", lk.issuer()), "books-api"])
    );
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        challenge(
            &lk,
            "books",
            "invalid_token",
            "aud other-app names none of the audiences this API accepts; tokens minted for another API (or an \
             id_token, whose aud is the client) end up here"
        )
    );
}

#[tokio::test]
async fn the_identifier_and_a_logical_audience_are_both_accepted() {
    let lk = start().await;
    let identifier = format!("{}/resources/books", lk.issuer());
    let r = lk
        .post(
            "/clients",
            json!({"client_id": "by-identifier", "client_secret": "s-123", "grant_types": ["client_credentials"],
                   "scopes": ["read_books"], "audiences": [identifier]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let t = lk.token("by-identifier", "s-123", "read_books").await;
    let r = lk.get_books("books", &t).await;
    assert_eq!(r.status, 200, "{r:?}");
    let t = lk.books_token().await;
    assert_eq!(lk.get_books("books", &t).await.status, 200);
}

#[tokio::test]
async fn expired_by_the_apis_clock_fails_exp() {
    let lk = start().await;
    // The API's clock runs 2 hours ahead of Latchkey's: a fresh 1-hour token is expired there.
    lk.resource(
        json!({"name": "ahead", "audience": "books-api", "required_scopes": ["read_books"],
                       "clock_offset": 7200}),
    )
    .await;
    let t = lk.books_token().await;
    let r = lk.get_books("ahead", &t).await;
    assert_refused(&r, 401, "exp", "invalid_token");
    let e = r.row("exp")["explanation"].as_str().unwrap();
    // 3600 s, or a second or two more when the real clock ticked between minting and the call.
    let ago: i64 = e
        .split("expired ")
        .nth(1)
        .and_then(|rest| rest.split(" s ago by the API's clock").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'expired N s ago by the API's clock' in {e}"));
    assert!((3600..=3602).contains(&ago), "{e}");
    // Latchkey itself still considers it active.
    assert_eq!(lk.get_books("books", &t).await.status, 200);
    // And Latchkey's own virtual clock moves the API's clock too.
    lk.advance(3601).await;
    let r = lk.get_books("books", &t).await;
    assert_refused(&r, 401, "exp", "invalid_token");
}

#[tokio::test]
async fn nbf_in_the_future_fails_nbf() {
    let lk = start().await;
    let now = lk.now().await;
    let m = lk
        .mint(json!({"client_id": "books-app", "scopes": ["read_books"], "claims": {"nbf": now + 3600}}))
        .await;
    let r = lk.get_books("books", m["access_token"].as_str().unwrap()).await;
    assert_refused(&r, 401, "nbf", "invalid_token");
    assert!(
        r.row("nbf")["explanation"]
            .as_str()
            .unwrap()
            .contains("s ahead of the API's clock")
    );
}

#[tokio::test]
async fn iat_in_the_future_of_a_slow_api_clock_fails_iat() {
    let lk = start().await;
    lk.resource(
        json!({"name": "behind", "audience": "books-api", "required_scopes": ["read_books"],
                       "clock_offset": -600}),
    )
    .await;
    let t = lk.books_token().await;
    let r = lk.get_books("behind", &t).await;
    assert_refused(&r, 401, "iat", "invalid_token");
    // With leeway covering the difference it passes.
    lk.resource(
        json!({"name": "behind", "audience": "books-api", "required_scopes": ["read_books"],
                       "clock_offset": -600, "leeway": 601}),
    )
    .await;
    assert_eq!(lk.get_books("behind", &t).await.status, 200);
}

#[tokio::test]
async fn an_issuer_with_a_trailing_slash_fails_iss_and_says_so() {
    let lk = start().await;
    let expected = format!("{}/", lk.issuer());
    lk.resource(
        json!({"name": "slash", "audience": "books-api", "required_scopes": ["read_books"],
                       "expected_issuer": expected}),
    )
    .await;
    let t = lk.books_token().await;
    let r = lk.get_books("slash", &t).await;
    assert_refused(&r, 401, "iss", "invalid_token");
    let row = r.row("iss");
    assert_eq!(row["expected"], expected);
    assert_eq!(row["actual"], lk.issuer());
    let e = row["explanation"].as_str().unwrap();
    assert!(e.contains("only by a trailing slash"), "{e}");
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        challenge(
            &lk,
            "slash",
            "invalid_token",
            &format!(
                "iss {} is not {expected}: they differ only by a trailing slash: the API expects one, the token's \
                 iss has none",
                lk.issuer()
            )
        )
    );
    // Another host is named as such.
    lk.resource(json!({"name": "slash", "audience": "books-api", "expected_issuer": "http://latchkey:8000"}))
        .await;
    let r = lk.get_books("slash", &t).await;
    assert!(
        r.row("iss")["explanation"]
            .as_str()
            .unwrap()
            .contains("the host (localhost vs latchkey"),
        "{:#}",
        r.row("iss")
    );
}

#[tokio::test]
async fn an_unknown_kid_after_rotation_fails_with_a_stale_cache_until_it_expires() {
    let lk = start().await;
    lk.resource(
        json!({"name": "old-verifier", "audience": "books-api", "required_scopes": ["read_books"],
                       "jwks_cache": 600, "jwks_refetch_on_unknown_kid": false}),
    )
    .await;
    let before = lk.books_token().await;
    assert_eq!(lk.get_books("old-verifier", &before).await.status, 200);
    assert_eq!(lk.get_books("books", &before).await.status, 200);
    let r = lk.post("/keys/rotate", json!({})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let after = lk.books_token().await;
    assert_ne!(header(&before)["kid"], header(&after)["kid"]);

    // The old verifier holds the JWKS it fetched: the new kid is unknown and it does not refetch.
    let r = lk.get_books("old-verifier", &after).await;
    assert_refused(&r, 401, "kid", "invalid_token");
    let e = r.row("kid")["explanation"].as_str().unwrap();
    assert!(e.starts_with("stale cache:") && e.contains("does not refetch"), "{e}");
    // The signature cannot be checked without a key.
    assert_eq!(r.row("signature")["result"], "skipped");

    // A current verifier refetches on an unknown kid, but not within 30 s of its last fetch.
    let r = lk.get_books("books", &after).await;
    assert_refused(&r, 401, "kid", "invalid_token");
    assert!(r.row("kid")["explanation"].as_str().unwrap().contains("cooldown 30 s"));
    lk.advance(31).await;
    let r = lk.get_books("books", &after).await;
    assert_eq!(r.status, 200, "{:#}", r.json);

    // Once the old verifier's cache expires (virtual clock), it fetches again and knows the key.
    lk.advance(600).await;
    let r = lk.get_books("old-verifier", &after).await;
    assert_eq!(r.status, 200, "{r:?}");
    let link = r.header("latchkey-verdict").unwrap().to_string();
    let v = resp(lk.http.get(&link).send().await.unwrap()).await.json;
    assert!(
        verdict_row(&v["verdict"], "kid")["explanation"]
            .as_str()
            .unwrap()
            .contains("had expired")
    );
}

#[tokio::test]
async fn alg_none_fails_alg() {
    let lk = start().await;
    let t = lk.books_token().await;
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let h = b.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let p = t.split('.').nth(1).unwrap();
    let forged = format!("{h}.{p}.");
    let r = lk.get_books("books", &forged).await;
    assert_refused(&r, 401, "alg", "invalid_token");
    assert!(r.row("alg")["explanation"].as_str().unwrap().contains("unsigned"));
    assert_eq!(r.row("signature")["result"], "skipped");
    // The claims are still read, marked unverified.
    assert!(
        r.row("aud")["explanation"]
            .as_str()
            .unwrap()
            .starts_with("(unverified payload)")
    );
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_fails_alg_and_names_the_client() {
    let lk = start().await;
    let t = lk.books_token().await;
    let claims = payload(&t);
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"books-secret"),
    )
    .unwrap();
    let r = lk.get_books("books", &forged).await;
    assert_refused(&r, 401, "alg", "invalid_token");
    let e = r.row("alg")["explanation"].as_str().unwrap();
    assert!(e.contains("client secret of `books-app`"), "{e}");
}

#[tokio::test]
async fn a_tampered_payload_fails_signature() {
    let lk = start().await;
    let t = lk.books_token().await;
    let forged = tamper(&t, |p| p["scope"] = json!("read_books add_books"));
    let r = lk.call(Method::POST, "books/books/1", Some(&forged)).await;
    assert_refused(&r, 401, "signature", "invalid_token");
    // The scope row, read from the unverified payload, would pass: the signature decides.
    assert_eq!(r.row("scope")["result"], "passed");
}

#[tokio::test]
async fn an_id_token_fails_kind_with_the_hint() {
    let lk = start().await;
    let g = lk.password_grant().await;
    let id_token = g["id_token"].as_str().unwrap();
    let r = lk.get_books("books", id_token).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["decided_by"], "kind");
    assert!(
        r.row("kind")["explanation"]
            .as_str()
            .unwrap()
            .starts_with("you sent an id_token")
    );
    assert_eq!(r.row("kind")["actual"], "id_token");
    // Its access token is fine.
    let at = g["access_token"].as_str().unwrap();
    let r = lk.get_books("books", at).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(r.json["sub"], payload(at)["sub"]);
}

#[tokio::test]
async fn a_missing_scope_per_rule_is_insufficient_scope() {
    let lk = start().await;
    let t = lk.books_token().await;
    assert_eq!(lk.get_books("books", &t).await.status, 200);
    let r = lk.call(Method::POST, "books/books/1", Some(&t)).await;
    assert_refused(&r, 403, "scope", "insufficient_scope");
    assert_eq!(r.json["required_scopes"], json!(["read_books", "add_books"]));
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!(
            "Bearer realm=\"books\", error=\"insufficient_scope\", error_description=\"scope: missing add_books in the \
             token's scope claim (it has: read_books)\", scope=\"read_books add_books\", resource_metadata=\"{}\"",
            lk.metadata_url("books")
        )
    );
    let both = lk.token("books-app", "books-secret", "read_books add_books").await;
    assert_eq!(lk.call(Method::POST, "books/books/1", Some(&both)).await.status, 200);
    // The rule's pattern: /books/** covers /books itself, not /authors.
    assert_eq!(lk.call(Method::POST, "books/books", Some(&t)).await.status, 403);
    assert_eq!(lk.call(Method::POST, "books/authors", Some(&t)).await.status, 200);
}

/// Rules see the path as the API's router would (issue 10 review): no spelling of a path slips
/// past a rule, and a path that cannot be judged is refused, never matched by no rule.
#[tokio::test]
async fn every_spelling_of_a_ruled_path_meets_the_rule() {
    let lk = start().await;
    let t = lk.books_token().await;
    for spelled in [
        "books/%62ooks/1",
        "books/books;x=1/1",
        "books/BOOKS/1",
        "books/Books/1",
        "%62ooks/books/1",
        "bo%6Fks/books/1",
    ] {
        let r = lk.call(Method::POST, spelled, Some(&t)).await;
        assert_refused(&r, 403, "scope", "insufficient_scope");
        assert_eq!(
            r.json["path"],
            format!("/{}", spelled.split_once('/').unwrap().1),
            "{spelled}"
        );
    }
    for unjudgeable in [
        "books/books%2F1",
        "books/books%5c1",
        &format!("books{}", "/a".repeat(65)),
    ] {
        let r = lk.call(Method::POST, unjudgeable, Some(&t)).await;
        assert_refused(&r, 400, "request", "invalid_request");
    }
}

/// A tab after `Bearer` is a malformed request, and the token never reaches the verdict.
#[tokio::test]
async fn a_tab_after_bearer_is_invalid_request_and_the_token_is_not_echoed() {
    let lk = start().await;
    let t = lk.books_token().await;
    let r = resp(
        reqwest::Client::new()
            .get(format!("{}/resources/books/books", lk.issuer()))
            .header("Authorization", format!("Bearer\t{t}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_refused(&r, 400, "request", "invalid_request");
    assert!(!r.json.to_string().contains(&t), "the token is echoed: {}", r.json);
    let r = resp(
        reqwest::Client::new()
            .get(format!("{}/resources/books/books", lk.issuer()))
            .header("Authorization", format!("Token{t}x {t}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(!r.json.to_string().contains(&t), "the token is echoed: {}", r.json);
}

#[tokio::test]
async fn typ_at_jwt_fails_an_api_that_only_knows_jwt_and_the_setting_fixes_it() {
    let lk = start().await;
    lk.resource(
        json!({"name": "spring5", "audience": "books-api", "required_scopes": ["read_books"],
                       "accepted_typ": ["JWT"]}),
    )
    .await;
    let t = lk.books_token().await;
    assert_eq!(header(&t)["typ"], "at+jwt");
    let r = lk.get_books("spring5", &t).await;
    assert_refused(&r, 401, "typ", "invalid_token");
    assert!(
        r.row("typ")["fix"]
            .as_str()
            .unwrap()
            .contains("access_token_typ = \"JWT\"")
    );
    // The per-client override...
    let legacy = lk.token("legacy-app", "legacy-secret", "read_books").await;
    assert_eq!(header(&legacy)["typ"], "JWT");
    assert_eq!(lk.get_books("spring5", &legacy).await.status, 200);
    // ...and the server setting.
    let mut s = lk.get("/settings").await.json;
    assert_eq!(s["access_token_typ"], "at+jwt");
    s["access_token_typ"] = json!("JWT");
    assert_eq!(lk.put("/settings", s).await.status, 200);
    let t = lk.books_token().await;
    assert_eq!(header(&t)["typ"], "JWT");
    assert_eq!(lk.get_books("spring5", &t).await.status, 200);
    // rfc9068 refuses JWT.
    lk.resource(json!({"name": "strict", "audience": "books-api", "profile": "rfc9068"}))
        .await;
    let r = lk.get_books("strict", &t).await;
    assert_refused(&r, 401, "typ", "invalid_token");
}

#[tokio::test]
async fn an_opaque_token_fails_format_in_jwt_mode_and_passes_introspection() {
    let lk = start().await;
    let t = lk.token("opaque-app", "opaque-secret", "read_books").await;
    let r = lk.get_books("books", &t).await;
    assert_refused(&r, 401, "format", "invalid_token");
    assert_eq!(r.row("format")["actual"], "opaque");
    assert_eq!(r.row("kind")["result"], "passed");
    let r = lk.get_books("books-introspect", &t).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(r.json["client_id"], "opaque-app");
}

#[tokio::test]
async fn a_revoked_token_fails_active_in_introspection_mode_and_is_noted_in_jwt_mode() {
    let lk = start().await;
    let t = lk.books_token().await;
    assert_eq!(lk.get_books("books-introspect", &t).await.status, 200);
    let id = payload(&t)["jti"].as_str().unwrap().to_string();
    let r = lk.post(&format!("/tokens/{id}/revoke"), json!({})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = lk.get_books("books-introspect", &t).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["decided_by"], "active");
    assert_eq!(failed(&r.json), vec!["active", "revocation"]);
    assert!(r.row("active")["explanation"].as_str().unwrap().contains("revoked"));
    assert_eq!(r.row("signature")["result"], "skipped");
    // A JWT-validating API cannot know: it accepts the token, and the verdict says why.
    let r = lk.get_books("books", &t).await;
    assert_eq!(r.status, 200);
    let link = r.header("latchkey-verdict").unwrap().to_string();
    let v = resp(lk.http.get(&link).send().await.unwrap()).await.json;
    let row = verdict_row(&v["verdict"], "revocation");
    assert_eq!(row["result"], "skipped");
    assert!(row["explanation"].as_str().unwrap().contains("cannot know"));
}

#[tokio::test]
async fn introspection_honours_require_scope_and_validate_audience() {
    let lk = start().await;
    let mut s = lk.get("/settings").await.json;
    s["introspection_require_scope"] = json!(true);
    s["introspection_validate_audience"] = json!(true);
    assert_eq!(lk.put("/settings", s).await.status, 200);
    // The introspector holds token_introspection and the books-api audience: django's model.
    let t = lk.books_token().await;
    assert_eq!(lk.get_books("books-introspect", &t).await.status, 200);
    // A token for another audience introspects inactive for this caller.
    let other = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk.get_books("books-introspect", &other).await;
    assert_eq!(r.json["decided_by"], "active");
    assert!(
        r.row("active")["explanation"]
            .as_str()
            .unwrap()
            .contains("validate_audience")
    );
    // Without an introspection client, require_scope refuses the API itself.
    lk.resource(json!({"name": "books-introspect", "audience": "books-api", "validation": "introspection"}))
        .await;
    let r = lk.get_books("books-introspect", &t).await;
    assert_eq!(r.json["decided_by"], "active");
    assert!(
        r.row("active")["fix"]
            .as_str()
            .unwrap()
            .contains("introspection_client")
    );
}

/// A token Latchkey knows is not an access token is named by the `kind` row (it decides), and a
/// string Latchkey never issued is not called "an opaque token" as if it might be one.
#[tokio::test]
async fn a_refresh_token_is_decided_by_kind_and_garbage_is_named_as_such() {
    let lk = start().await;
    let grant = lk.password_grant().await;
    if let Some(refresh) = grant["refresh_token"].as_str() {
        let r = lk.check("books", refresh, "GET", "/books").await;
        assert_eq!(r.json["decided_by"], "kind", "{:#}", r.json);
        assert_eq!(r.row("format")["result"], "skipped");
        assert!(
            r.row("kind")["explanation"].as_str().unwrap().contains("refresh"),
            "{:#}",
            r.json
        );
    } else {
        panic!("the test client gets no refresh token: {grant:#}");
    }
    let r = lk.check("books", "not-a-token-at-all", "GET", "/books").await;
    assert_eq!(r.json["decided_by"], "format");
    assert!(
        r.row("format")["explanation"]
            .as_str()
            .unwrap()
            .contains("not a token Latchkey issued"),
        "{:#}",
        r.json
    );
}
