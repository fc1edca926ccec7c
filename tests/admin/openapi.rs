//! The OpenAPI document covers every admin route, and every documented route is served.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn every_admin_route_is_in_the_openapi_document_and_served() {
    let lk = start().await;
    let (s, doc) = lk.get("/openapi.json").await;
    assert_eq!(s, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], lk.server.issuer().trim_end_matches('/'));
    // The router is built from the same handler list as the document (utoipa-axum), so
    // walking the document visits every route: each must answer, never with the router's
    // own "no endpoint" 404 or a 405.
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/admin/api/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} is undocumented"
            );
            operations += 1;
            if path.ends_with("/events") {
                continue;
            }
            let concrete = path
                .replace("{client_id}", "books-app")
                .replace("{name}", "nope")
                .replace("{username}", "nope")
                .replace("{id}", "nope");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = lk
                .http
                .request(m, format!("{}{concrete}", lk.url))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let (_, body): (u16, Value) = body(r).await;
            assert_ne!(status, 405, "{method} {path}");
            if status == 404 {
                assert!(body["message"].is_string(), "{method} {path} is not routed: {body}");
            }
        }
    }
    assert!(operations >= 35, "{operations}");
    for expected in [
        "/admin/api/clients",
        "/admin/api/clients/{client_id}/secret",
        "/admin/api/scopes/{name}",
        "/admin/api/users/{username}",
        "/admin/api/resources/{name}",
        "/admin/api/tokens/{id}/revoke",
        "/admin/api/tokens/inspect",
        "/admin/api/requests/{id}",
        "/admin/api/keys/rotate",
        "/admin/api/settings",
        "/admin/api/clock",
        "/admin/api/config",
        "/admin/api/status",
        "/admin/api/events",
        "/admin/api/openapi.json",
    ] {
        assert!(paths.contains_key(expected), "{expected} missing");
    }
    lk.server.shutdown().await;
}
