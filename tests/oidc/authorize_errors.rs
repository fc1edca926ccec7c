//! Error paths of the authorization endpoint: shown when the redirect URI cannot be trusted,
//! redirected (with `error`, `error_description`, `state`, `iss`) otherwise.

use reqwest::StatusCode;

use crate::common::*;

#[track_caller]
fn assert_error_page(page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{page:?}");
    assert!(page.location().is_none(), "an error page never redirects: {page:?}");
    assert!(page.headers.get("location").is_none());
    assert!(!page.body.contains("code="));
    page.assert_page_headers();
}

#[tokio::test]
async fn unknown_client_shows_an_error_page_and_never_redirects() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", "nobody"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("state", "s"),
        ])
        .await;
    assert_error_page(&page);
    assert!(page.body.contains("Unknown client"), "{}", page.body);
    // Missing client_id too.
    let page = b
        .authorize(&[("response_type", "code"), ("redirect_uri", WEB_CB)])
        .await;
    assert_error_page(&page);
}

#[tokio::test]
async fn redirect_uri_mismatch_shows_an_error_page_and_never_redirects() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    for bad in [
        "http://evil.example/callback",
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?x=1",
        "http://LOCALHOST:3000/callback",
        "http://localhost:3001/callback",
        SPA_CB, // registered, but for another client
    ] {
        let page = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", bad),
                ("state", "s"),
            ])
            .await;
        assert_error_page(&page);
        assert!(page.body.contains("Redirect URI mismatch"), "{bad}: {}", page.body);
    }
    // Even an otherwise invalid request (bad response_type) is not redirected to an
    // unregistered URI.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "bogus"),
            ("redirect_uri", "http://evil.example/"),
        ])
        .await;
    assert_error_page(&page);
    // OpenID requests must name the redirect URI.
    let page = b
        .authorize(&[("client_id", "spa"), ("response_type", "code"), ("scope", "openid")])
        .await;
    assert_error_page(&page);
}

#[tokio::test]
async fn other_errors_redirect_with_error_description_state_and_iss() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "token_bogus")], "unsupported_response_type"),
        (&[], "invalid_request"), // no response_type
        (&[("response_type", "code"), ("scope", "openid admin")], "invalid_scope"),
        (
            &[("response_type", "code"), ("response_mode", "carrier_pigeon")],
            "invalid_request",
        ),
        (&[("response_type", "code"), ("prompt", "sometimes")], "invalid_request"),
        (&[("response_type", "code"), ("max_age", "-1")], "invalid_request"),
        (
            &[
                ("response_type", "code"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            &[
                ("response_type", "code"),
                ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                ("code_challenge_method", "S512"),
            ],
            "invalid_request",
        ),
        (
            &[("response_type", "code"), ("request", "eyJ...")],
            "request_not_supported",
        ),
        // web is not allowed implicit response types
        (
            &[("response_type", "id_token token"), ("nonce", "n"), ("scope", "openid")],
            "unauthorized_client",
        ),
    ];
    for (extra, code) in cases {
        let mut params = vec![("client_id", "web"), ("redirect_uri", WEB_CB), ("state", "keep-me")];
        params.extend_from_slice(extra);
        let page = b.authorize(&params).await;
        let loc = page
            .location()
            .unwrap_or_else(|| panic!("{extra:?}: expected a redirect, got {page:?}"));
        let cb = Callback::parse(loc);
        let (err, desc, state, iss) = if cb.query.contains_key("error") {
            (cb.q("error"), cb.q("error_description"), cb.q("state"), cb.q("iss"))
        } else {
            (cb.f("error"), cb.f("error_description"), cb.f("state"), cb.f("iss"))
        };
        assert_eq!(cb.base, WEB_CB, "{extra:?}");
        assert_eq!(err, *code, "{extra:?}: {loc}");
        assert!(!desc.is_empty());
        assert_eq!(state, "keep-me");
        assert_eq!(iss, srv.issuer());
        assert!(!cb.query.contains_key("code"));
    }
}

#[tokio::test]
async fn public_client_without_pkce_gets_an_error_redirect() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", "spa"),
            ("response_type", "code"),
            ("redirect_uri", SPA_CB),
            ("scope", "openid"),
            ("state", "p"),
        ])
        .await;
    let cb = Callback::parse(page.redirect());
    assert_eq!(cb.base, SPA_CB);
    assert_eq!(cb.q("error"), "invalid_request");
    assert!(cb.q("error_description").contains("PKCE"));
    assert_eq!(cb.q("state"), "p");
    assert_eq!(cb.q("iss"), srv.issuer());
    assert!(!cb.query.contains_key("code"));
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn prompt_none_without_a_session_redirects_login_required() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("prompt", "none"),
            ("state", "pn"),
        ])
        .await;
    let cb = Callback::parse(page.redirect());
    assert_eq!(cb.q("error"), "login_required");
    assert_eq!(cb.q("state"), "pn");
    assert!(!cb.query.contains_key("code"));
    // prompt=none cannot be combined with other values.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("prompt", "none login"),
        ])
        .await;
    assert_eq!(Callback::parse(page.redirect()).q("error"), "invalid_request");
}

#[tokio::test]
async fn a_repeated_state_is_an_invalid_request_and_issues_no_code() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    // Signed in, so a code would otherwise be issued at once.
    b.code_flow(
        &[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ],
        "alice",
        "alice-password",
    )
    .await;
    for (first, second) in [("one", "two"), ("same", "same")] {
        let page = b
            .authorize(&[
                ("client_id", "web"),
                ("response_type", "code"),
                ("redirect_uri", WEB_CB),
                ("scope", "openid"),
                ("state", first),
                ("state", second),
            ])
            .await;
        let cb = Callback::parse(page.redirect());
        assert_eq!(cb.base, WEB_CB);
        assert_eq!(cb.q("error"), "invalid_request", "{cb:?}");
        assert!(cb.q("error_description").contains("state"), "{cb:?}");
        assert_eq!(cb.q("iss"), srv.issuer());
        assert!(!cb.query.contains_key("code"), "{cb:?}");
        assert!(!cb.query.contains_key("state"), "no single state to echo: {cb:?}");
    }
    // With an unregistered redirect URI it is still an error page, never a redirect.
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", "http://evil.example/"),
            ("state", "a"),
            ("state", "b"),
        ])
        .await;
    assert_error_page(&page);
}

#[tokio::test]
async fn a_repeated_response_mode_is_an_invalid_request_and_issues_no_code() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    b.code_flow(
        &[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
        ],
        "alice",
        "alice-password",
    )
    .await;
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("state", "rm"),
            ("response_mode", "query"),
            ("response_mode", "form_post"),
        ])
        .await;
    // Reported in the default mode for the response type (query for code).
    let cb = Callback::parse(page.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("error"), "invalid_request", "{cb:?}");
    assert!(cb.q("error_description").contains("response_mode"), "{cb:?}");
    assert_eq!(cb.q("state"), "rm");
    assert_eq!(cb.q("iss"), srv.issuer());
    assert!(!cb.query.contains_key("code"), "{cb:?}");
    // For an implicit response type the default (and so the error's) mode is the fragment.
    let page = b
        .authorize(&[
            ("client_id", "legacy"),
            ("response_type", "id_token"),
            ("redirect_uri", LEGACY_CB),
            ("scope", "openid"),
            ("nonce", "n"),
            ("state", "rm2"),
            ("response_mode", "fragment"),
            ("response_mode", "fragment"),
        ])
        .await;
    let cb = Callback::parse(page.redirect());
    assert!(cb.query.is_empty(), "{cb:?}");
    assert_eq!(cb.f("error"), "invalid_request", "{cb:?}");
    assert_eq!(cb.f("state"), "rm2");
    assert!(!cb.fragment.contains_key("id_token"), "{cb:?}");
}

#[tokio::test]
async fn response_mode_query_is_refused_for_tokens_in_the_front_channel() {
    // OAuth 2.0 Multiple Response Type Encoding Practices §2.1, §5: responses carrying tokens
    // must not use the query.
    let srv = spawn_default().await;
    let mut b = srv.browser();
    for rt in [
        "token",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ] {
        let page = b
            .authorize(&[
                ("client_id", "legacy"),
                ("response_type", rt),
                ("redirect_uri", LEGACY_CB),
                ("scope", "openid"),
                ("nonce", "n"),
                ("state", "q"),
                ("response_mode", "query"),
            ])
            .await;
        let loc = page
            .location()
            .unwrap_or_else(|| panic!("{rt}: expected an error redirect, got {page:?}"));
        let cb = Callback::parse(loc);
        assert_eq!(cb.base, LEGACY_CB, "{rt}");
        assert!(
            cb.query.is_empty(),
            "{rt}: the error itself goes in the fragment: {cb:?}"
        );
        assert_eq!(cb.f("error"), "invalid_request", "{rt}");
        assert!(cb.f("error_description").contains("query"), "{rt}");
        assert_eq!(cb.f("state"), "q", "{rt}");
        for t in ["code", "access_token", "id_token"] {
            assert!(!cb.fragment.contains_key(t), "{rt}: {cb:?}");
        }
    }
    // The plain code flow may ask for the query explicitly.
    let page = b
        .authorize(&[
            ("client_id", "legacy"),
            ("response_type", "code"),
            ("redirect_uri", LEGACY_CB),
            ("scope", "openid"),
            ("response_mode", "query"),
        ])
        .await;
    assert!(page.is_login(), "{page:?}");
}
