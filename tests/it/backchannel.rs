//! Front- and back-channel hosts (`[server] backchannel_url`, docs/setups.md): discovery
//! fetched through the back-channel host names the server-to-server endpoints on it; the issuer
//! and the browser-facing endpoints keep the front channel; any other host gets the front
//! channel. One loopback server receives both `Host` values.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Reply, TestServer, basic, form, reply, spawn_with};

/// The server-to-server endpoints (those that exist today).
const BACK: &[&str] = &[
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
    "registration_endpoint",
];
/// The browser-facing endpoints.
const FRONT: &[&str] = &["authorization_endpoint", "end_session_endpoint"];

/// The `toml` block of docs/setups.md's docker-compose section.
fn docs_compose_config() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/setups.md")).expect("docs/setups.md");
    let section = doc
        .split("## docker-compose: front- and back-channel hosts")
        .nth(1)
        .expect("the docker-compose section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let block = section.split("```toml\n").nth(1).expect("a toml block in the section");
    let toml = block.split("```").next().expect("a closed toml block");
    assert!(
        section.contains("http://latchkey:8000/.well-known/openid-configuration"),
        "the compose file discovers through the back-channel host"
    );
    toml.to_string()
}

/// A request to the server's listener with the given `Host` header.
async fn get_as(s: &TestServer, host: &str, path: &str) -> Reply {
    reply(
        s.http
            .get(s.at(path))
            .header("host", host)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn post_as(s: &TestServer, host: &str, path: &str, auth: &str, pairs: &[(&str, &str)]) -> Reply {
    reply(
        s.http
            .post(s.at(path))
            .header("host", host)
            .header("authorization", auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// The path of an absolute URL.
fn path_of(url: &Value) -> String {
    let u = url::Url::parse(url.as_str().expect("a URL")).expect("a URL");
    u.path().to_string()
}

#[track_caller]
fn assert_channels(doc: &Value, issuer: &str, back: &str) {
    assert_eq!(doc["issuer"], issuer, "{doc}");
    for k in BACK {
        let url = doc[*k].as_str().unwrap_or_else(|| panic!("no {k}: {doc}"));
        assert!(url.starts_with(&format!("{back}/")), "{k} = {url}, not under {back}");
    }
    for k in FRONT {
        let url = doc[*k].as_str().unwrap_or_else(|| panic!("no {k}: {doc}"));
        assert!(
            url.starts_with(&format!("{issuer}/")),
            "{k} = {url}, not under {issuer}"
        );
    }
}

#[tokio::test]
async fn the_docker_compose_example_works_through_both_hosts() {
    let issuer = "http://localhost:8000";
    let s = spawn_with(&docs_compose_config(), |o| o.issuer = Some(issuer.into())).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        // The browser's view.
        let front = get_as(&s, "localhost:8000", path).await;
        assert_eq!(front.status, StatusCode::OK, "{front:?}");
        assert_channels(&front.json, issuer, issuer);
        // The back end's view: same issuer and browser endpoints, server-to-server ones on latchkey.
        let back = get_as(&s, "latchkey:8000", path).await;
        assert_eq!(back.status, StatusCode::OK, "{back:?}");
        assert_channels(&back.json, issuer, "http://latchkey:8000");
        // Everything else is identical.
        let mut a = front.json.clone();
        let mut b = back.json.clone();
        for k in BACK {
            a[*k] = Value::Null;
            b[*k] = Value::Null;
        }
        assert_eq!(a, b);
        // Host names compare case-insensitively.
        let upper = get_as(&s, "LATCHKEY:8000", path).await;
        assert_eq!(upper.json, back.json);
    }

    // The back end uses the advertised back-channel endpoints, through the back-channel host.
    let back = get_as(&s, "latchkey:8000", "/.well-known/openid-configuration")
        .await
        .json;
    let auth = basic("api", "api-secret");
    let t = post_as(
        &s,
        "latchkey:8000",
        &path_of(&back["token_endpoint"]),
        &auth,
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token = t.token();
    let i = post_as(
        &s,
        "latchkey:8000",
        &path_of(&back["introspection_endpoint"]),
        &auth,
        &[("token", &token)],
    )
    .await;
    assert_eq!(i.status, StatusCode::OK, "{i:?}");
    assert_eq!(i.json["active"], true, "{i:?}");
    // The token names the front-channel issuer, which is what discovery says through either host.
    assert_eq!(i.json["iss"], issuer);
    let jwks = get_as(&s, "latchkey:8000", &path_of(&back["jwks_uri"])).await;
    assert!(jwks.json["keys"].as_array().is_some_and(|k| !k.is_empty()), "{jwks:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_gets_the_front_channel_and_never_appears() {
    let issuer = "http://localhost:8000";
    let s = spawn_with(&docs_compose_config(), |o| o.issuer = Some(issuer.into())).await;
    for host in [
        "evil.example",
        "evil.example:8000",
        "latchkey",
        "latchkey:8001",
        "latchkey.evil.example:8000",
        "127.0.0.1:8000",
        "evil@latchkey:8000",
    ] {
        let r = get_as(&s, host, "/.well-known/openid-configuration").await;
        assert_eq!(r.status, StatusCode::OK, "{host}: {r:?}");
        assert_channels(&r.json, issuer, issuer);
        assert!(!r.json.to_string().contains("latchkey:"), "{host}: {}", r.json);
        assert!(!r.json.to_string().contains("evil"), "{host}: {}", r.json);
    }
    // Alternating hosts never serve one's cached document to the other.
    for _ in 0..3 {
        assert_channels(
            &get_as(&s, "latchkey:8000", "/.well-known/openid-configuration")
                .await
                .json,
            issuer,
            "http://latchkey:8000",
        );
        assert_channels(
            &get_as(&s, "localhost:8000", "/.well-known/openid-configuration")
                .await
                .json,
            issuer,
            issuer,
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn without_a_back_channel_every_host_gets_the_front_channel() {
    let issuer = "http://localhost:8000";
    let s = spawn_with("", |o| o.issuer = Some(issuer.into())).await;
    let r = get_as(&s, "latchkey:8000", "/.well-known/openid-configuration").await;
    assert_channels(&r.json, issuer, issuer);
    s.shutdown().await;
}

#[tokio::test]
async fn a_path_issuer_keeps_its_path_on_the_back_channel_and_the_flag_overrides_the_file() {
    let issuer = "http://localhost:8000/realms/dev";
    let s = spawn_with(&docs_compose_config(), |o| {
        o.issuer = Some(issuer.into());
        o.backchannel_url = Some("http://idp.internal:9000".into());
    })
    .await;
    let path = "/realms/dev/.well-known/openid-configuration";
    let back = get_as(&s, "idp.internal:9000", path).await;
    assert_channels(&back.json, issuer, "http://idp.internal:9000/realms/dev");
    assert_eq!(back.json["token_endpoint"], "http://idp.internal:9000/realms/dev/token");
    // The file's latchkey:8000 was overridden by the flag.
    let file_host = get_as(&s, "latchkey:8000", path).await;
    assert_channels(&file_host.json, issuer, issuer);
    let t = post_as(
        &s,
        "idp.internal:9000",
        &path_of(&back.json["token_endpoint"]),
        &basic("api", "api-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    t.token();
    s.shutdown().await;
}

#[tokio::test]
async fn a_bad_backchannel_url_names_the_key_and_line_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("latchkey.toml");
    std::fs::write(&cfg, "[server]\nbackchannel_url = \"latchkey:8000/?x=1\"\n").unwrap();
    let err = latchkey::start(latchkey::ServeOptions {
        port: 0,
        db: latchkey::DbLocation::Memory,
        config: Some(cfg.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("refused");
    let text = err.to_string();
    assert!(text.contains("latchkey.toml:2:1: `server.backchannel_url`"), "{text}");

    let err = latchkey::start(latchkey::ServeOptions {
        port: 0,
        db: latchkey::DbLocation::Memory,
        backchannel_url: Some("http://user:pw@latchkey:8000".into()),
        ..Default::default()
    })
    .await
    .err()
    .expect("refused");
    let text = err.to_string();
    assert!(text.starts_with("--backchannel-url: "), "{text}");
    assert!(text.contains("user information"), "{text}");
}
