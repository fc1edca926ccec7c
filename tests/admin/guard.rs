//! The /admin/ guard: DNS rebinding, cross-origin requests, the admin token.

use crate::common::*;

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_and_same_origin_is_allowed() {
    let lk = start().await;
    let port = lk.server.addr().port();
    let status = |h: reqwest::header::HeaderMap| {
        let req = lk.http.get(lk.api("/status")).headers(h);
        async move { body(req.send().await.unwrap()).await }
    };

    let (s, e) = status(headers(&[("origin", "http://evil.example")])).await;
    assert_eq!(s, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("http://evil.example"), "{e}");

    let (s, e) = status(headers(&[("host", "evil.example")])).await;
    assert_eq!(s, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("DNS rebinding"), "{e}");
    let (s, _) = status(headers(&[("host", &format!("evil.example:{port}"))])).await;
    assert_eq!(s, 403);

    // Same origin (the bound address, the issuer), the desktop shell, and no Origin at all.
    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        "tauri://localhost".into(),
    ] {
        let (s, e) = status(headers(&[("origin", &origin)])).await;
        assert_eq!(s, 200, "{origin}: {e}");
    }
    let (s, _) = status(headers(&[("host", &format!("localhost:{port}"))])).await;
    assert_eq!(s, 200);
    assert_eq!(status(headers(&[])).await.0, 200);

    // A write from a foreign page is refused before it does anything.
    let r = lk
        .http
        .post(lk.api("/clients"))
        .header("origin", "http://evil.example")
        .json(&serde_json::json!({"client_id": "pwned", "client_secret": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(lk.get("/clients/pwned").await.0, 404);

    // The protocol endpoints are not the guard's business (CORS-style calls are normal there).
    let r = lk
        .http
        .get(format!("{}/jwks", lk.url))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn the_admin_token_is_required_when_set() {
    let lk = start_with(CONFIG, Some("let-me-in-0123456789")).await;
    let r = lk.http.get(lk.api("/status")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"latchkey-admin\"");
    let (_, e) = body(r).await;
    assert_eq!(e["error"], "unauthorized");

    let r = lk
        .http
        .get(lk.api("/status"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = lk
        .http
        .get(lk.api("/status"))
        .bearer_auth("let-me-in-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, st) = body(r).await;
    assert_eq!(st["admin_token_required"], true);
    // EventSource cannot set headers: the cookie or the query parameter work too.
    let r = lk
        .http
        .get(lk.api("/status"))
        .header("cookie", "latchkey_admin=let-me-in-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = lk
        .http
        .get(format!("{}?access_token=let-me-in-0123456789", lk.api("/status")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The guard's origin check still applies with a valid token.
    let r = lk
        .http
        .get(lk.api("/status"))
        .bearer_auth("let-me-in-0123456789")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Protocol endpoints do not need it.
    assert_eq!(lk.client_credentials("read_books").await.0, 200);
    // And the token is not logged.
    assert!(!logged_text().contains("let-me-in-0123456789"));
    lk.server.shutdown().await;
}

#[tokio::test]
async fn opening_the_ui_with_the_admin_token_remembers_it_in_a_cookie() {
    let lk = start_with(CONFIG, Some("let-me-in-0123456789")).await;
    let r = lk
        .http
        .get(format!("{}/admin/?access_token=let-me-in-0123456789", lk.server.url()))
        .send()
        .await
        .unwrap();
    // 303 to the same page without the token, so it leaves the address bar and history.
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("latchkey_admin=let-me-in-0123456789;"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The UI's later requests carry only the cookie.
    let value = cookie.split(';').next().unwrap().to_string();
    let r = lk
        .http
        .get(lk.api("/clients"))
        .header("cookie", value)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A wrong token sets nothing.
    let r = lk
        .http
        .get(format!("{}/admin/?access_token=nope", lk.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
}

async fn try_start(bind: &str, admin_token: Option<&str>) -> Result<latchkey::RunningServer, String> {
    latchkey::start(latchkey::ServeOptions {
        bind: bind.parse().unwrap(),
        port: 0,
        db: latchkey::DbLocation::Memory,
        admin_token: admin_token.map(str::to_string),
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn an_empty_blank_or_short_admin_token_is_refused_at_start() {
    let e = try_start("0.0.0.0", None).await.err().unwrap();
    assert!(e.contains("--admin-token"), "{e}");
    for bad in ["", "   ", "\t\n", "short-token", "  fifteen-chars!  "] {
        let e = try_start("0.0.0.0", Some(bad)).await.err().unwrap();
        assert!(e.contains("at least 16 characters"), "{bad:?}: {e}");
        // Loopback does not make a blank token acceptable either.
        let e = try_start("127.0.0.1", Some(bad)).await.err().unwrap();
        assert!(e.contains("at least 16 characters"), "{bad:?}: {e}");
    }
    // Loopback without a token is fine; a long enough token is fine anywhere.
    try_start("127.0.0.1", None).await.unwrap().shutdown().await;
    let s = try_start("0.0.0.0", Some("a-long-enough-admin-token")).await.unwrap();
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/admin/api/status", s.addr().port()))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    s.shutdown().await;
}

#[tokio::test]
async fn an_admin_token_a_cookie_cannot_carry_is_refused_at_start() {
    // It is set as the UI's cookie: `;`, `,`, spaces, quotes, backslashes and non-ASCII would
    // cut or break it (RFC 6265 §4.1.1), so the server refuses to start rather than fail later.
    for (bad, shown) in [
        ("token-with;semicolon-0123", "';'"),
        ("token-with,comma-0123456", "','"),
        ("token with spaces 012345", "' '"),
        ("token-with-\"quote-012345", "'\"'"),
        ("token-with-\\backslash-0123", "'\\\\'"),
        ("token-with-ünicode-012345", "'ü'"),
    ] {
        let e = try_start("127.0.0.1", Some(bad)).await.err().unwrap();
        assert!(e.contains("printable ASCII"), "{bad:?}: {e}");
        assert!(e.contains(shown), "{bad:?}: {e}");
    }
    try_start("127.0.0.1", Some("Tok3n_-.~+/=!#$%&*^|0123"))
        .await
        .unwrap()
        .shutdown()
        .await;
}

#[tokio::test]
async fn the_token_in_a_ui_url_is_redirected_away_and_other_parameters_kept() {
    let lk = start_with(CONFIG, Some("let-me-in-0123456789")).await;
    let r = lk
        .http
        .get(format!(
            "{}/admin/clients?tab=secrets&access_token=let-me-in-0123456789&x=1",
            lk.server.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/clients?tab=secrets&x=1");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let value = cookie.split(';').next().unwrap().to_string();
    // Following the redirect with the cookie opens the page.
    let r = lk
        .http
        .get(format!("{}/admin/clients?tab=secrets&x=1", lk.server.url()))
        .header("cookie", value)
        .send()
        .await
        .unwrap();
    assert!(r.status() == 200 || r.status() == 503, "{}", r.status());
    // The API keeps accepting the query parameter (EventSource cannot set headers).
    let r = lk
        .http
        .get(format!("{}?access_token=let-me-in-0123456789", lk.api("/status")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    lk.server.shutdown().await;
}
