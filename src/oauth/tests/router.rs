//! The axum router driven in-process with `tower::ServiceExt::oneshot` (no socket).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::*;

async fn send(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let app = crate::http::router(provider().await);
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let json =
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, headers, json)
}

fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost:8000")
}

#[tokio::test]
async fn get_on_token_is_405_allowing_post() {
    let (status, headers, body) = send(request(Method::GET, "/token").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let allow = headers.get(header::ALLOW).unwrap().to_str().unwrap();
    assert!(allow.split(',').any(|m| m.trim() == "POST"), "Allow: {allow}");
    assert!(!allow.contains("GET"), "Allow: {allow}");
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn post_token_with_a_wrong_content_type_is_invalid_request() {
    let (status, headers, body) = send(
        request(Method::POST, "/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"grant_type":"client_credentials"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_path_is_404_json() {
    let (status, _, body) = send(request(Method::GET, "/no/such/endpoint").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.get("error").is_some(), "{body}");
}

#[tokio::test]
async fn a_form_post_to_token_issues_a_token() {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("svc:s3cret");
    let (status, headers, body) = send(
        request(Method::POST, "/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, format!("Basic {auth}"))
            .body(Body::from("grant_type=client_credentials&scope=read"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "read");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}
