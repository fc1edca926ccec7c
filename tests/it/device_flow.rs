//! The device authorization grant (RFC 8628): an independent client (the `oauth2` crate) end to
//! end, every polling error, expiry on the virtual clock, approval through the admin API, the
//! verification page over HTTP, and the limits on wrong user codes (§5.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestServer, basic, reply, spawn};

const DEVICE_URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

const CONFIG: &str = r#"
[[scopes]]
name = "read"
description = "Read things"

[[clients]]
client_id = "tv"
name = "Living-room TV"
token_endpoint_auth_method = "none"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
scopes = ["openid", "profile", "read"]

[[clients]]
client_id = "cli"
client_secret = "cli-secret"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["read"]

[[clients]]
client_id = "backend"
client_secret = "backend-secret"
scopes = ["read"]

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com" }

[[users]]
username = "bob"
"#;

/// Starts a device flow for the public client `tv`.
async fn start(s: &TestServer, scope: &str) -> Value {
    let r = s
        .post_form("/device_authorization", None, &[("client_id", "tv"), ("scope", scope)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header("cache-control"), "no-store");
    r.json
}

async fn poll(s: &TestServer, device_code: &str) -> crate::common::Reply {
    s.post_form(
        "/token",
        None,
        &[
            ("grant_type", DEVICE_URN),
            ("device_code", device_code),
            ("client_id", "tv"),
        ],
    )
    .await
}

async fn admin_post(s: &TestServer, path: &str, body: Value) -> crate::common::Reply {
    reply(s.http.post(s.at(path)).json(&body).send().await.expect("request")).await
}

async fn advance(s: &TestServer, secs: i64) {
    let r = admin_post(s, "/admin/api/clock", json!({ "advance": secs })).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn the_oauth2_crate_completes_a_device_flow_approved_through_the_admin_api() {
    let s = spawn(CONFIG).await;
    let http = crate::common::http_client();
    let client = BasicClient::new(ClientId::new("tv".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_device_authorization_url(DeviceAuthorizationUrl::new(s.at("/device_authorization")).expect("url"))
        .set_token_uri(TokenUrl::new(s.at("/token")).expect("url"));
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("read".into()))
        .request_async(&http)
        .await
        .expect("device authorization");
    let code = details.user_code().secret().clone();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(&code[4..5], "-");
    assert!(
        code.chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{code}"
    );
    let device_page = format!("{}/device", s.issuer());
    assert_eq!(details.verification_uri().as_str(), device_page);
    assert_eq!(
        details.verification_uri_complete().map(|u| u.secret().clone()),
        Some(format!("{device_page}?user_code={code}"))
    );
    assert_eq!(details.expires_in(), Duration::from_secs(600));
    assert_eq!(details.interval(), Duration::from_secs(5));

    // The crate polls, then sleeps `interval`: the "sleep" moves the virtual clock instead and,
    // after the second pending answer, approves as alice through the admin API.
    let sleeps = Arc::new(AtomicUsize::new(0));
    let (http2, base, user_code) = (s.http.clone(), s.at(""), code.clone());
    let counter = sleeps.clone();
    let sleep = move |d: Duration| {
        let (http, base, user_code, counter) = (http2.clone(), base.clone(), user_code.clone(), counter.clone());
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let secs = i64::try_from(d.as_secs()).expect("secs");
            http.post(format!("{base}/admin/api/clock"))
                .json(&json!({ "advance": secs }))
                .send()
                .await
                .expect("clock");
            if n == 1 {
                let r = http
                    .post(format!("{base}/admin/api/device-codes/{user_code}/approve"))
                    .json(&json!({ "username": "alice" }))
                    .send()
                    .await
                    .expect("approve");
                assert_eq!(r.status(), StatusCode::OK);
            }
        }
    };
    let tok = client
        .exchange_device_access_token(&details)
        .request_async(&http, sleep, None)
        .await
        .expect("tokens after approval");
    assert_eq!(sleeps.load(Ordering::SeqCst), 2, "pending twice, then the tokens");
    let at = claims(tok.access_token().secret());
    assert_eq!(at["client_id"], "tv");
    assert_eq!(at["scope"], "openid read");
    assert!(tok.refresh_token().is_some(), "tv has the refresh_token grant");

    // The token records the grant type and belongs to the device request's grant.
    let list = reply(
        s.http
            .get(s.at("/admin/api/tokens?username=alice&kind=access_token"))
            .send()
            .await
            .expect("tokens"),
    )
    .await;
    let item = &list.json["items"][0];
    assert_eq!(item["grant_type"], DEVICE_URN, "{list:?}");
    let devices = s.get("/admin/api/device-codes").await;
    assert_eq!(devices.json[0]["status"], "used", "{devices:?}");
    assert_eq!(devices.json[0]["username"], "alice");
    assert_eq!(devices.json[0]["id"], item["grant_id"]);
    // Polling again after the tokens were issued: the code is used up.
    let again = poll(&s, details.device_code().secret()).await;
    again.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn every_polling_answer_has_its_rfc_8628_error_and_status() {
    let s = spawn(CONFIG).await;
    let d = start(&s, "openid read").await;
    let dc = d["device_code"].as_str().unwrap();
    let uc = d["user_code"].as_str().unwrap();

    // Pending, then too fast: slow_down, and the interval grows by 5 s (RFC 8628 §3.5).
    poll(&s, dc).await.assert_error(400, "authorization_pending");
    let fast = poll(&s, dc).await;
    fast.assert_error(400, "slow_down");
    assert!(
        fast.json["error_description"].as_str().unwrap().contains("now 10 s"),
        "{fast:?}"
    );
    let list = s.get("/admin/api/device-codes").await;
    assert_eq!(list.json[0]["interval"], 10);
    // 5 s later is still too early for the new 10 s interval.
    advance(&s, 5).await;
    poll(&s, dc).await.assert_error(400, "slow_down");
    advance(&s, 15).await;
    poll(&s, dc).await.assert_error(400, "authorization_pending");

    // Another client cannot poll tv's code; unknown and missing codes.
    let other = s
        .post_form(
            "/token",
            Some(&basic("cli", "cli-secret")),
            &[("grant_type", DEVICE_URN), ("device_code", dc)],
        )
        .await;
    other.assert_error(400, "invalid_grant");
    poll(&s, "not-a-device-code").await.assert_error(400, "invalid_grant");
    s.post_form("/token", None, &[("grant_type", DEVICE_URN), ("client_id", "tv")])
        .await
        .assert_error(400, "invalid_request");

    // Denied: access_denied, and it stays denied.
    let r = admin_post(&s, &format!("/admin/api/device-codes/{uc}/deny"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["status"], "denied");
    advance(&s, 20).await;
    poll(&s, dc).await.assert_error(400, "access_denied");

    // Expiry follows the virtual clock: expired_token.
    let d2 = start(&s, "read").await;
    let dc2 = d2["device_code"].as_str().unwrap();
    advance(&s, 599).await;
    poll(&s, dc2).await.assert_error(400, "authorization_pending");
    advance(&s, 1).await;
    let expired = poll(&s, dc2).await;
    expired.assert_error(400, "expired_token");
    // An expired code cannot be approved either, and it leaves the list.
    let late = admin_post(
        &s,
        &format!("/admin/api/device-codes/{}/approve", d2["user_code"].as_str().unwrap()),
        json!({"username": "alice"}),
    )
    .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND, "{late:?}");
    assert_eq!(s.get("/admin/api/device-codes").await.json, json!([]));

    // Approved: tokens, with an id_token for openid.
    let d3 = start(&s, "openid read").await;
    let r = admin_post(
        &s,
        &format!(
            "/admin/api/device-codes/{}/approve",
            d3["user_code"].as_str().unwrap().to_lowercase().replace('-', "")
        ),
        json!({"username": "alice"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "case and dash do not matter: {r:?}");
    let ok = poll(&s, d3["device_code"].as_str().unwrap()).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.json["token_type"], "Bearer");
    assert_eq!(ok.json["scope"], "openid read");
    let id = claims(ok.json["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], "tv");
    assert_eq!(claims(ok.json["access_token"].as_str().unwrap())["sub"], id["sub"]);
}

#[tokio::test]
async fn the_device_authorization_endpoint_checks_the_client_and_the_scope() {
    let s = spawn(CONFIG).await;
    // A confidential client authenticates as at the token endpoint.
    let ok = s
        .post_form("/device_authorization", Some(&basic("cli", "cli-secret")), &[])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    let bad = s
        .post_form("/device_authorization", Some(&basic("cli", "wrong")), &[])
        .await;
    bad.assert_error(401, "invalid_client");
    assert!(bad.header("www-authenticate").starts_with("Basic"), "{bad:?}");
    s.post_form("/device_authorization", Some(&basic("backend", "backend-secret")), &[])
        .await
        .assert_error(400, "unauthorized_client");
    s.post_form(
        "/device_authorization",
        None,
        &[("client_id", "tv"), ("scope", "write")],
    )
    .await
    .assert_error(400, "invalid_scope");
    s.post_form("/device_authorization", None, &[])
        .await
        .assert_error(401, "invalid_client");

    // The request log shows the request, with the device code redacted and copy-as-curl.
    let log = s.get("/admin/api/requests").await.json;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/device_authorization" && e["status"] == 200)
        .expect("logged")
        .clone();
    assert_eq!(entry["client_id"], "cli");
    assert_eq!(entry["response_body"]["device_code"], "[redacted]", "{entry}");
    assert!(entry["response_body"]["user_code"].is_string());
    assert!(
        entry["curl"].as_str().unwrap().contains("/device_authorization"),
        "{entry}"
    );

    // Discovery tells the truth.
    let doc = s.get("/.well-known/openid-configuration").await.json;
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{}/device_authorization", s.issuer())
    );
    let grants: Vec<&str> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(grants.contains(&DEVICE_URN), "{grants:?}");
    assert!(
        grants.contains(&"urn:ietf:params:oauth:grant-type:token-exchange"),
        "{grants:?}"
    );
}

#[tokio::test]
async fn the_admin_api_approves_and_denies_only_pending_codes_with_clear_errors() {
    let s = spawn(CONFIG).await;
    let d = start(&s, "read").await;
    let uc = d["user_code"].as_str().unwrap();
    let list = s.get("/admin/api/device-codes").await;
    assert_eq!(list.json[0]["user_code"], uc);
    assert_eq!(list.json[0]["status"], "pending");
    assert_eq!(list.json[0]["client_name"], "Living-room TV");
    assert_eq!(
        list.json[0]["verification_uri_complete"],
        d["verification_uri_complete"]
    );
    assert!(list.json[0].get("device_code").is_none(), "the device code is a secret");

    let nobody = admin_post(
        &s,
        &format!("/admin/api/device-codes/{uc}/approve"),
        json!({"username": "nobody"}),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY, "{nobody:?}");
    let malformed = admin_post(
        &s,
        "/admin/api/device-codes/AAAA-AAAA/approve",
        json!({"username": "alice"}),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{malformed:?}");
    let unknown = admin_post(
        &s,
        "/admin/api/device-codes/BBBB-BBBB/approve",
        json!({"username": "alice"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{unknown:?}");
    let first = admin_post(
        &s,
        &format!("/admin/api/device-codes/{uc}/approve"),
        json!({"username": "bob"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(first.json["username"], "bob");
    let twice = admin_post(&s, &format!("/admin/api/device-codes/{uc}/deny"), json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{twice:?}");
    let extra = admin_post(
        &s,
        &format!("/admin/api/device-codes/{uc}/approve"),
        json!({"user": "bob"}),
    )
    .await;
    assert_eq!(
        extra.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused: {extra:?}"
    );

    // A reset forgets every device request: the device starts again.
    let d2 = start(&s, "read").await;
    let r = admin_post(&s, "/admin/api/reset", json!({})).await;
    assert!(r.status.is_success(), "{r:?}");
    assert_eq!(s.get("/admin/api/device-codes").await.json, json!([]));
    poll(&s, d2["device_code"].as_str().unwrap())
        .await
        .assert_error(400, "invalid_grant");

    // The OpenAPI document lists the endpoints.
    let doc = s.get("/admin/api/openapi.json").await.json;
    assert!(doc["paths"]["/admin/api/device-codes"]["get"].is_object());
    assert!(doc["paths"]["/admin/api/device-codes/{user_code}/approve"]["post"].is_object());
    assert!(doc["paths"]["/admin/api/device-codes/{user_code}/deny"]["post"].is_object());
}

/// A browser: its own cookies (every cookie here is for `/device` or `/`), no redirects.
#[derive(Clone, Default)]
struct Browser {
    jar: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Browser {
    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&self, r: reqwest::Response) -> Page {
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (k, v) = c.split(';').next().unwrap().split_once('=').unwrap();
            let mut jar = self.jar.lock().unwrap();
            jar.retain(|(n, _)| n != k);
            jar.push((k.to_string(), v.to_string()));
        }
        let (status, headers) = (r.status(), r.headers().clone());
        Page {
            status,
            headers,
            html: r.text().await.unwrap(),
        }
    }

    async fn get(&self, url: &str) -> Page {
        let r = crate::common::http_client()
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(r).await
    }

    async fn post(&self, s: &TestServer, pairs: &[(&str, &str)]) -> Page {
        let r = crate::common::http_client()
            .post(s.at("/device"))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::common::form(pairs))
            .send()
            .await
            .unwrap();
        self.keep(r).await
    }
}

#[tokio::test]
async fn the_verification_page_signs_in_asks_and_approves_over_plain_forms() {
    let s = spawn(CONFIG).await;
    let d = start(&s, "openid read").await;
    let uc = d["user_code"].as_str().unwrap();
    let b = Browser::default();
    // verification_uri_complete: the code is shown for a visual match, nothing is approved yet.
    let pg = b.get(d["verification_uri_complete"].as_str().unwrap()).await;
    assert_eq!(pg.status, StatusCode::OK);
    let set: Vec<String> = pg
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        set.iter().any(|c| c.starts_with("latchkey_device=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")
            && c.contains("Path=/device")),
        "{set:?}"
    );
    assert!(
        pg.html.contains(&format!("data-testid=\"device-user-code\">{uc}<")),
        "{}",
        pg.html
    );
    assert!(pg.html.contains("Living-room TV"));
    assert!(pg.html.contains("data-testid=\"persona-alice\""));
    // Sign in with a persona: the consent step, with a session cookie.
    let pg = b
        .post(&s, &[("user_code", uc), ("step", "signin"), ("persona", "alice")])
        .await;
    assert_eq!(pg.status, StatusCode::OK);
    assert!(pg.html.contains("data-testid=\"device-consent-title\""), "{}", pg.html);
    assert!(pg.html.contains("data-testid=\"device-scope-read\""));
    poll(&s, d["device_code"].as_str().unwrap())
        .await
        .assert_error(400, "authorization_pending");
    let pg = b
        .post(&s, &[("user_code", uc), ("step", "consent"), ("decision", "approve")])
        .await;
    assert_eq!(pg.status, StatusCode::OK);
    assert!(pg.html.contains("data-testid=\"device-done-title\""), "{}", pg.html);
    let ok = poll(&s, d["device_code"].as_str().unwrap()).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    let id = claims(ok.json["id_token"].as_str().unwrap());
    assert!(id.get("name").is_none(), "profile was not asked: {id}");

    // The same browser, now signed in, continues as alice and can deny another code; typing it
    // in lower case without the dash works.
    let d2 = start(&s, "read").await;
    let uc2 = d2["user_code"].as_str().unwrap();
    let typed = uc2.to_lowercase().replace('-', "");
    let pg = b.post(&s, &[("user_code", &typed), ("step", "code")]).await;
    assert_eq!(pg.status, StatusCode::OK);
    assert!(pg.html.contains("data-testid=\"device-continue\""), "{}", pg.html);
    let pg = b
        .post(&s, &[("user_code", uc2), ("step", "signin"), ("continue", "1")])
        .await;
    assert!(pg.html.contains("data-testid=\"device-consent-title\""), "{}", pg.html);
    let pg = b
        .post(&s, &[("user_code", uc2), ("step", "consent"), ("decision", "deny")])
        .await;
    assert!(pg.html.contains("data-testid=\"device-denied-title\""), "{}", pg.html);
    poll(&s, d2["device_code"].as_str().unwrap())
        .await
        .assert_error(400, "access_denied");
    // Answered codes say so.
    let pg = b.post(&s, &[("user_code", uc2), ("step", "code")]).await;
    assert_eq!(pg.status, StatusCode::BAD_REQUEST);
    assert!(pg.html.contains("Already denied"), "{}", pg.html);

    // A form posted without the page's cookie (another site's form) signs nobody in.
    let d3 = start(&s, "read").await;
    let uc3 = d3["user_code"].as_str().unwrap();
    let bare = Browser::default();
    let pg = bare
        .post(&s, &[("user_code", uc3), ("step", "signin"), ("persona", "alice")])
        .await;
    assert!(
        pg.headers
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("latchkey_session=")),
        "{:?}",
        pg.headers
    );
    assert!(pg.html.contains("did not send the cookie"), "{}", pg.html);
    // Approval needs a signed-in session.
    let fresh = Browser::default();
    fresh.get(&s.at("/device")).await;
    let pg = fresh
        .post(&s, &[("user_code", uc3), ("step", "consent"), ("decision", "approve")])
        .await;
    assert!(pg.html.contains("Sign in first"), "{}", pg.html);
    poll(&s, d3["device_code"].as_str().unwrap())
        .await
        .assert_error(400, "authorization_pending");
}

#[tokio::test]
async fn wrong_user_codes_are_rate_limited_per_browser_and_overall() {
    let s = spawn(CONFIG).await;
    let d = start(&s, "read").await;
    let uc = d["user_code"].as_str().unwrap();
    let with_code = format!("{}?user_code={uc}", s.at("/device"));
    let guesser = Browser::default();
    guesser.get(&s.at("/device")).await;
    for i in 0..5 {
        let pg = guesser.post(&s, &[("user_code", "BCDF-GHJK"), ("step", "code")]).await;
        assert_eq!(pg.status, StatusCode::BAD_REQUEST, "attempt {i}");
        assert!(pg.html.contains("data-testid=\"device-error\""), "{}", pg.html);
    }
    // The sixth attempt is refused without a look-up, even with the right code.
    let pg = guesser.post(&s, &[("user_code", uc), ("step", "code")]).await;
    assert_eq!(pg.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(pg.headers.get("retry-after").is_some());
    assert!(
        pg.html.contains("data-testid=\"device-too-many\"") && pg.html.contains("in this browser"),
        "{}",
        pg.html
    );
    // A GET with a code counts too.
    assert_eq!(guesser.get(&with_code).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Another browser is not affected.
    assert_eq!(Browser::default().get(&with_code).await.status, StatusCode::OK);
    // A minute later (virtual clock) the guesser may try again.
    advance(&s, 60).await;
    assert_eq!(
        guesser.post(&s, &[("user_code", uc), ("step", "code")]).await.status,
        StatusCode::OK
    );

    // Overall: many browsers together get 60 wrong codes a minute, then everyone waits.
    advance(&s, 60).await;
    for _ in 0..12 {
        let b = Browser::default();
        b.get(&s.at("/device")).await;
        for _ in 0..5 {
            b.post(&s, &[("user_code", "ZZZZ-ZZZZ"), ("step", "code")]).await;
        }
    }
    let pg = Browser::default().get(&with_code).await;
    assert_eq!(pg.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(pg.html.contains("on this server"), "{}", pg.html);
}

#[tokio::test]
async fn the_oauth2_crate_and_the_server_agree_on_slow_down() {
    let s = spawn(CONFIG).await;
    let http = crate::common::http_client();
    let client = BasicClient::new(ClientId::new("tv".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_device_authorization_url(DeviceAuthorizationUrl::new(s.at("/device_authorization")).expect("url"))
        .set_token_uri(TokenUrl::new(s.at("/token")).expect("url"));
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("read".into()))
        .request_async(&http)
        .await
        .expect("device authorization");
    // The first "sleep" does not move the clock (the device polls too fast: slow_down, and the
    // crate's interval grows by 5 s like the server's); later ones move it by what the crate
    // asks, and the third approves.
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (http2, base, code, log) = (
        s.http.clone(),
        s.at(""),
        details.user_code().secret().clone(),
        asked.clone(),
    );
    let sleep = move |d: Duration| {
        let (http, base, code, log) = (http2.clone(), base.clone(), code.clone(), log.clone());
        async move {
            let n = {
                let mut l = log.lock().unwrap();
                l.push(d.as_secs());
                l.len()
            };
            if n > 1 {
                let secs = i64::try_from(d.as_secs()).expect("secs");
                http.post(format!("{base}/admin/api/clock"))
                    .json(&json!({ "advance": secs }))
                    .send()
                    .await
                    .expect("clock");
            }
            if n == 3 {
                http.post(format!("{base}/admin/api/device-codes/{code}/approve"))
                    .json(&json!({ "username": "bob" }))
                    .send()
                    .await
                    .expect("approve");
            }
        }
    };
    let tok = client
        .exchange_device_access_token(&details)
        .request_async(&http, sleep, None)
        .await
        .expect("tokens");
    assert_eq!(
        *asked.lock().unwrap(),
        vec![5, 10, 10],
        "pending; slow_down (the crate now waits 10 s); pending; tokens"
    );
    assert_eq!(claims(tok.access_token().secret())["scope"], "read");
    let list = s.get("/admin/api/device-codes").await;
    assert_eq!(list.json[0]["interval"], 10, "{list:?}");
}
