//! Script-scheme redirect URIs (issue 9, item 1): refused wherever a URI enters, and never
//! rendered or redirected to even when an older database holds one.

use latchkey::model::Client;
use latchkey::store::Store;
use latchkey::{DbLocation, ServeOptions};

use reqwest::Method;
use serde_json::json;

use crate::common::*;
use crate::web_attack::*;

/// URIs that run or embed content in the browser, in the spellings that got through other
/// servers' filters: letter case, leading space, tabs and newlines a browser strips, and a
/// percent-encoded scheme.
pub const SCRIPT_URIS: &[&str] = &[
    "javascript://%0aalert(document.domain)",
    "JavaScript://x/%0aalert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\u{0}javascript:alert(1)",
    "java\tscript://x/%0aalert(1)",
    "java\nscript:alert(1)",
    "java%73cript://x/%0aalert(1)",
    "vbscript://x/%0amsgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "blob:http://localhost:3000/0b9c8f",
    "about:blank",
];

/// Advisory class: stored XSS through a `javascript:` / `data:` redirect URI accepted at client
/// registration (RFC 9700 §4.1: redirect URIs are the attacker's favourite parameter; §2.1
/// exact matching assumes the registered value is itself safe). Every URI field a client has
/// (`redirect_uris`, `post_logout_redirect_uris`) is refused by `POST` and `PUT
/// /admin/api/clients` and by a config import, with a field error naming the field.
#[tokio::test]
async fn admin_api_refuses_script_scheme_uris_in_every_uri_field() {
    let srv = spawn_default().await;
    for bad in SCRIPT_URIS {
        for (field, body) in [
            (
                "redirect_uris[1]",
                json!({"client_id": "evil", "client_secret": "s", "redirect_uris": ["http://localhost:3000/cb", bad]}),
            ),
            (
                "post_logout_redirect_uris[0]",
                json!({"client_id": "evil", "client_secret": "s", "redirect_uris": ["http://localhost:3000/cb"], "post_logout_redirect_uris": [bad]}),
            ),
        ] {
            let (s, e) = admin(&srv, Method::POST, "/clients", Some(body.clone())).await;
            assert_eq!(s, 422, "{bad:?} in {field}: {e}");
            assert_eq!(field_names(&e), vec![field.to_string()], "{bad:?}: {e}");
            let (s, _) = admin(&srv, Method::GET, "/clients/evil", None).await;
            assert_eq!(s, 404, "{bad:?} was stored");
            // Replacing an existing client is refused the same way, and leaves it unchanged.
            let mut put = body;
            put["client_id"] = json!("web");
            let (s, e) = admin(&srv, Method::PUT, "/clients/web", Some(put)).await;
            assert_eq!(s, 422, "{bad:?} in {field} by PUT: {e}");
            assert_eq!(field_names(&e), vec![field.to_string()], "{bad:?}: {e}");
        }
    }
    let (_, web) = admin(&srv, Method::GET, "/clients/web", None).await;
    assert_eq!(web["redirect_uris"][0], WEB_CB, "{web}");
    // A config import through the admin API too.
    let r = srv
        .http
        .put(srv.at("/admin/api/config"))
        .header("content-type", "application/toml")
        .body("[[clients]]\nclient_id = \"evil\"\nclient_secret = \"s\"\nredirect_uris = [\"vbscript://x/%0amsgbox(1)\"]\n")
        .send()
        .await
        .expect("import");
    let status = r.status().as_u16();
    let e: serde_json::Value = r.json().await.expect("json");
    assert!(status == 400 || status == 422, "{status} {e}");
    assert!(e.to_string().contains("clients[0].redirect_uris[0]"), "{e}");
    assert_eq!(admin(&srv, Method::GET, "/clients/evil", None).await.0, 404);
}

/// Advisory class: stored XSS through a script-scheme redirect URI in a committed config file.
/// `latchkey serve --config` refuses to start and names the file's field.
#[tokio::test]
async fn config_file_refuses_script_scheme_uris() {
    for (field, line) in [
        ("redirect_uris", "redirect_uris = [\"JavaScript://x/%0aalert(1)\"]"),
        (
            "post_logout_redirect_uris",
            "redirect_uris = [\"http://localhost:3000/cb\"]\npost_logout_redirect_uris = [\"data:text/html,x\"]",
        ),
    ] {
        let dir = tempfile::tempdir().expect("dir");
        let cfg = dir.path().join("latchkey.toml");
        std::fs::write(
            &cfg,
            format!("[[clients]]\nclient_id = \"evil\"\nclient_secret = \"s\"\n{line}\n"),
        )
        .expect("write");
        let err = latchkey::start(ServeOptions {
            bind: "127.0.0.1".parse().expect("ip"),
            port: 0,
            db: DbLocation::Memory,
            config: Some(cfg),
            ..Default::default()
        })
        .await
        .err()
        .expect("the server must refuse the config");
        let msg = err.to_string();
        assert!(msg.contains(&format!("clients[0].{field}[0]")), "{msg}");
        assert!(msg.contains("scheme"), "{msg}");
    }
}

/// Advisory class: a stored `javascript:` redirect URI rendered into the form_post page's
/// `action` or sent as a `Location` (stored XSS on the provider's origin; RFC 9700 §4.1).
/// A database written by an older Latchkey (the store used directly, bypassing validation)
/// holds such URIs: no authorization response (success, error, form_post, fragment) and no
/// logout ever renders or redirects to them; the user sees a clear error page instead.
#[tokio::test]
async fn a_stored_script_uri_is_never_rendered_or_redirected_to() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("l.db");
    let evil_cb = "javascript://x/%0aalert(document.domain)";
    let evil_logout = "data:text/html,<script>alert(1)</script>";
    {
        let store = Store::open(&DbLocation::File(db.clone())).await.expect("store");
        let client: Client = serde_json::from_value(json!({
            "client_id": "old",
            "client_secret": "old-secret",
            "redirect_uris": [evil_cb, "VBScript:msgbox(1)"],
            "post_logout_redirect_uris": [evil_logout],
            "grant_types": ["authorization_code", "implicit"],
            "scopes": ["openid", "profile"],
        }))
        .expect("client");
        store
            .upsert_client(&client, 0)
            .await
            .expect("written without validation");
    }
    let srv = spawn_in(dir, CONFIG).await;
    assert!(srv.provider().client("old").is_some(), "the old client is loaded");
    let mut b = srv.browser();

    let assert_refused = |p: &Page, uri: &str| {
        assert_eq!(p.status.as_u16(), 400, "{p:?}");
        assert!(p.location().is_none(), "redirected: {p:?}");
        assert!(p.body.contains("Unsafe redirect URI"), "{}", p.body);
        assert!(!p.body.contains("<form"), "a form was rendered: {}", p.body);
        assert!(
            !p.body.to_ascii_lowercase().contains("action=\"javascript"),
            "{}",
            p.body
        );
        assert!(
            !p.body.contains(&format!("=\"{uri}")),
            "the URI reached an attribute: {}",
            p.body
        );
        p.assert_page_headers();
    };

    // Every response mode, after a real sign-in, and an error response before one.
    for (uri, mode, rt) in [
        (evil_cb, "form_post", "code"),
        (evil_cb, "query", "code"),
        (evil_cb, "fragment", "code"),
        ("VBScript:msgbox(1)", "form_post", "code"),
        (evil_cb, "form_post", "id_token"),
    ] {
        let mut params = vec![
            ("client_id", "old"),
            ("response_type", rt),
            ("redirect_uri", uri),
            ("scope", "openid"),
            ("response_mode", mode),
            ("nonce", "n"),
        ];
        if rt == "code" {
            params.retain(|(k, _)| *k != "nonce");
        }
        let login = b.authorize(&params).await;
        assert!(login.is_login(), "{login:?}");
        let done = b.login(&login, "alice", "alice-password").await;
        assert_refused(&done, uri);
        // Signed in now: the next request answers at once, and is refused the same way.
        let again = b.authorize(&params).await;
        assert_refused(&again, uri);
        b.cookie = None;
    }
    // An error response (unsupported response_type) goes to the redirect URI: refused too.
    let err = b
        .authorize(&[
            ("client_id", "old"),
            ("response_type", "magic"),
            ("redirect_uri", evil_cb),
            ("response_mode", "form_post"),
        ])
        .await;
    assert_refused(&err, evil_cb);

    // Logout: neither the confirmation form nor a redirect carries the data: URI.
    for method in ["GET", "POST"] {
        let pairs = [
            ("client_id", "old"),
            ("post_logout_redirect_uri", evil_logout),
            ("confirm", "yes"),
        ];
        let page = if method == "GET" {
            b.get(&format!("/end_session?{}", form(&pairs))).await
        } else {
            b.post("/end_session", &pairs).await
        };
        assert_eq!(page.status.as_u16(), 400, "{method}: {page:?}");
        assert!(page.location().is_none(), "{page:?}");
        assert!(page.body.contains("Unsafe redirect URI"), "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
    }
}

/// Advisory class: a redirect URI with user information (`https://app.example@evil.example/cb`)
/// reads as one site and goes to another (RFC 3986 §3.2.1 deprecates user information; RFC
/// 9700 §4.1). Refused at registration with a field error, like a script scheme.
#[tokio::test]
async fn admin_api_refuses_redirect_uris_with_user_information() {
    let srv = spawn_default().await;
    for bad in [
        "https://app.example@evil.example/cb",
        "http://user:pass@localhost:3000/cb",
        "http://:secret@localhost:3000/cb",
    ] {
        let body = json!({"client_id": "evil", "client_secret": "s", "redirect_uris": [bad]});
        let (s, e) = admin(&srv, Method::POST, "/clients", Some(body)).await;
        assert_eq!(s, 422, "{bad}: {e}");
        assert_eq!(field_names(&e), vec!["redirect_uris[0]".to_string()], "{bad}: {e}");
        assert!(e.to_string().contains("user information"), "{e}");
    }
}
