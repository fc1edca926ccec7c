//! RFC 6750 request forms (§2), malformed requests (400), CORS, RFC 9728 metadata under a path
//! issuer, and the request log's verdict.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn malformed_requests_are_invalid_request() {
    let lk = start().await;
    let t = lk.books_token().await;
    let url = format!("{}/resources/books/books", lk.url);
    // The token in the header and in a form body of a POST: both places are read, so two.
    let r = resp(
        lk.http
            .post(format!("{}/resources/books/authors", lk.url))
            .bearer_auth(&t)
            .form(&[("access_token", t.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400, "{:#}", r.json);
    assert_eq!(r.json["error"], "invalid_request");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_request\"")
    );
    assert!(
        r.row("request")["explanation"]
            .as_str()
            .unwrap()
            .contains("more than one place (header and body)")
    );
    // Two Authorization headers.
    let r = resp(
        lk.http
            .get(&url)
            .header("authorization", format!("Bearer {t}"))
            .header("authorization", format!("Bearer {t}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    // Characters a b64token cannot have, and an empty Bearer.
    for bad in ["Bearer \"quoted\"", "Bearer a b", "Bearer "] {
        let r = resp(lk.http.get(&url).header("authorization", bad).send().await.unwrap()).await;
        assert_eq!(r.status, 400, "{bad}: {:#}", r.json);
        assert_eq!(r.json["error"], "invalid_request");
        // The JSON keeps the explanation as written (§ and all); the header folds it to the
        // characters RFC 6750 §3 allows.
        let d = r.json["error_description"].as_str().unwrap();
        if bad != "Bearer " {
            assert!(d.contains("RFC 6750 §2.1"), "{d}");
        }
        assert!(r.header("www-authenticate").unwrap().is_ascii());
    }
    // A form body on GET (RFC 6750 §2.2 forbids it).
    let r = resp(
        lk.http
            .get(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("access_token={t}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn body_tokens_are_read_on_post_and_query_tokens_only_when_allowed() {
    let lk = start().await;
    let t = lk.books_token().await;
    let r = resp(
        lk.http
            .post(format!("{}/resources/books/authors", lk.url))
            .form(&[("access_token", t.as_str()), ("name", "Carroll")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    // A query token beside the header is invisible to an API that does not read the query:
    // the call passes and the request row says the query was ignored.
    let r = query_call(&lk, "whatever", Some(&t)).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    let link = r.header("latchkey-verdict").unwrap().to_string();
    let call = resp(lk.http.get(&link).send().await.unwrap()).await;
    let request = verdict_row(&call.json["verdict"], "request");
    assert_eq!(request["result"], "passed", "{:#}", call.json);
    assert!(
        request["explanation"]
            .as_str()
            .unwrap()
            .contains("the access_token in the query was ignored"),
        "{request:#}"
    );
    // The query (§2.3, SHOULD NOT): not read by default...
    let r = query_call(&lk, t.as_str(), None).await;
    assert_eq!(r.status, 401);
    assert!(r.json["error"].is_null());
    assert!(
        r.row("request")["explanation"]
            .as_str()
            .unwrap()
            .contains("query string")
    );
    // ...read by the lenient profile, or when bearer_methods lists it.
    lk.resource(
        json!({"name": "books", "audience": "books-api", "required_scopes": ["read_books"],
                       "bearer_methods": ["header", "query"]}),
    )
    .await;
    let r = query_call(&lk, t.as_str(), None).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    // Now the query is read, the header and the query are two places.
    let r = query_call(&lk, t.as_str(), Some(&t)).await;
    assert_eq!(r.status, 400, "{:#}", r.json);
    assert!(
        r.row("request")["explanation"]
            .as_str()
            .unwrap()
            .contains("more than one place (header and query)")
    );
    let meta = resp(lk.http.get(lk.metadata_url("books")).send().await.unwrap()).await;
    assert_eq!(meta.json["bearer_methods_supported"], json!(["header", "query"]));
}

#[tokio::test]
async fn every_method_and_the_bare_resource_are_served() {
    let lk = start().await;
    let t = lk.token("books-app", "books-secret", "read_books add_books").await;
    for m in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let r = lk.call(m.clone(), "books/books/1/notes", Some(&t)).await;
        assert_eq!(r.status, 200, "{m}: {:#}", r.json);
        assert_eq!(r.json["method"], m.as_str());
        assert_eq!(r.json["path"], "/books/1/notes");
    }
    let r = lk.call(Method::GET, "books", Some(&t)).await;
    assert_eq!((r.status, r.json["path"].as_str()), (200, Some("/")));
    let r = lk.call(Method::HEAD, "books/x", Some(&t)).await;
    assert_eq!(r.status, 200);
    let r = lk.call(Method::GET, "nope/x", Some(&t)).await;
    assert_eq!(r.status, 404);
    assert!(r.json["error_description"].as_str().unwrap().contains("books"));
    // A configured response replaces the default body.
    lk.resource(json!({"name": "books", "audience": "books-api", "response": {"books": [{"title": "Alice"}]}}))
        .await;
    let r = lk.call(Method::GET, "books/books", Some(&t)).await;
    assert_eq!(r.json, json!({"books": [{"title": "Alice"}]}));
}

#[tokio::test]
async fn browsers_get_cors_with_the_challenge_exposed() {
    let lk = start().await;
    let url = format!("{}/resources/books/books", lk.url);
    let r = lk
        .http
        .request(Method::OPTIONS, &url)
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    assert!(
        r.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("DELETE")
    );
    assert!(
        r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let r = lk
        .http
        .get(&url)
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    let exposed = r.headers()["access-control-expose-headers"].to_str().unwrap();
    assert!(
        exposed.contains("WWW-Authenticate") && exposed.contains("Latchkey-Verdict"),
        "{exposed}"
    );
    // An origin no client registered gets no CORS headers.
    let r = lk
        .http
        .get(&url)
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn metadata_lives_where_rfc9728_derives_it_under_a_path_issuer() {
    let issuer = "https://idp.test/realms/dev";
    let lk = start_with(CONFIG, Some(issuer)).await;
    let r = resp(
        lk.http
            .get(format!(
                "{}/.well-known/oauth-protected-resource/realms/dev/resources/books",
                lk.url
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json,
        json!({
            "resource": "https://idp.test/realms/dev/resources/books",
            "authorization_servers": [issuer],
            "scopes_supported": ["read_books", "add_books"],
            "bearer_methods_supported": ["header", "body"],
            "resource_name": "books",
            "dpop_signing_alg_values_supported": ["ES256", "ES384", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        })
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    // The resource itself lives under the issuer's path, and its challenge points at the metadata.
    let r = resp(
        lk.http
            .get(format!("{}/realms/dev/resources/books/x", lk.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        "Bearer realm=\"books\", resource_metadata=\"https://idp.test/.well-known/oauth-protected-resource/realms/dev/resources/books\""
    );
    // The admin API lives under the issuer's path too.
    let v = resp(
        lk.http
            .get(format!("{}/realms/dev/admin/api/resources/books", lk.url))
            .send()
            .await
            .unwrap(),
    )
    .await
    .json;
    assert_eq!(v["identifier"], "https://idp.test/realms/dev/resources/books");
    assert_eq!(
        v["metadata_url"],
        "https://idp.test/.well-known/oauth-protected-resource/realms/dev/resources/books"
    );
    // A token whose aud is the identifier is accepted there.
    let c = lk
        .http
        .post(format!("{}/realms/dev/admin/api/clients", lk.url))
        .json(
            &json!({"client_id": "id-aud", "client_secret": "s-1", "grant_types": ["client_credentials"],
                      "scopes": ["read_books"], "audiences": [v["identifier"]]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(c.status(), 201);
    let t = resp(
        lk.http
            .post(format!("{}/realms/dev/token", lk.url))
            .basic_auth("id-aud", Some("s-1"))
            .form(&[("grant_type", "client_credentials"), ("scope", "read_books")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let t = t.json["access_token"].as_str().unwrap().to_string();
    let r = resp(
        lk.http
            .get(format!("{}/realms/dev/resources/books/x", lk.url))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    // The root-level URL is not this issuer's.
    let r = lk
        .http
        .get(lk.metadata_url("books").replace("https://idp.test", &lk.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_request_log_entry_carries_the_verdict_and_no_token() {
    let lk = start().await;
    let t = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk.get_books("books", &t).await;
    assert_eq!(r.status, 401);
    let log = lk.get("/requests").await.json;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/resources/books/books")
        .expect("the call is logged");
    assert_eq!(entry["verdict"]["decided_by"], "aud");
    assert_eq!(entry["status"], 401);
    assert!(!entry.to_string().contains(&t), "the token is redacted");
}

/// `GET /resources/books/books?access_token={query_token}`, with `bearer` in the header too.
async fn query_call(lk: &Lk, query_token: &str, bearer: Option<&str>) -> Resp {
    let mut req = lk
        .http
        .get(format!("{}/resources/books/books?access_token={query_token}", lk.url));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    resp(req.send().await.unwrap()).await
}
