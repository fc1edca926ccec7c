//! Each change arrives on `/admin/api/events` with the changed object: tokens issued,
//! introspected, consumed (codes, rotated refresh tokens) and revoked; clients, scopes, users
//! and keys.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

/// Reads SSE events from a streaming response.
struct Stream {
    resp: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(lk: &Lk) -> Stream {
        let resp = lk.http.get(lk.api("/events")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        Stream {
            resp,
            buf: String::new(),
        }
    }

    /// The envelope of the next event named `name` (others skipped), within 2 s.
    async fn next_of(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if event.as_deref() == Some(name) {
                    let env: Value = serde_json::from_str(&data).unwrap();
                    assert_eq!(env["type"], name, "{env}");
                    assert!(env["id"].is_u64() && env["at"].is_i64(), "{env}");
                    return env["data"].clone();
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {name} event within 2 s"))
                .unwrap()
                .unwrap_or_else(|| panic!("the stream ended before {name}"));
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

const REDIRECT: &str = "http://localhost:3000/cb";

/// Authorize and log in as alice with `client_id`: returns the code.
async fn authorization_code(lk: &Lk, client_id: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid read_books"),
            ("state", "s"),
        ])
        .finish();
    let page = lk.http.get(format!("{}/authorize?{q}", lk.url)).send().await.unwrap();
    let flow = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("latchkey_flow="))
        .and_then(|v| v.split(';').next())
        .expect("the flow cookie")
        .to_string();
    let html = page.text().await.unwrap();
    let marker = "name=\"req\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no login form: {html}")) + marker.len();
    let req = &html[start..start + html[start..].find('"').unwrap()];
    let done = lk
        .http
        .post(format!("{}/login", lk.url))
        .header("cookie", format!("latchkey_flow={flow}"))
        .form(&[("req", req), ("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(done.status().is_redirection(), "{done:?}");
    let location = url::Url::parse(done.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .1
        .into_owned()
}

async fn token(lk: &Lk, client: (&str, &str), form: &[(&str, &str)]) -> Value {
    let r = lk
        .http
        .post(format!("{}/token", lk.url))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn every_change_arrives_with_its_object() {
    let lk = start().await;
    let mut es = Stream::open(&lk).await;

    // Registry changes.
    let (s, _) = lk
        .post("/scopes", json!({"name": "ev_scope", "description": "d"}))
        .await;
    assert_eq!(s, 201);
    let scope = es.next_of("scope.created").await;
    assert_eq!(
        (scope["name"].as_str(), scope["description"].as_str()),
        (Some("ev_scope"), Some("d"))
    );

    let rp = json!({
        "client_id": "ev-rp",
        "client_secret": "ev-rp-secret-0123456789",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "read_books"],
        "require_consent": false
    });
    let (s, v) = lk.post("/clients", rp.clone()).await;
    assert_eq!(s, 201, "{v}");
    let created = es.next_of("client.created").await;
    assert_eq!(created["client_id"], "ev-rp");
    assert_eq!(created["redirect_uris"], json!([REDIRECT]));

    let mut renamed = rp.clone();
    renamed["name"] = json!("Events RP");
    let (s, v) = lk.put("/clients/ev-rp", renamed).await;
    assert_eq!(s, 200, "{v}");
    let updated = es.next_of("client.updated").await;
    assert_eq!(
        (updated["client_id"].as_str(), updated["name"].as_str()),
        (Some("ev-rp"), Some("Events RP"))
    );

    let (s, v) = lk
        .post(
            "/users",
            json!({"username": "ev-bob", "password": "ev-bob-password", "claims": {"name": "Bob"}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let user = es.next_of("user.created").await;
    assert_eq!(user["username"], "ev-bob");
    assert_eq!(user["claims"]["name"], "Bob");
    assert!(!user.to_string().contains("ev-bob-password"), "{user}");

    // Tokens: issued and introspected.
    let (s, cc) = lk.client_credentials("read_books").await;
    assert_eq!(s, 200);
    let issued = es.next_of("token.issued").await;
    assert_eq!(
        (issued["kind"].as_str(), issued["client_id"].as_str()),
        (Some("access_token"), Some("books-app"))
    );
    assert_eq!(issued["status"], "active");
    assert_eq!(issued["token"], cc["access_token"]);
    let at = cc["access_token"].as_str().unwrap();
    assert_eq!(lk.introspect(at).await["active"], true);
    let introspected = es.next_of("token.introspected").await;
    assert_eq!(introspected["token_id"], issued["id"]);
    assert_eq!(
        (introspected["caller"].as_str(), introspected["active"].as_bool()),
        (Some("books-app"), Some(true))
    );

    // A code exchanged: the code is consumed, tokens issued.
    let client = ("ev-rp", "ev-rp-secret-0123456789");
    let code = authorization_code(&lk, "ev-rp").await;
    let code_issued = es.next_of("token.issued").await;
    assert_eq!(code_issued["kind"], "authorization_code", "{code_issued}");
    let t = token(
        &lk,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let consumed = es.next_of("token.consumed").await;
    assert_eq!(consumed["id"], code_issued["id"], "{consumed}");
    assert_eq!(consumed["kind"], "authorization_code");
    assert_eq!(consumed["status"], "consumed");
    assert!(consumed["status_reason"].is_string(), "{consumed}");

    // A refresh token rotated: consumed too.
    let refresh = t["refresh_token"].as_str().expect("a refresh token");
    let t2 = token(
        &lk,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    let consumed = es.next_of("token.consumed").await;
    assert_eq!(
        (consumed["kind"].as_str(), consumed["status"].as_str()),
        (Some("refresh_token"), Some("consumed"))
    );
    assert_eq!(consumed["token"], refresh);

    // Revoking the new refresh token revokes its grant: ids, reason and the tokens.
    let new_refresh = t2["refresh_token"].as_str().expect("a rotated refresh token");
    let r = lk
        .http
        .post(format!("{}/revoke", lk.url))
        .basic_auth(client.0, Some(client.1))
        .form(&[("token", new_refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let revoked = es.next_of("token.revoked").await;
    let ids: Vec<&str> = revoked["ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!ids.is_empty(), "{revoked}");
    assert!(
        revoked["reason"].as_str().is_some_and(|r| r.contains("RFC 7009")),
        "{revoked}"
    );
    let tokens = revoked["tokens"].as_array().expect("the revoked tokens");
    assert_eq!(tokens.len(), ids.len(), "{revoked}");
    for (tok, id) in tokens.iter().zip(&ids) {
        assert_eq!(tok["id"], *id);
        assert_eq!(tok["status"], "revoked", "{tok}");
        assert_eq!(tok["client_id"], "ev-rp");
    }
    assert!(tokens.iter().any(|t| t["token"] == new_refresh), "{revoked}");

    // Keys and deletions.
    let r = lk.http.post(lk.api("/keys/rotate")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rotated = es.next_of("key.rotated").await;
    assert!(rotated["kid"].as_str().is_some_and(|k| !k.is_empty()), "{rotated}");
    assert_eq!(rotated["alg"], "RS256");

    assert_eq!(lk.delete("/clients/ev-rp").await, 204);
    let deleted = es.next_of("client.deleted").await;
    assert_eq!(deleted["client_id"], "ev-rp");
}
