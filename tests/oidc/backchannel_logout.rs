//! OpenID Connect Back-Channel Logout 1.0 against a receiving HTTP server on 127.0.0.1:0: the
//! logout token verified by an independent library (`jsonwebtoken`, used only as a verifier
//! against the JWKS fetched over HTTP), §2.8's success statuses, failing, slow and unreachable
//! receivers, `sid` in id_tokens, and the admin API's sessions (end one, send logout now).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::StatusCode as AxStatus;
use axum::response::IntoResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

/// What the receiver got: the path, the content type and the `logout_token`.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    content_type: String,
    logout_token: String,
}

/// A relying party's back-channel logout endpoints on 127.0.0.1:0: `/ok204` and `/ok200`
/// succeed, `/fail500` and `/fail404` fail, `/redirect` answers 302, `/slow` answers after 5 s.
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = got.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let log = log.clone();
            async move {
                let path = req.uri().path().to_string();
                let content_type = req
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let body = axum::body::to_bytes(req.into_body(), 1 << 16).await.unwrap();
                let logout_token = url::form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                log.lock().unwrap().push(Received {
                    path: path.clone(),
                    content_type,
                    logout_token,
                });
                match path.as_str() {
                    "/ok204" => AxStatus::NO_CONTENT.into_response(),
                    "/ok200" => AxStatus::OK.into_response(),
                    "/fail404" => AxStatus::NOT_FOUND.into_response(),
                    "/redirect" => (AxStatus::FOUND, [("location", "/ok200")]).into_response(),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        AxStatus::OK.into_response()
                    }
                    _ => (AxStatus::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "boom"}))).into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// A loopback URL nothing listens on.
async fn unreachable_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/gone")
}

fn config(clients: &[(&str, Option<String>)], timeout: u64) -> String {
    let mut c = format!("[server]\nbackchannel_logout_timeout = {timeout}\n\n");
    for (id, uri) in clients {
        c.push_str(&format!(
            "[[clients]]\nclient_id = \"{id}\"\nclient_secret = \"{id}-secret\"\nredirect_uris = [\"http://localhost:3000/{id}\"]\n\
             post_logout_redirect_uris = [\"http://localhost:3000/bye\"]\nscopes = [\"openid\", \"profile\", \"offline_access\"]\n"
        ));
        if let Some(u) = uri {
            c.push_str(&format!(
                "backchannel_logout_uri = \"{u}\"\nbackchannel_logout_session_required = true\n"
            ));
        }
        c.push('\n');
    }
    c.push_str("[[users]]\nusername = \"alice\"\npassword = \"alice-password\"\nclaims = { name = \"Alice\" }\n");
    c
}

/// Signs `b` in to `client_id` (the login page the first time, single sign-on after) and
/// exchanges the code; returns the token response.
async fn sign_in_to(srv: &TestServer, b: &mut Browser, client_id: &str) -> Reply {
    sign_in_with(srv, b, client_id, "openid profile").await
}

async fn sign_in_with(srv: &TestServer, b: &mut Browser, client_id: &str, scope: &str) -> Reply {
    let redirect = format!("http://localhost:3000/{client_id}");
    let page = b
        .authorize(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", &redirect),
            ("scope", scope),
            ("nonce", "n-0S6_WzA2Mj"),
        ])
        .await;
    let done = if page.is_login() {
        b.login(&page, "alice", "alice-password").await
    } else {
        page
    };
    let cb = Callback::parse(done.redirect());
    let secret = format!("{client_id}-secret");
    srv.token(
        Some((client_id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", cb.q("code")),
            ("redirect_uri", &redirect),
        ],
    )
    .await
}

async fn admin(srv: &TestServer, method: reqwest::Method, path: &str) -> Reply {
    let r = srv
        .http
        .request(method, srv.at(&format!("/admin/api{path}")))
        .send()
        .await
        .expect("admin request");
    Reply::from(r).await
}

/// Verifies a logout token with `jsonwebtoken` against the JWKS fetched over HTTP: signature,
/// `iss`, `aud`, `exp` and the presence of `iat`, `jti`, `sub`; returns the header's `typ` and
/// the claims.
async fn verify_logout_token(srv: &TestServer, token: &str, client_id: &str) -> (Option<String>, Value) {
    let jwks: jsonwebtoken::jwk::JwkSet = srv
        .http
        .get(srv.at("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    let kid = header.kid.clone().expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a usable JWK");
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[client_id]);
    v.set_issuer(&[srv.issuer()]);
    v.set_required_spec_claims(&["iss", "aud", "exp", "iat", "jti", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &v).expect("the logout token verifies");
    (header.typ, data.claims)
}

/// The session (by `sid`) as the admin API shows it.
async fn session(srv: &TestServer, sid: &str) -> Value {
    let r = admin(srv, reqwest::Method::GET, &format!("/sessions/{sid}")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json
}

fn logouts_of<'a>(s: &'a Value, client_id: &str) -> &'a Vec<Value> {
    s["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == client_id)
        .unwrap_or_else(|| panic!("{client_id} is not a client of {s}"))["logouts"]
        .as_array()
        .unwrap()
}

#[tokio::test]
async fn end_session_posts_a_logout_token_that_an_independent_verifier_accepts() {
    let rx = Receiver::start().await;
    let srv = spawn(&config(
        &[("rp", Some(format!("{}/ok204", rx.base))), ("plain", None)],
        5,
    ))
    .await;
    let meta: Value = srv
        .http
        .get(srv.at("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["backchannel_logout_supported"], true);
    assert_eq!(meta["backchannel_logout_session_supported"], true);
    assert!(meta["claims_supported"].as_array().unwrap().contains(&json!("sid")));

    let mut b = srv.browser();
    let tokens = sign_in_to(&srv, &mut b, "rp").await;
    let id_token = tokens.ok("id_token");
    let id_claims = jwt_claims(&id_token);
    let sid = id_claims["sid"].as_str().expect("sid in the id_token").to_string();
    let offline = sign_in_with(&srv, &mut b, "plain", "openid offline_access").await;

    // The sid survives a refresh (every id_token of the grant names the session).
    let refreshed = srv
        .token(
            Some(("rp", "rp-secret")),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &tokens.ok("refresh_token")),
            ],
        )
        .await;
    assert_eq!(jwt_claims(&refreshed.ok("id_token"))["sid"], sid.as_str());

    let before = session(&srv, &sid).await;
    assert_eq!(before["username"], "alice");
    assert!(before.get("ended_at").is_none());
    let ids: Vec<&str> = before["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rp", "plain"]);

    let bye = b
        .get(&format!(
            "/end_session?{}",
            form(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "http://localhost:3000/bye")
            ])
        ))
        .await;
    assert_eq!(bye.redirect(), "http://localhost:3000/bye");
    // Sent before the browser was answered.
    let got = rx.got();
    assert_eq!(got.len(), 1, "one logout, to the one client with a URI: {got:?}");
    assert_eq!(got[0].path, "/ok204");
    assert_eq!(got[0].content_type, "application/x-www-form-urlencoded");

    let (typ, claims) = verify_logout_token(&srv, &got[0].logout_token, "rp").await;
    assert_eq!(typ.as_deref(), Some("logout+jwt"));
    assert_eq!(claims["iss"], srv.issuer());
    assert_eq!(claims["aud"], "rp");
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(
        claims["events"],
        json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    assert!(
        claims.get("nonce").is_none(),
        "§2.4: a logout token never carries a nonce"
    );
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 300, "{claims}");
    assert!(!claims["jti"].as_str().unwrap().is_empty());

    // The outcome is on the session, and in the request log.
    let after = session(&srv, &sid).await;
    assert_eq!(after["end_reason"], "end_session");
    let l = &logouts_of(&after, "rp")[0];
    assert_eq!(
        (l["outcome"].as_str(), l["status"].as_u64()),
        (Some("delivered"), Some(204)),
        "{l}"
    );
    assert_eq!(l["trigger"], "end_session");
    assert_eq!(l["claims"]["jti"], claims["jti"]);
    let entry = admin(&srv, reqwest::Method::GET, &format!("/requests/{}", l["request_id"])).await;
    assert_eq!(entry.status, StatusCode::OK, "{entry:?}");
    assert_eq!(entry.json["status"], 204);
    assert_eq!(entry.json["path"], format!("{}/ok204", rx.base));
    assert_eq!(entry.json["outbound"]["kind"], "backchannel_logout");
    assert_eq!(entry.json["client_id"], "rp");
    assert!(
        !entry.json.to_string().contains(&got[0].logout_token),
        "the token is redacted in the log"
    );
    assert!(
        entry.json["curl"].as_str().unwrap().contains("LOGOUT_TOKEN"),
        "{}",
        entry.json["curl"]
    );

    // §2.7: the session's refresh tokens are revoked, except those with offline_access.
    let dead = srv
        .token(
            Some(("rp", "rp-secret")),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refreshed.ok("refresh_token")),
            ],
        )
        .await;
    dead.assert_error(400, "invalid_grant");
    let at = Reply::from(
        srv.http
            .post(srv.at("/introspect"))
            .header("authorization", basic("rp", "rp-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", &refreshed.ok("access_token"))]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(at.json["active"], true, "access tokens stay: {at:?}");
    let kept = srv
        .token(
            Some(("plain", "plain-secret")),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &offline.ok("refresh_token")),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{kept:?}");

    // The browser is signed out: the next authorization asks again.
    let page = b
        .authorize(&[
            ("client_id", "rp"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:3000/rp"),
            ("scope", "openid"),
        ])
        .await;
    assert!(page.is_login());
}

#[tokio::test]
async fn success_and_failure_statuses_and_unreachable_receivers_are_recorded() {
    let rx = Receiver::start().await;
    let gone = unreachable_url().await;
    let srv = spawn(&config(
        &[
            ("a204", Some(format!("{}/ok204", rx.base))),
            ("a200", Some(format!("{}/ok200", rx.base))),
            ("a500", Some(format!("{}/fail500", rx.base))),
            ("a404", Some(format!("{}/fail404", rx.base))),
            ("a302", Some(format!("{}/redirect", rx.base))),
            ("agone", Some(gone.clone())),
        ],
        5,
    ))
    .await;
    let mut b = srv.browser();
    let mut sid = String::new();
    for id in ["a204", "a200", "a500", "a404", "a302", "agone"] {
        let t = sign_in_to(&srv, &mut b, id).await;
        sid = jwt_claims(&t.ok("id_token"))["sid"].as_str().unwrap().to_string();
    }
    let ended = admin(&srv, reqwest::Method::DELETE, &format!("/sessions/{sid}")).await;
    assert_eq!(ended.status, StatusCode::OK, "{ended:?}");
    assert_eq!(ended.json["end_reason"], "admin");
    let outcome = |id: &str| {
        let l = &logouts_of(&ended.json, id)[0];
        assert_eq!(l["trigger"], "admin");
        (
            l["outcome"].as_str().unwrap().to_string(),
            l["status"].as_u64(),
            l["error"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(outcome("a204"), ("delivered".into(), Some(204), String::new()));
    assert_eq!(outcome("a200"), ("delivered".into(), Some(200), String::new()));
    for (id, status) in [("a500", 500), ("a404", 404), ("a302", 302)] {
        let (o, s, e) = outcome(id);
        assert_eq!((o.as_str(), s), ("failed", Some(status)), "{id}");
        assert!(e.contains(&status.to_string()) && e.contains("200 or 204"), "{e}");
    }
    let (o, s, e) = outcome("agone");
    assert_eq!((o.as_str(), s), ("failed", None));
    assert!(e.contains("could not be reached"), "{e}");
    // The redirect was not followed: /ok200 got exactly the one POST of a200.
    let got = rx.got();
    assert_eq!(got.iter().filter(|r| r.path == "/ok200").count(), 1, "{got:?}");

    // Each POST is in the request log with the receiver's status (502: no answer).
    let log = admin(&srv, reqwest::Method::GET, "/requests?limit=50").await;
    let outbound: Vec<&Value> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outbound"].is_object())
        .collect();
    assert_eq!(outbound.len(), 6, "{}", log.json);
    let gone_entry = outbound.iter().find(|e| e["client_id"] == "agone").unwrap();
    assert_eq!(gone_entry["status"], 502);
    assert_eq!(gone_entry["outbound"]["outcome"], "failed");
    assert_eq!(gone_entry["path"], gone);

    // Ended already: 409; unknown: 404.
    let again = admin(&srv, reqwest::Method::DELETE, &format!("/sessions/{sid}")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    let unknown = admin(&srv, reqwest::Method::DELETE, "/sessions/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{unknown:?}");
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_end_session() {
    let rx = Receiver::start().await;
    let srv = spawn(&config(
        &[
            ("slow", Some(format!("{}/slow", rx.base))),
            ("fast", Some(format!("{}/ok204", rx.base))),
        ],
        1,
    ))
    .await;
    let mut b = srv.browser();
    let t = sign_in_to(&srv, &mut b, "slow").await;
    let sid = jwt_claims(&t.ok("id_token"))["sid"].as_str().unwrap().to_string();
    sign_in_to(&srv, &mut b, "fast").await;
    let started = Instant::now();
    let bye = b
        .get(&format!(
            "/end_session?{}",
            form(&[("id_token_hint", &t.ok("id_token"))])
        ))
        .await;
    let took = started.elapsed();
    assert_eq!(bye.status, StatusCode::OK, "{bye:?}");
    assert!(took < Duration::from_millis(2500), "end_session took {took:?}");
    let s = session(&srv, &sid).await;
    let slow = &logouts_of(&s, "slow")[0];
    assert_eq!(slow["outcome"], "failed");
    assert!(
        slow["error"].as_str().unwrap().contains("no answer within 1 s"),
        "{slow}"
    );
    assert_eq!(logouts_of(&s, "fast")[0]["outcome"], "delivered", "sent in parallel");
    let entry = admin(&srv, reqwest::Method::GET, &format!("/requests/{}", slow["request_id"])).await;
    assert_eq!(entry.json["status"], 504);
}

#[tokio::test]
async fn sessions_are_listed_and_send_logout_now_reaches_one_client() {
    let rx = Receiver::start().await;
    let srv = spawn(&config(
        &[
            ("one", Some(format!("{}/ok200", rx.base))),
            ("two", Some(format!("{}/ok204", rx.base))),
            ("none", None),
        ],
        5,
    ))
    .await;
    let mut events = srv
        .http
        .get(srv.at("/admin/api/events"))
        .send()
        .await
        .expect("event stream");
    let mut b = srv.browser();
    let t = sign_in_to(&srv, &mut b, "one").await;
    let sid = jwt_claims(&t.ok("id_token"))["sid"].as_str().unwrap().to_string();
    sign_in_to(&srv, &mut b, "two").await;
    sign_in_to(&srv, &mut b, "none").await;

    let list = admin(&srv, reqwest::Method::GET, "/sessions?state=live&client_id=two").await;
    assert_eq!(list.status, StatusCode::OK, "{list:?}");
    let items = list.json.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sid"], sid.as_str());
    assert!(items[0].get("id").is_none(), "the cookie value is never shown");
    assert!(items[0]["last_used"].as_i64().unwrap() >= items[0]["auth_time"].as_i64().unwrap());
    let bad = admin(&srv, reqwest::Method::GET, "/sessions?state=sideways").await;
    assert_eq!(bad.status.as_u16() / 100, 4, "{bad:?}");

    let sent = admin(
        &srv,
        reqwest::Method::POST,
        &format!("/sessions/{sid}/clients/two/logout"),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{sent:?}");
    assert_eq!(sent.json["outcome"], "delivered");
    assert_eq!(sent.json["trigger"], "send_now");
    assert_eq!(sent.json["status"], 204);
    let got = rx.got();
    assert_eq!(got.len(), 1, "only the one client: {got:?}");
    assert_eq!(got[0].path, "/ok204");
    let (_, claims) = verify_logout_token(&srv, &got[0].logout_token, "two").await;
    assert_eq!(claims["sid"], sid.as_str());
    // The session stays live.
    assert!(session(&srv, &sid).await.get("ended_at").is_none());

    let none = admin(
        &srv,
        reqwest::Method::POST,
        &format!("/sessions/{sid}/clients/none/logout"),
    )
    .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{none:?}");
    let stranger = admin(
        &srv,
        reqwest::Method::POST,
        &format!("/sessions/{sid}/clients/nobody/logout"),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{stranger:?}");

    // The event stream carried the session's life.
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(seen.contains("event: session.started")
        && seen.contains("event: session.updated")
        && seen.contains("event: backchannel_logout.completed"))
    {
        assert!(Instant::now() < deadline, "events so far: {seen}");
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("an event in time")
            .expect("the stream")
            .expect("a chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn backchannel_logout_settings_and_client_fields_are_validated_and_round_trip() {
    let srv = spawn(&config(&[("rp", Some("http://127.0.0.1:9/bc".into()))], 5)).await;
    for (uri, why) in [
        ("ftp://example.com/bc", "http or https"),
        ("/relative", "not an absolute URI"),
        ("https://rp.example/bc#frag", "fragment"),
        ("https://user:pw@rp.example/bc", "user information"),
    ] {
        let r = Reply::from(
            srv.http
                .post(srv.at("/admin/api/clients"))
                .json(&json!({"client_id": "x", "client_secret": "s", "backchannel_logout_uri": uri}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {r:?}");
        assert!(
            r.json.to_string().contains("backchannel_logout_uri") && r.json.to_string().contains(why),
            "{r:?}"
        );
    }
    let r = Reply::from(
        srv.http
            .post(srv.at("/admin/api/clients"))
            .json(&json!({"client_id": "x", "client_secret": "s", "backchannel_logout_session_required": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    // http on a container's host name is allowed.
    let r = Reply::from(
        srv.http
            .post(srv.at("/admin/api/clients"))
            .json(&json!({"client_id": "x", "client_secret": "s", "backchannel_logout_uri": "http://app:3000/bc"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.json["backchannel_logout_uri"], "http://app:3000/bc");

    let mut settings = admin(&srv, reqwest::Method::GET, "/settings").await.json;
    assert_eq!(settings["backchannel_logout_timeout"], 5);
    settings["backchannel_logout_timeout"] = json!(21);
    let r = Reply::from(
        srv.http
            .put(srv.at("/admin/api/settings"))
            .json(&settings)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");

    let exported = srv
        .http
        .get(srv.at("/admin/api/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.contains("backchannel_logout_timeout = 5"), "{exported}");
    assert!(
        exported.contains("backchannel_logout_uri = \"http://127.0.0.1:9/bc\""),
        "{exported}"
    );
    assert!(
        exported.contains("backchannel_logout_session_required = true"),
        "{exported}"
    );
}

/// A client that registered itself chose its logout URI, so the `[fetch]` policy decides where
/// Latchkey may POST for it (the developer's own clients are not limited): with
/// `allowed_hosts` excluding the receiver, the dynamic client's logout is recorded as not sent,
/// and the configured client beside it is still told.
#[tokio::test]
async fn a_dynamically_registered_clients_logout_post_follows_the_fetch_policy() {
    let rx = Receiver::start().await;
    let mut cfg = config(
        &[
            ("own", Some(format!("{}/ok204", rx.base))),
            ("dyn", Some(format!("{}/ok200", rx.base))),
        ],
        5,
    );
    cfg = cfg.replacen(
        "backchannel_logout_session_required = true\n\n[[users]]",
        "backchannel_logout_session_required = true\nregistration = { registered_at = 0 }\n\n[[users]]",
        1,
    );
    cfg.push_str("\n[fetch]\nallowed_hosts = [\"rp.example\"]\n");
    let srv = spawn(&cfg).await;
    let mut b = srv.browser();
    let mut sid = String::new();
    for id in ["own", "dyn"] {
        let t = sign_in_to(&srv, &mut b, id).await;
        sid = jwt_claims(&t.ok("id_token"))["sid"].as_str().unwrap().to_string();
    }
    let ended = admin(&srv, reqwest::Method::DELETE, &format!("/sessions/{sid}")).await;
    assert_eq!(ended.status, StatusCode::OK, "{ended:?}");
    let own = &logouts_of(&ended.json, "own")[0];
    assert_eq!(own["outcome"], "delivered", "{own}");
    let dynamic = &logouts_of(&ended.json, "dyn")[0];
    assert_eq!(dynamic["outcome"], "failed", "{dynamic}");
    let e = dynamic["error"].as_str().unwrap();
    assert!(e.contains("not sent") && e.contains("allowed_hosts"), "{e}");
    let got = rx.got();
    assert!(
        got.iter().all(|r| r.path != "/ok200"),
        "nothing was POSTed for dyn: {got:?}"
    );
}
