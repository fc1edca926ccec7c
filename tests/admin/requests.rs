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
        post["curl"]
            .as_str()
            .unwrap()
            .contains("client_secret=${CLIENT_SECRET:?set CLIENT_SECRET first}"),
        "{post}"
    );

    let token = &items[2];
    assert_eq!(token["method"], "POST");
    assert_eq!(token["status"], 200);
    assert_eq!(token["response"]["token_type"], "Bearer");
    assert_eq!(token["response"]["scope"], "read_books");
    assert_eq!(token["response"]["issued"], json!(["access_token"]));
    let curl = token["curl"].as_str().unwrap();
    assert!(curl.starts_with("curl -s "), "{curl}");
    assert!(
        curl.contains("-u \"books-app:${CLIENT_SECRET:?set CLIENT_SECRET first}\""),
        "{curl}"
    );
    assert_eq!(token["curl_variables"], json!(["CLIENT_SECRET"]));
    // The real body, tokens redacted.
    assert_eq!(token["response_body"]["access_token"], "[redacted]");
    assert_eq!(token["response_body"]["token_type"], "Bearer");
    assert_eq!(token["response_body"]["scope"], "read_books");
    assert!(token["response_body"]["expires_in"].as_u64().is_some());
    assert_eq!(post["response_body"]["error"], "invalid_client");
    assert_eq!(introspect["response_body"]["active"], true);
    assert_eq!(introspect["response_body"]["client_id"], "books-app");
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

/// Runs `script` with bash off the test's runtime thread (the server runs on it); returns
/// (exit status success, stdout, stderr).
async fn bash(script: &str) -> (bool, String, String) {
    let script = script.to_string();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("bash runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("the shell task")
}

#[tokio::test]
async fn the_logged_curl_runs_as_pasted_and_an_empty_secret_stops_it() {
    let lk = start().await;
    lk.client_credentials("read_books").await;
    let (_, page) = lk.get("/requests").await;
    let curl = page["items"][0]["curl"].as_str().unwrap().to_string();

    // With the variable set, the command pasted as is gets a token.
    let (ok, out, err) = bash(&format!("CLIENT_SECRET='{SECRET}'\n{curl} --max-time 10")).await;
    assert!(ok, "{curl}\n{err}");
    let answer: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?} (-s keeps stdout JSON)"));
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["access_token"].as_str().is_some_and(|t| !t.is_empty()));

    // Unset or empty, the shell stops before curl runs: no request is made with an empty secret.
    let (_, before) = lk.get("/requests").await;
    let count = before["items"].as_array().unwrap().len();
    for prefix in ["unset CLIENT_SECRET", "CLIENT_SECRET="] {
        let (ok, out, err) = bash(&format!("{prefix}\n{curl} --max-time 10")).await;
        assert!(!ok, "{prefix}: {out}");
        assert!(err.contains("set CLIENT_SECRET first"), "{prefix}: {err}");
    }
    let (_, after) = lk.get("/requests").await;
    assert_eq!(after["items"].as_array().unwrap().len(), count, "no request went out");
    lk.server.shutdown().await;
}
