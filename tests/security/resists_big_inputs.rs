//! Huge and deeply nested inputs (already resisted; kept from regressing).

use crate::common::*;

/// Advisory class: denial of service by huge or deeply nested input (stack exhaustion in
/// recursive parsers, unbounded buffering; RFC 9700 has no section on it, RFC 6749 §10 leaves
/// it to the server). A body over 64 KiB is 413 with a JSON error; JSON and TOML nested
/// thousands of levels deep, a form of 10,000 parameters, a 100 KiB header and a 60 KiB URL
/// each get a 4xx, never a 5xx or a crash, and the server answers normally afterwards.
#[tokio::test]
async fn huge_and_deeply_nested_inputs_get_a_4xx_and_the_server_survives() {
    let srv = spawn_default().await;
    let send = |req: reqwest::RequestBuilder| async move {
        let r = req.send().await.expect("the server answers");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    };
    // 1. A body over the limit, on a protocol and an admin endpoint.
    let big = "a=".to_string() + &"x".repeat(70 * 1024);
    let (s, body) = send(
        srv.http
            .post(srv.at("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone()),
    )
    .await;
    assert_eq!(s, 413, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    let (s, _) = send(
        srv.http
            .post(srv.at("/admin/api/clients"))
            .header("content-type", "application/json")
            .body(format!("{{\"client_id\":\"{}\"}}", "x".repeat(70 * 1024))),
    )
    .await;
    assert!(s == 413 || s == 400, "{s}");
    // 2. Deep nesting within the size limit: JSON to the admin API, TOML to the config import.
    let deep_json = "[".repeat(30_000) + &"]".repeat(30_000);
    for path in [
        "/admin/api/clients",
        "/admin/api/users",
        "/admin/api/tokens/inspect",
        "/admin/api/settings",
    ] {
        let method = if path.ends_with("settings") {
            reqwest::Method::PUT
        } else {
            reqwest::Method::POST
        };
        let (s, body) = send(
            srv.http
                .request(method, srv.at(path))
                .header("content-type", "application/json")
                .body(deep_json.clone()),
        )
        .await;
        assert!((400..500).contains(&s), "{path}: {s} {body}");
    }
    let deep_toml = "a = ".to_string() + &"[".repeat(20_000) + &"]".repeat(20_000);
    let (s, body) = send(
        srv.http
            .put(srv.at("/admin/api/config"))
            .header("content-type", "application/toml")
            .body(deep_toml),
    )
    .await;
    assert!((400..500).contains(&s), "{s} {body}");
    let deep_inline = "a = ".to_string() + &"{b = ".repeat(10_000) + "1" + &"}".repeat(10_000);
    let (s, body) = send(
        srv.http
            .put(srv.at("/admin/api/config"))
            .header("content-type", "application/toml")
            .body(deep_inline),
    )
    .await;
    assert!((400..500).contains(&s), "{s} {body}");
    // A forged JWT whose header is deeply nested JSON.
    let nested_header = crate::web_attack::b64(deep_json.as_bytes());
    let token = format!("{nested_header}.e30.c2ln");
    let (s, _) = send(
        srv.http
            .post(srv.at("/admin/api/tokens/inspect"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"token": token}).to_string()),
    )
    .await;
    assert!((200..500).contains(&s), "{s}");
    let (s, _) = send(srv.http.get(srv.at("/userinfo")).bearer_auth(&token)).await;
    assert_eq!(s, 401);
    // 3. Many parameters, a huge header, a huge URL.
    let many: String = (0..10_000).map(|i| format!("p{i}=v&")).collect();
    let (s, _) = send(
        srv.http
            .post(srv.at("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(many),
    )
    .await;
    assert!((400..500).contains(&s), "{s}");
    let (s, _) = send(
        srv.http
            .get(srv.at("/userinfo"))
            .header("x-filler", "y".repeat(100 * 1024)),
    )
    .await;
    assert!((400..500).contains(&s), "{s}");
    let long_url = format!("/authorize?client_id=web&state={}", "s".repeat(60 * 1024));
    let (s, _) = send(srv.http.get(srv.at(&long_url))).await;
    assert!((400..500).contains(&s), "{s}");
    // 4. Still alive and well.
    let r = srv
        .http
        .get(srv.at("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("alive");
    assert_eq!(r.status(), 200);
}
