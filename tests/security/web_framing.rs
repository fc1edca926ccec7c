//! Framing and content sniffing (issue 9, item 2): every HTML response forbids framing, every
//! response forbids sniffing. The walk below reaches every HTML route Latchkey serves and fails
//! when a new one appears that [`HTML_ROUTES`] does not list.

use std::collections::{BTreeSet, VecDeque};

use latchkey::oauth::paths;
use reqwest::Method;
use serde_json::Value;

use crate::common::*;

/// Every route that answers HTML, as a template (`/admin/*`: the UI's client-side routes,
/// which all get the app shell). A new HTML route must be added here, after checking that its
/// page works under the headers this suite asserts.
const HTML_ROUTES: &[&str] = &[
    "/admin/",
    "/admin/*",
    "/authorize",
    "/login",
    "/consent",
    "/end_session",
    "/device",
];

fn template(path: &str) -> String {
    match path.strip_prefix("/admin/") {
        Some(rest) if !rest.is_empty() && !rest.starts_with("api") => "/admin/*".into(),
        _ => path.to_string(),
    }
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// What the walk found.
#[derive(Default)]
struct Walk {
    html: BTreeSet<String>,
    visited: BTreeSet<(String, String)>,
    queue: VecDeque<String>,
    responses: usize,
}

impl Walk {
    /// Checks one response's headers and records it; returns the body of HTML responses.
    #[track_caller]
    fn check(&mut self, method: &str, path: &str, status: u16, h: &reqwest::header::HeaderMap, body: &str) {
        self.responses += 1;
        assert_eq!(
            header(h, "x-content-type-options"),
            "nosniff",
            "{method} {path} ({status})"
        );
        let is_html = header(h, "content-type").to_ascii_lowercase().starts_with("text/html");
        if !is_html {
            return;
        }
        self.html.insert(template(path));
        assert_eq!(header(h, "x-frame-options"), "DENY", "{method} {path} ({status})");
        let csp = header(h, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{method} {path}: CSP {csp:?}");
        assert_eq!(header(h, "referrer-policy"), "no-referrer", "{method} {path}");
        // Same-origin links, forms and assets of the page are walked too.
        for attr in ["href=\"", "src=\"", "action=\""] {
            for piece in body.split(attr).skip(1) {
                let Some(target) = piece.split('"').next() else {
                    continue;
                };
                let target = target.replace("&amp;", "&");
                if target.starts_with('/') && !target.starts_with("//") {
                    self.queue.push_back(target);
                }
            }
        }
    }
}

async fn send(srv: &TestServer, walk: &mut Walk, method: Method, path: &str, body: Option<(&str, &str)>) {
    if !walk.visited.insert((method.to_string(), path.to_string())) {
        return;
    }
    let mut req = srv.http.request(method.clone(), srv.at(path));
    if let Some((ct, b)) = body {
        req = req.header("content-type", ct).body(b.to_string());
    }
    let r = req.send().await.expect("request");
    let (status, h) = (r.status().as_u16(), r.headers().clone());
    // Only HTML bodies are read (an event stream never ends).
    let text = if header(&h, "content-type").starts_with("text/html") {
        r.text().await.unwrap_or_default()
    } else {
        String::new()
    };
    let bare = path.split('?').next().unwrap_or(path);
    walk.check(method.as_str(), bare, status, &h, &text);
}

/// Advisory class: click-jacking and content sniffing (RFC 9700 §4.16 "Clickjacking": the
/// authorization server MUST prevent framing of its pages, with CSP `frame-ancestors` and
/// `X-Frame-Options`). The admin UI was framable by any site; now every HTML response (UI
/// shell and client-side routes, login, consent, logout, error and form_post pages, the UI's
/// "not built" page) carries `X-Frame-Options: DENY`, CSP `frame-ancestors 'none'` and
/// `Referrer-Policy: no-referrer`, and every response `X-Content-Type-Options: nosniff`.
/// Routes are enumerated from `paths::ALL`, the OpenAPI document, discovery, the UI's route
/// table and the links of the pages themselves; an HTML route missing from `HTML_ROUTES`
/// fails the test.
#[tokio::test]
async fn every_html_response_forbids_framing_and_sniffing() {
    let srv = spawn_default().await;
    let mut walk = Walk::default();
    let form = Some(("application/x-www-form-urlencoded", ""));

    // 1. Every protocol path, both methods, and each must be routed.
    for p in paths::ALL {
        let r = srv.http.get(srv.at(p)).send().await.expect("GET");
        let (status, h) = (r.status().as_u16(), r.headers().clone());
        let body = r.text().await.unwrap_or_default();
        assert!(
            !body.contains("no endpoint at"),
            "{p} is listed in paths::ALL but not routed"
        );
        walk.visited.insert(("GET".into(), p.to_string()));
        walk.check("GET", p, status, &h, &body);
        send(&srv, &mut walk, Method::POST, p, form).await;
    }
    // 2. Every endpoint discovery advertises is among them.
    let disco: Value = srv
        .http
        .get(srv.at(paths::OPENID_CONFIGURATION))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    for (k, v) in disco.as_object().expect("object") {
        if let Some(url) = v.as_str().filter(|_| k.ends_with("_endpoint") || k == "jwks_uri") {
            let path = url.strip_prefix(srv.issuer()).unwrap_or(url);
            assert!(
                paths::ALL.contains(&path),
                "discovery advertises {k} = {url}, which is not in paths::ALL"
            );
        }
    }
    // 3. Every admin API route, by its documented methods.
    let api: Value = srv
        .http
        .get(srv.at("/admin/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    for (path, ops) in api["paths"].as_object().expect("paths") {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "no-such-thing" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for m in ops.as_object().expect("operations").keys() {
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).expect("method");
            if method == Method::DELETE || concrete.ends_with("/rotate") || concrete.ends_with("/config") {
                continue; // changes state without producing anything new to check
            }
            let body = (method != Method::GET).then_some(("application/json", "{}"));
            send(&srv, &mut walk, method, &concrete, body).await;
        }
    }
    // 4. The UI: the shell, its client-side routes (from the UI's own route table), unknown ones.
    let routes =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/routes.tsx")).expect("routes.tsx");
    let mut ui_paths = vec![
        "/".to_string(),
        "/admin".to_string(),
        "/admin/".into(),
        "/admin/no/such/page".into(),
    ];
    for piece in routes.split("path: '").skip(1) {
        let route = piece.split('\'').next().unwrap_or("");
        let route = route
            .split('/')
            .map(|seg| if seg.starts_with(':') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        ui_paths.push(format!("/admin/{}", route.trim_start_matches('/')));
    }
    for p in &ui_paths {
        send(&srv, &mut walk, Method::GET, p, None).await;
    }
    // 5. The pages of real flows: login (also with an error), consent, form_post, logout
    // confirmation and done, and the error pages.
    let mut b = srv.browser();
    let pages = [
        b.authorize(&[("client_id", "nobody"), ("response_type", "code")]).await,
        b.get("/login?req=expired-or-forged").await,
        {
            let login = b
                .authorize(&[
                    ("client_id", "consent-app"),
                    ("response_type", "code"),
                    ("redirect_uri", CONSENT_CB),
                    ("scope", "openid"),
                ])
                .await;
            let wrong = b.login(&login, "alice", "wrong").await;
            walk.check("POST", "/login", wrong.status.as_u16(), &wrong.headers, &wrong.body);
            let consent = b.login(&wrong, "alice", "alice-password").await;
            assert!(consent.is_consent(), "{consent:?}");
            walk.check(
                "POST",
                "/login",
                consent.status.as_u16(),
                &consent.headers,
                &consent.body,
            );
            login
        },
        b.authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("response_mode", "form_post"),
        ])
        .await,
        b.get("/end_session").await,
        b.post("/end_session", &[("confirm", "yes")]).await,
    ];
    let names = [
        "/authorize",
        "/login",
        "/authorize",
        "/authorize",
        "/end_session",
        "/end_session",
    ];
    for (p, name) in pages.iter().zip(names) {
        assert!(p.header("content-type").starts_with("text/html"), "{name}: {p:?}");
        walk.check("GET", name, p.status.as_u16(), &p.headers, &p.body);
    }
    assert!(
        pages[3]
            .body
            .contains("method=\"post\" action=\"http://localhost:3000/callback\""),
        "form_post page: {:?}",
        pages[3]
    );
    // 6. Follow what the pages link to (assets of the UI, form targets), two levels deep.
    for _ in 0..2 {
        let queue: Vec<String> = walk.queue.drain(..).collect();
        for p in queue {
            send(&srv, &mut walk, Method::GET, &p, None).await;
        }
    }

    let listed: BTreeSet<String> = HTML_ROUTES.iter().map(|s| s.to_string()).collect();
    let unlisted: Vec<&String> = walk.html.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "new HTML routes {unlisted:?}: add them to HTML_ROUTES once their pages work under these headers"
    );
    let unseen: Vec<&String> = listed.difference(&walk.html).collect();
    assert!(unseen.is_empty(), "the walk never reached {unseen:?}");
    assert!(walk.responses > 60, "only {} responses checked", walk.responses);
}

/// Advisory class: click-jacking of an admin console (the admin UI answered without any
/// framing protection, so any site could frame it and trick a click on "revoke" or "rotate
/// keys"). The shell and its client-side routes carry a full CSP for the Vite app (scripts and
/// connections to its own origin only) with `frame-ancestors 'none'`; its scripts and styles
/// carry `nosniff`.
#[tokio::test]
async fn the_admin_ui_and_its_routes_cannot_be_framed() {
    let srv = spawn_default().await;
    for p in ["/admin/", "/admin/clients", "/admin/tokens/some-id", "/admin/settings"] {
        let r = srv.http.get(srv.at(p)).send().await.expect("GET");
        let h = r.headers().clone();
        let body = r.text().await.expect("body");
        assert_eq!(header(&h, "x-frame-options"), "DENY", "{p}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{p}");
        assert_eq!(header(&h, "referrer-policy"), "no-referrer", "{p}");
        let csp = header(&h, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{p}: {directive} missing from {csp}");
        }
        // The built app's scripts and styles are never sniffed as something else.
        for piece in body.split("src=\"").skip(1).chain(body.split("href=\"").skip(1)) {
            let target = piece.split('"').next().unwrap_or("");
            if target.starts_with("/admin/assets/") {
                let a = srv.http.get(srv.at(target)).send().await.expect("asset");
                assert_eq!(a.status().as_u16(), 200, "{target}");
                assert_eq!(header(a.headers(), "x-content-type-options"), "nosniff", "{target}");
                let ct = header(a.headers(), "content-type");
                assert!(
                    ct.contains("javascript") || ct.contains("css") || ct.starts_with("image/") || ct.contains("font"),
                    "{target}: {ct}"
                );
            }
        }
    }
}
