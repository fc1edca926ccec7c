//! The token inspector's server side: a pasted `Bearer ` prefix, `alg: none` and HS256 named
//! for what they are, the loopback-only JWKS fetch, and import errors naming the file.

use axum::Router;
use axum::routing::get;
use serde_json::json;

use crate::common::*;

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn inspect_strips_bearer_and_names_unsigned_and_shared_secret_tokens() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let access = tok["access_token"].as_str().unwrap();
    for pasted in [
        format!("Bearer {access}"),
        format!("bearer   {access}\n"),
        format!("Authorization: Bearer {access}"),
    ] {
        let (s, d) = lk.post("/tokens/inspect", json!({"token": pasted})).await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["token"], access);
        assert!(d["record"].is_object(), "found as ours: {d}");
        assert_eq!(d["signature"]["verified"], true);
    }

    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(r#"{"sub":"x"}"#));
    let (s, d) = lk.post("/tokens/inspect", json!({"token": none})).await;
    assert_eq!(s, 200, "{d}");
    let reason = d["signature"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("unsigned"), "{reason}");
    assert!(!reason.contains("kid"), "alg none is not a missing kid: {reason}");

    let hs = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(r#"{"sub":"x"}"#)
    );
    let (_, d) = lk.post("/tokens/inspect", json!({"token": hs})).await;
    assert!(
        d["signature"]["reason"].as_str().unwrap().contains("shared secret"),
        "{d}"
    );
    lk.server.shutdown().await;
}

async fn serve(router: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, router).await.ok() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_jwks_is_fetched_from_loopback_only_and_only_a_jwk_set_comes_back() {
    let lk = start().await;
    let jwks = json!({"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]});
    let body = jwks.clone();
    let base = serve(
        Router::new()
            .route("/jwks", get(move || async move { axum::Json(body.clone()) }))
            .route("/page", get(|| async { "<html>private local page</html>" }))
            .route("/json", get(|| async { axum::Json(json!({"hello": "world"})) }))
            .route(
                "/missing",
                get(|| async { (axum::http::StatusCode::NOT_FOUND, "nope") }),
            ),
    )
    .await;

    let (s, v) = lk
        .post("/tools/fetch-jwks", json!({"url": format!("{base}/jwks")}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["jwks"], jwks);
    // localhost resolves to loopback only.
    let port = base.rsplit(':').next().unwrap();
    let (s, v) = lk
        .post(
            "/tools/fetch-jwks",
            json!({"url": format!("http://localhost:{port}/jwks")}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    for (url, needle) in [
        (format!("{base}/page"), "not answer JSON"),
        (format!("{base}/json"), "keys"),
        (format!("{base}/missing"), "404"),
        ("http://10.1.2.3/jwks".to_string(), "only this machine"),
        ("http://example.com/jwks".to_string(), "only this machine"),
        ("file:///etc/passwd".to_string(), "http or https"),
        ("http://127.0.0.1:1/jwks".to_string(), "could not be reached"),
    ] {
        let (s, e) = lk.post("/tools/fetch-jwks", json!({"url": url})).await;
        assert_eq!((s, field_names(&e)), (422, vec!["url".to_string()]), "{url}: {e}");
        let m = e["message"].as_str().unwrap();
        assert!(m.contains(needle), "{url}: {m}");
        assert!(!m.contains("private local page"), "the body leaked: {m}");
    }
    let (s, _) = lk.post("/tools/fetch-jwks", json!({"uri": "x"})).await;
    assert_eq!(s, 422);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn import_errors_name_the_uploaded_file() {
    let lk = start().await;
    let bad = "[[clients]]\nclient_id = \"x\"\nredirect_uris = [\"nope\"]\n";
    let r = lk
        .http
        .put(lk.api("/config?filename=team%2Flatchkey.dev.toml"))
        .body(bad)
        .send()
        .await
        .unwrap();
    let (s, e) = body(r).await;
    assert_eq!(s, 400, "{e}");
    let text = e.to_string();
    assert!(text.contains("latchkey.dev.toml"), "{text}");
    assert!(!text.contains("team/"), "the directory is dropped: {text}");
    assert!(!text.contains("request body"), "{text}");
    // Without a name: "the uploaded file", never "request body".
    let r = lk
        .http
        .put(lk.api("/config"))
        .body("[[clients]\n")
        .send()
        .await
        .unwrap();
    let (s, e) = body(r).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("the uploaded file"), "{e}");
    lk.server.shutdown().await;
}
