//! HTTP-level errors (RFC 6749 §5.2 shape everywhere), limits and timeouts.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{CONFIG, TestServer, basic, reply, spawn};

const FORM: &str = "application/x-www-form-urlencoded";

/// Sends raw bytes on a new connection and returns everything the server answers before it
/// closes (a reset after the answer counts as a close).
async fn raw_exchange(s: &TestServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(s.addr()).await.expect("connect");
    // The server may answer and close before reading everything (413): ignore write errors.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_405_with_allow_post_and_a_json_body() {
    let s = spawn(CONFIG).await;
    for path in ["/token", "/introspect", "/revoke"] {
        let r = s.get(path).await;
        r.assert_error(405, "invalid_request");
        let allow = r.header("allow");
        assert!(
            allow.split(',').any(|m| m.trim() == "POST"),
            "{path}: Allow = {allow:?}"
        );
        assert!(!allow.contains("GET"), "{path}: Allow = {allow:?}");
    }
    // The other way round: POST on a GET endpoint.
    for path in ["/jwks", "/.well-known/openid-configuration"] {
        let r = reply(s.http.post(s.at(path)).send().await.unwrap()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {r:?}");
        assert!(r.header("allow").contains("GET"), "{path}: {r:?}");
        assert!(r.header("content-type").starts_with("application/json"), "{r:?}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let s = spawn(CONFIG).await;
    let r = s.get("/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    assert!(r.header("content-type").starts_with("application/json"), "{r:?}");
    assert!(!r.error().is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_json() {
    let s = spawn(CONFIG).await;
    let big = format!("grant_type=client_credentials&pad={}", "a".repeat(64 * 1024));
    for path in ["/token", "/introspect", "/revoke"] {
        let r = s.post_raw(path, FORM, big.clone()).await;
        r.assert_error(413, "invalid_request");
    }
    // Chunked, so the length is not known up front.
    let chunk = "a".repeat(70 * 1024);
    let req = format!(
        "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\npad={chunk}\r\n0\r\n\r\n",
        chunk.len() + 4
    );
    let answer = raw_exchange(&s, req.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
    assert!(answer.contains("\"error\""), "{answer:.400}");
    // Just under the limit is fine.
    let ok = format!("grant_type=client_credentials&pad={}", "a".repeat(60 * 1024));
    let r = s.post_raw("/token", FORM, ok).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_wrong_content_type_is_invalid_request() {
    let s = spawn(CONFIG).await;
    for ct in ["application/json", "text/plain", "multipart/form-data; boundary=x"] {
        let r = s.post_raw("/token", ct, r#"{"grant_type":"client_credentials"}"#).await;
        r.assert_error(400, "invalid_request");
    }
    // No Content-Type at all.
    let r = reply(
        s.http
            .post(s.at("/token"))
            .header("authorization", basic("basic-client", "basic-secret"))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(400, "invalid_request");
    // Parameters are case-insensitive and may be present.
    let r = s
        .post_raw(
            "/token",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
            "grant_type=client_credentials",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_malformed_form_or_invalid_utf8_is_invalid_request() {
    let s = spawn(CONFIG).await;
    let bodies: [&[u8]; 5] = [
        b"grant_type=client_credentials&scope=%zz",
        b"grant_type=client_credentials&scope=%FF",
        b"grant_type=client_credentials&scope=%4",
        b"grant_type=client_credentials&scope=\xff\xfe",
        b"grant_type=client_%E2%28credentials",
    ];
    for path in ["/token", "/introspect", "/revoke"] {
        for body in bodies {
            let r = s.post_raw(path, FORM, body.to_vec()).await;
            r.assert_error(400, "invalid_request");
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let s = spawn(CONFIG).await;
    for body in [
        "grant_type=client_credentials&scope=read&scope=write",
        "grant_type=client_credentials&grant_type=client_credentials",
    ] {
        let r = s.post_raw("/token", FORM, body).await;
        r.assert_error(400, "invalid_request");
        assert!(r.json.get("access_token").is_none());
    }
    let r = s
        .post_form(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "post-client"),
                ("client_id", "post-client"),
                ("client_secret", "post-secret"),
            ],
        )
        .await;
    r.assert_error(400, "invalid_request");
    let r = s
        .post_form(
            "/introspect",
            Some(&basic("api", "api-secret")),
            &[("token", "a"), ("token", "b")],
        )
        .await;
    r.assert_error(400, "invalid_request");
    s.shutdown().await;
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let s = spawn(CONFIG).await;
    for body in ["", "scope=read", "grant_type=", "grant_type"] {
        let r = s.post_raw("/token", FORM, body).await;
        r.assert_error(400, "invalid_request");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn an_unknown_grant_is_unsupported_grant_type() {
    let s = spawn(CONFIG).await;
    for grant in [
        "magic",
        "urn:example:params:oauth:grant-type:magic",
        "CLIENT_CREDENTIALS",
    ] {
        let r = s.post_raw("/token", FORM, format!("grant_type={grant}")).await;
        r.assert_error(400, "unsupported_grant_type");
        assert_eq!(r.header("cache-control"), "no-store");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_basic_credentials_are_invalid_client() {
    let s = spawn(CONFIG).await;
    let no_colon = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "abc")
    );
    let bad_escape = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "basic-client:%FF")
    );
    for auth in ["Basic !!!", "Basic", no_colon.as_str(), bad_escape.as_str()] {
        let r = s
            .post_form("/token", Some(auth), &[("grant_type", "client_credentials")])
            .await;
        r.assert_error(401, "invalid_client");
        assert!(r.header("www-authenticate").starts_with("Basic"), "{auth}: {r:?}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn client_input_never_causes_a_5xx() {
    let s = spawn(CONFIG).await;
    let auth = basic("basic-client", "basic-secret");
    let long_scope = "read ".repeat(5000);
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        (
            "/token",
            Some(FORM),
            b"grant_type=client_credentials&scope=%zz".to_vec(),
        ),
        ("/token", Some(FORM), b"\x00\x01\x02".to_vec()),
        ("/token", Some(FORM), b"=&&=&grant_type=client_credentials".to_vec()),
        (
            "/token",
            Some(FORM),
            b"grant_type=client_credentials&scope=%22bad%22".to_vec(),
        ),
        (
            "/token",
            Some(FORM),
            format!("grant_type=client_credentials&scope={long_scope}").into_bytes(),
        ),
        (
            "/token",
            Some(FORM),
            b"grant_type=client_credentials&client_assertion=x".to_vec(),
        ),
        ("/token", Some("application/json"), b"{".to_vec()),
        (
            "/token",
            Some("x/y; a=\"unterminated"),
            b"grant_type=client_credentials".to_vec(),
        ),
        ("/token", Some(";;;"), b"grant_type=client_credentials".to_vec()),
        ("/token", None, Vec::new()),
        ("/introspect", Some(FORM), b"token=%00".to_vec()),
        ("/introspect", Some(FORM), "token=\u{2603}".as_bytes().to_vec()),
        ("/revoke", Some(FORM), b"token=x&token_type_hint=%FF".to_vec()),
        ("/revoke", Some(FORM), b"token=".to_vec()),
    ];
    for (path, ct, body) in cases {
        let mut req = s
            .http
            .post(s.at(path))
            .header("authorization", &auth)
            .body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let r = reply(req.send().await.unwrap()).await;
        assert!(
            r.status.is_client_error() || r.status.is_success(),
            "{path} {ct:?} {:?}: {r:?}",
            String::from_utf8_lossy(&body)
        );
        assert!(r.header("content-type").starts_with("application/json") || r.status.is_success());
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_connection_does_not_delay_other_requests() {
    let s = spawn(CONFIG).await;
    // Half a request line, then nothing.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(s.addr()).await.unwrap();
        c.write_all(b"POST /tok").await.unwrap();
        stalled.push(c);
    }
    // Complete headers, but only part of the announced body.
    let mut slow_body = TcpStream::connect(s.addr()).await.unwrap();
    slow_body
        .write_all(
            format!("POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: {FORM}\r\nContent-Length: 100\r\n\r\ngrant_type=").as_bytes(),
        )
        .await
        .unwrap();

    // The fresh database's key is made in the background; this test times other things.
    s.provider().keys.ready().await.unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            s.token_basic("basic-client", "basic-secret", &[]),
        )
        .await
        .expect("a normal request answers while others stall");
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    let d = tokio::time::timeout(Duration::from_secs(5), s.get("/.well-known/openid-configuration"))
        .await
        .expect("discovery answers while others stall");
    assert_eq!(d.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    drop(stalled);
    drop(slow_body);
    s.shutdown().await;
}

/// Reads from `c` until the server closes it or `deadline` passes; returns what arrived.
async fn read_until_closed(c: &mut TcpStream, deadline: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(deadline, read_all).await.ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_cut_off_by_timeouts() {
    let s = spawn(CONFIG).await;
    let mut headers = TcpStream::connect(s.addr()).await.unwrap();
    headers.write_all(b"POST /token HTTP/1.1\r\nHost: loc").await.unwrap();
    let mut body = TcpStream::connect(s.addr()).await.unwrap();
    body.write_all(
        format!(
            "POST /token HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: {FORM}\r\nContent-Length: 100\r\n\r\ngrant_type=",
            basic("basic-client", "basic-secret")
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Connected, and never a byte.
    let mut silent = TcpStream::connect(s.addr()).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, then no request.
    let mut h2 = TcpStream::connect(s.addr()).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    // The header, body and first-request timeouts are 10 s each (src/http): allow a margin.
    let limit = Duration::from_secs(20);
    let started = Instant::now();
    let (h, b, quiet, h2_answer) = tokio::join!(
        read_until_closed(&mut headers, limit),
        read_until_closed(&mut body, limit),
        read_until_closed(&mut silent, limit),
        read_until_closed(&mut h2, limit)
    );
    let quiet = quiet.expect("a connection that never sends a byte is closed");
    assert!(quiet.is_empty(), "{quiet}");
    h2_answer.expect("an HTTP/2 connection that never sends a request is closed");
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    let h = h.expect("a connection stalled in its headers is closed");
    assert!(h.is_empty() || h.starts_with("HTTP/1.1 408"), "{h}");
    let b = b.expect("a connection stalled in its body is closed");
    assert!(b.starts_with("HTTP/1.1 408"), "{b}");
    assert!(b.contains("\"error\""), "{b}");
    s.shutdown().await;
}
