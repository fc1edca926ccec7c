//! HTTPS on loopback (`latchkey serve --tls`, docs/setups.md): an independent client that
//! trusts only Latchkey's CA (no verification turned off) completes discovery, client
//! credentials and introspection; the CA and the server certificate survive a restart; plain
//! HTTP to the HTTPS port gets a clear 400.

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{CONFIG, TestServer, basic, form, spawn_with};

/// A reqwest client whose only trust anchor is the CA in `ca.pem` (no built-in roots).
fn trusting_only(ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("a PEM certificate"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn spawn_tls(dir: &std::path::Path) -> TestServer {
    let tls_dir = dir.to_path_buf();
    spawn_with(CONFIG, move |o| {
        o.tls = Some(latchkey::TlsOptions {
            dir: tls_dir,
            names: vec!["idp.test".into()],
        });
    })
    .await
}

#[tokio::test]
async fn a_client_trusting_only_the_local_ca_completes_discovery_and_client_credentials() {
    let tls_dir = tempfile::tempdir().unwrap();
    let s = spawn_tls(tls_dir.path()).await;
    assert!(s.url().starts_with("https://127.0.0.1:"), "{}", s.url());
    assert_eq!(s.issuer(), format!("https://localhost:{}", s.addr().port()));
    let ca = std::fs::read(tls_dir.path().join("ca.pem")).unwrap();
    let http = trusting_only(&ca);
    // Through the name the issuer uses, resolved to the loopback listener.
    let issuer = s.issuer().to_string();
    let http_by_name = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve("localhost", s.addr())
        .build()
        .unwrap();
    let doc: Value = http_by_name
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery over TLS")
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], issuer);
    let token_endpoint = doc["token_endpoint"].as_str().unwrap().to_string();
    assert_eq!(token_endpoint, format!("{issuer}/token"));

    let t = http_by_name
        .post(&token_endpoint)
        .header("authorization", basic("basic-client", "basic-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("grant_type", "client_credentials"), ("scope", "read")]))
        .send()
        .await
        .expect("token over TLS");
    assert_eq!(t.status(), StatusCode::OK);
    let t: Value = t.json().await.unwrap();
    let token = t["access_token"].as_str().expect("access_token").to_string();
    // By IP address too (127.0.0.1 is in the certificate), and the token introspects active.
    let i: Value = http
        .post(s.at("/introspect"))
        .header("authorization", basic("api", "api-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", &token)]))
        .send()
        .await
        .expect("introspection over TLS")
        .json()
        .await
        .unwrap();
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["iss"], issuer);
    // An extra --tls-name is covered as well.
    let by_extra = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve("idp.test", s.addr())
        .build()
        .unwrap();
    let r = by_extra
        .get(format!("https://idp.test:{}/jwks", s.addr().port()))
        .send()
        .await
        .expect("jwks as idp.test");
    assert_eq!(r.status(), StatusCode::OK);

    // Verification is on: a client without the CA refuses the server, and so does one that
    // trusts another Latchkey's CA.
    let no_ca = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(no_ca.get(s.at("/jwks")).send().await.is_err());
    let other = tempfile::tempdir().unwrap();
    let other_ca = latchkey::tls::LocalCa::open_or_create(other.path(), 1_790_000_000).unwrap();
    let wrong = trusting_only(&std::fs::read(other_ca.ca_cert_path()).unwrap());
    assert!(wrong.get(s.at("/jwks")).send().await.is_err());
    s.shutdown().await;
}

#[tokio::test]
async fn the_ca_and_the_certificate_survive_a_restart() {
    let tls_dir = tempfile::tempdir().unwrap();
    let s = spawn_tls(tls_dir.path()).await;
    let ca = s.local_ca().expect("a local CA").clone();
    assert!(ca.created);
    let fingerprint = ca.fingerprint().unwrap();
    let ca_pem = std::fs::read(ca.ca_cert_path()).unwrap();
    let server_pem = std::fs::read(ca.server_cert_path()).unwrap();
    #[cfg(unix)]
    for key in [ca.ca_key_path(), ca.server_key_path()] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
    let s = s.restart().await;
    let again = s.local_ca().expect("a local CA");
    assert!(!again.created, "the CA was made again");
    assert_eq!(again.fingerprint().unwrap(), fingerprint);
    assert_eq!(std::fs::read(again.ca_cert_path()).unwrap(), ca_pem);
    assert_eq!(std::fs::read(again.server_cert_path()).unwrap(), server_pem);
    // A client configured before the restart still trusts the server.
    let r = trusting_only(&ca_pem)
        .get(s.at("/jwks"))
        .send()
        .await
        .expect("jwks after restart");
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_a_clear_400() {
    let tls_dir = tempfile::tempdir().unwrap();
    let s = spawn_tls(tls_dir.path()).await;
    // With reqwest, as an app misconfigured with http:// would.
    let plain = s
        .at("/.well-known/openid-configuration")
        .replacen("https://", "http://", 1);
    let r = reqwest::get(&plain)
        .await
        .expect("an HTTP answer, not a broken connection");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("Use {}/", s.issuer())), "{body}");
    assert!(body.contains("https://"), "{body}");
    // A raw POST with a body gets the same answer, and the connection is closed cleanly.
    let mut c = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials")
        .await
        .unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    // The server still serves TLS afterwards.
    let ca = std::fs::read(tls_dir.path().join("ca.pem")).unwrap();
    let r = trusting_only(&ca).get(s.at("/jwks")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
}
