//! Security headers and escaping of Latchkey's pages, discovery, and CORS for browser apps.

use reqwest::StatusCode;

use crate::common::*;

const XSS: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn login_consent_and_error_pages_cannot_be_framed_or_cached() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let login = b
        .authorize(&[
            ("client_id", "consent-app"),
            ("response_type", "code"),
            ("redirect_uri", CONSENT_CB),
            ("scope", "openid"),
        ])
        .await;
    assert!(login.is_login());
    login.assert_page_headers();
    let wrong = b.login(&login, "alice", "nope").await;
    wrong.assert_page_headers();
    let consent = b.login(&wrong, "alice", "alice-password").await;
    assert!(consent.is_consent());
    consent.assert_page_headers();
    let error = b.authorize(&[("client_id", "nobody"), ("response_type", "code")]).await;
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    error.assert_page_headers();
    // GET /login?req=... for an unknown request is an error page as well.
    let expired = b.get("/login?req=unknown").await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    expired.assert_page_headers();
    // The redirect itself is not cached either.
    let done = b.consent(&consent, true).await;
    assert!(done.header("cache-control").contains("no-store"), "{done:?}");
}

#[tokio::test]
async fn pages_escape_every_parameter_they_show() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    // Reflected in the error page.
    let page = b.authorize(&[("client_id", XSS), ("response_type", "code")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;"), "the value is shown, escaped");
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", &format!("http://x/{XSS}\"'")),
        ])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.body.contains("<script"), "{}", page.body);
    // state and login_hint on the login page.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("state", XSS),
            ("login_hint", &format!("\"><img src=x onerror=alert(1)>{XSS}")),
        ])
        .await;
    assert!(page.is_login());
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(!page.body.contains("<img"), "{}", page.body);
    // A wrong-username message names the username: escaped.
    let again = b.login(&page, XSS, "x").await;
    assert!(again.is_login());
    assert!(!again.body.contains("<script"), "{}", again.body);
    // state in the redirect is URL-encoded, never raw.
    let done = b.login(&again, "alice", "alice-password").await;
    let loc = done.redirect();
    assert!(!loc.contains('<'), "{loc}");
    assert_eq!(Callback::parse(loc).q("state"), XSS);
}

#[tokio::test]
async fn discovery_advertises_the_oidc_endpoints_and_capabilities() {
    let srv = spawn_default().await;
    let doc = Reply::from(
        srv.http
            .get(srv.at("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("discovery"),
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    let d = &doc.json;
    let iss = srv.issuer();
    assert_eq!(d["issuer"], iss);
    assert_eq!(d["authorization_endpoint"], format!("{iss}/authorize"));
    assert_eq!(d["token_endpoint"], format!("{iss}/token"));
    assert_eq!(d["userinfo_endpoint"], format!("{iss}/userinfo"));
    assert_eq!(d["end_session_endpoint"], format!("{iss}/end_session"));
    assert_eq!(d["jwks_uri"], format!("{iss}/jwks"));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let list = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap_or_else(|| panic!("{k} missing: {d}"))
            .iter()
            .map(|v| v.as_str().expect("string").to_string())
            .collect()
    };
    let rts = list("response_types_supported");
    for rt in ["code", "id_token", "id_token token", "code id_token"] {
        assert!(rts.contains(&rt.to_string()), "{rt}: {rts:?}");
    }
    let modes = list("response_modes_supported");
    for m in ["query", "fragment", "form_post"] {
        assert!(modes.contains(&m.to_string()), "{m}");
    }
    let grants = list("grant_types_supported");
    for g in [
        "authorization_code",
        "refresh_token",
        "password",
        "implicit",
        "client_credentials",
    ] {
        assert!(grants.contains(&g.to_string()), "{g}: {grants:?}");
    }
    assert_eq!(list("code_challenge_methods_supported"), vec!["S256", "plain"]);
    let claims = list("claims_supported");
    for c in [
        "sub",
        "iss",
        "auth_time",
        "nonce",
        "name",
        "email",
        "email_verified",
        "team",
        "department",
    ] {
        assert!(claims.contains(&c.to_string()), "{c}: {claims:?}");
    }
    let scopes = list("scopes_supported");
    for s in ["openid", "profile", "email", "offline_access", "read_books", "team"] {
        assert!(scopes.contains(&s.to_string()), "{s}");
    }
    assert!(list("token_endpoint_auth_methods_supported").contains(&"none".to_string()));
    assert!(list("subject_types_supported").contains(&"public".to_string()));
    assert!(list("id_token_signing_alg_values_supported").contains(&"RS256".to_string()));
    // The independent RP crate accepts it, and the two well-known documents agree.
    let md = srv.metadata().await;
    assert_eq!(md.issuer().as_str(), iss);
    let rfc8414 = Reply::from(
        srv.http
            .get(srv.at("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .expect("RFC 8414"),
    )
    .await;
    assert_eq!(rfc8414.json["authorization_endpoint"], d["authorization_endpoint"]);
}

async fn preflight(srv: &TestServer, path: &str, origin: &str) -> reqwest::Response {
    srv.http
        .request(reqwest::Method::OPTIONS, srv.at(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn cors_preflight_answers_registered_origins_only() {
    let srv = spawn_default().await;
    for path in ["/token", "/userinfo", "/revoke", "/introspect"] {
        let r = preflight(&srv, path, "http://localhost:3000").await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "http://localhost:3000", "{path}");
        assert!(
            h["access-control-allow-methods"]
                .to_str()
                .expect("ascii")
                .contains("POST"),
            "{path}"
        );
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .expect("ascii")
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
    }
    for origin in ["http://evil.example", "http://localhost:3001", "null"] {
        let r = preflight(&srv, "/token", origin).await;
        assert!(r.headers().get("access-control-allow-origin").is_none(), "{origin}");
    }
    // The actual request from the SPA's origin carries ACAO too.
    let r = srv
        .http
        .post(srv.at("/token"))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", "x"),
        ]))
        .send()
        .await
        .expect("token");
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    // Discovery and JWKS are public.
    let r = srv
        .http
        .get(srv.at("/.well-known/openid-configuration"))
        .header("origin", "http://anything.example")
        .send()
        .await
        .expect("discovery");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
