//! UserInfo (OIDC Core §5.3, RFC 6750) and RP-initiated logout.

use reqwest::StatusCode;

use crate::common::*;

/// Logs alice in for `web` with `scope`; returns the browser (with its session) and the tokens.
async fn login_web(srv: &TestServer, scope: &str) -> (Browser, Reply) {
    let mut b = srv.browser();
    let cb = b
        .code_flow(
            &[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", scope),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let r = srv
        .token(
            Some(("web", "web-secret")),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", WEB_CB),
            ],
        )
        .await;
    (b, r)
}

#[tokio::test]
async fn userinfo_answers_get_and_post_with_header_or_form_body() {
    let srv = spawn_default().await;
    let (_, r) = login_web(&srv, "openid email").await;
    let at = r.ok("access_token");
    let sub = jwt_claims(&r.ok("id_token"))["sub"].clone();
    let expect = serde_json::json!({"sub": sub, "email": "alice@example.com", "email_verified": true});

    let get = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(get.status, StatusCode::OK, "{get:?}");
    assert!(get.header("content-type").starts_with("application/json"));
    assert_eq!(get.json, expect);

    let post = Reply::from(
        srv.http
            .post(srv.at("/userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(post.status, StatusCode::OK, "{post:?}");
    assert_eq!(post.json, expect);

    let body = Reply::from(
        srv.http
            .post(srv.at("/userinfo"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("access_token", &at)]))
            .send()
            .await
            .expect("POST form"),
    )
    .await;
    assert_eq!(body.status, StatusCode::OK, "{body:?}");
    assert_eq!(body.json, expect);

    // Profile scope releases profile claims, not email.
    let (_, r) = login_web(&srv, "openid profile").await;
    let info = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth(r.ok("access_token"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(info.json["name"], "Alice Liddell");
    assert!(info.json.get("email").is_none());
}

#[track_caller]
fn assert_invalid_token(r: &Reply) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    let challenge = r.header("www-authenticate");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn userinfo_without_a_valid_token_is_401_invalid_token() {
    let srv = spawn_default().await;
    // No token at all: a bare challenge, without an error code (RFC 6750 §3.1).
    let none = Reply::from(srv.http.get(srv.at("/userinfo")).send().await.expect("GET")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{none:?}");
    assert_eq!(none.header("www-authenticate"), "Bearer realm=\"latchkey\"");
    let bad = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_invalid_token(&bad);
    let bad_post = Reply::from(
        srv.http
            .post(srv.at("/userinfo"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("access_token", "forged")]))
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_invalid_token(&bad_post);
    // A revoked token too.
    let (_, r) = login_web(&srv, "openid").await;
    let at = r.ok("access_token");
    let revoked = srv
        .http
        .post(srv.at("/revoke"))
        .header("authorization", basic("web", "web-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", &at)]))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_invalid_token(&after);
    // An id_token is not an access token.
    let id = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth(r.ok("id_token"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_invalid_token(&id);
    let said = id.json["error_description"].as_str().unwrap_or_default();
    assert!(said.contains("this is an id_token"), "{said}");
}

#[tokio::test]
async fn userinfo_with_a_token_without_openid_is_403_insufficient_scope() {
    let srv = spawn_default().await;
    let (_, r) = login_web(&srv, "read_books").await;
    let at = r.ok("access_token");
    assert!(r.json.get("id_token").is_none());
    let res = Reply::from(
        srv.http
            .get(srv.at("/userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert_eq!(res.json["error"], "insufficient_scope");
    assert!(res.header("www-authenticate").contains("error=\"insufficient_scope\""));
}

#[tokio::test]
async fn end_session_with_hint_and_registered_uri_redirects_and_ends_the_session() {
    let srv = spawn_default().await;
    let (mut b, r) = login_web(&srv, "openid").await;
    assert!(b.cookie.is_some());
    let params = form(&[
        ("id_token_hint", &r.ok("id_token")),
        ("post_logout_redirect_uri", "http://localhost:3000/"),
        ("state", "bye & thanks"),
    ]);
    let out = b.get(&format!("/end_session?{params}")).await;
    let loc = out.redirect().to_string();
    let cb = Callback::parse(&loc);
    assert_eq!(cb.base, "http://localhost:3000/");
    assert_eq!(cb.q("state"), "bye & thanks");
    assert!(b.cookie.is_none(), "the cookie is cleared");
    // Even a browser that kept the old cookie has no session any more.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.is_login(), "login page again after logout: {page:?}");
}

#[tokio::test]
async fn end_session_ends_the_server_side_session_for_a_kept_cookie() {
    let srv = spawn_default().await;
    let (mut b, r) = login_web(&srv, "openid").await;
    let old = b.cookie.clone().expect("cookie");
    let params = form(&[("id_token_hint", &r.ok("id_token"))]);
    let out = b.get(&format!("/end_session?{params}")).await;
    assert_eq!(out.status, StatusCode::OK, "signed-out page: {out:?}");
    b.cookie = Some(old); // a browser that ignores the clearing Set-Cookie
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.is_login(), "{page:?}");
}

#[tokio::test]
async fn end_session_with_an_unregistered_uri_shows_an_error_page() {
    let srv = spawn_default().await;
    let (mut b, r) = login_web(&srv, "openid").await;
    let params = form(&[
        ("id_token_hint", &r.ok("id_token")),
        ("post_logout_redirect_uri", "http://evil.example/"),
        ("state", "s"),
    ]);
    let out = b.get(&format!("/end_session?{params}")).await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST, "{out:?}");
    assert!(out.location().is_none());
    out.assert_page_headers();
    assert!(b.cookie.is_some(), "the session is not ended by an invalid request");
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.location().is_some(), "still signed in: {page:?}");
}

#[tokio::test]
async fn end_session_without_a_hint_asks_for_confirmation() {
    let srv = spawn_default().await;
    let (mut b, _) = login_web(&srv, "openid").await;
    let params = form(&[
        ("client_id", "web"),
        ("post_logout_redirect_uri", "http://localhost:3000/"),
        ("state", "c1"),
    ]);
    let page = b.get(&format!("/end_session?{params}")).await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(page.location().is_none());
    page.assert_page_headers();
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(page.body.contains("name=\"confirm\" value=\"yes\""));
    assert!(b.cookie.is_some(), "nothing ended yet");
    // Confirming signs out and goes back to the app.
    let out = b
        .post(
            "/end_session",
            &[
                ("client_id", "web"),
                ("post_logout_redirect_uri", "http://localhost:3000/"),
                ("state", "c1"),
                ("confirm", "yes"),
            ],
        )
        .await;
    let cb = Callback::parse(out.redirect());
    assert_eq!(cb.q("state"), "c1");
    assert!(b.cookie.is_none());
}
