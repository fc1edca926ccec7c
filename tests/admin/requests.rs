//! The request log: redaction, curl, response summaries; no secret in the log or the logs.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_request_log_redacts_secrets_and_renders_curl() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let access = tok["access_token"].as_str().unwrap().to_string();
    // client_secret_post style (refused for a basic client, still logged and redacted).
    lk.http
        .post(format!("{}/token", lk.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "books-app"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    lk.introspect(&access).await;
    // Admin requests are not logged.
    lk.get("/clients").await;

    let (s, page) = lk.get("/requests").await;
    assert_eq!(s, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{page}");
    assert!(items.iter().all(|r| !r["path"].as_str().unwrap().starts_with("/admin")));
    let text = page.to_string();
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    assert!(!text.contains(&access), "the token leaked");
    assert!(!text.contains(&access[..40]), "part of the token leaked");

    let introspect = &items[0];
    assert_eq!(introspect["path"], "/introspect");
    assert_eq!(introspect["client_id"], "books-app");
    assert_eq!(introspect["response"]["active"], true);
    let token_param = introspect["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "token")
        .unwrap();
    assert_eq!(token_param["value"], "[redacted]");

    let post = &items[1];
    assert_eq!(post["status"], 401);
    assert_eq!(post["response"]["error"], "invalid_client");
    assert!(
        post["curl"].as_str().unwrap().contains("client_secret=$CLIENT_SECRET"),
        "{post}"
    );

    let token = &items[2];
    assert_eq!(token["method"], "POST");
    assert_eq!(token["status"], 200);
    assert_eq!(token["response"]["token_type"], "Bearer");
    assert_eq!(token["response"]["scope"], "read_books");
    assert_eq!(token["response"]["issued"], json!(["access_token"]));
    let curl = token["curl"].as_str().unwrap();
    assert!(curl.starts_with("curl"), "{curl}");
    assert!(curl.contains("-u \"books-app:$CLIENT_SECRET\""), "{curl}");
    assert!(
        curl.contains("--data-urlencode \"grant_type=client_credentials\""),
        "{curl}"
    );
    assert!(
        curl.contains(&format!("{}/token", lk.server.issuer().trim_end_matches('/'))),
        "{curl}"
    );
    let auth = token["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "authorization")
        .unwrap();
    assert_eq!(auth["value"], "Basic [redacted]");
    assert!(token["duration_ms"].as_f64().is_some());

    let id = token["id"].as_i64().unwrap();
    let (s, one) = lk.get(&format!("/requests/{id}")).await;
    assert_eq!((s, &one), (200, token));
    assert_eq!(lk.get("/requests/999999").await.0, 404);
    assert_eq!(lk.get("/requests/abc").await.0, 404);
    let (_, p) = lk.get("/requests?limit=1").await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    let (_, p2) = lk.get(&format!("/requests?limit=5&cursor={}", p["next_cursor"])).await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 2);

    let logs = logged_text();
    assert!(logs.contains("/token"), "the log captures requests");
    assert!(!logs.contains(SECRET), "a secret reached the logs");
    assert!(!logs.contains(PASSWORD), "a password reached the logs");
    assert!(!logs.contains(&access), "a token reached the logs");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn the_admin_uis_own_requests_are_not_logged() {
    let lk = start().await;
    let discovery = format!("{}/.well-known/openid-configuration", lk.url);
    let admin_page = format!("{}/admin/clients", lk.url);
    // The UI's fetch: same origin, referred by an /admin/ page.
    let r = lk
        .http
        .get(&discovery)
        .header("referer", &admin_page)
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "cors")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Without Fetch Metadata, a Referer on the issuer's origin is enough.
    let r = lk
        .http
        .get(&discovery)
        .header("referer", &admin_page)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Logged: an app's request; a cross-site page claiming an /admin/ referer; a navigation
    // from the UI (following a link to a protocol endpoint); a referer on another origin.
    lk.http.get(&discovery).send().await.unwrap();
    lk.http
        .get(&discovery)
        .header("referer", &admin_page)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    lk.http
        .get(&discovery)
        .header("referer", &admin_page)
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "navigate")
        .send()
        .await
        .unwrap();
    lk.http
        .get(&discovery)
        .header("referer", "http://localhost:3000/admin/")
        .send()
        .await
        .unwrap();
    let (_, page) = lk.get("/requests").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{page}");
    // The markers are read, never shown.
    let text = page.to_string();
    assert!(!text.contains("sec-fetch") && !text.contains("referer"), "{text}");
    lk.server.shutdown().await;
}
