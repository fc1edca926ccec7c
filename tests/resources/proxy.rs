//! The explaining proxy against a real upstream (an axum server on 127.0.0.1:0 in the test):
//! enforce and observe modes, pass-through of method, path, query, body, headers and status,
//! hop-by-hop headers, X-Forwarded-*, streaming both ways (SSE event by event, an upload that
//! reaches the upstream before it is finished), 502 and 504, the verdict on the request log and
//! on `resource.called`, and upstream validation.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::common::*;

/// What the test upstream saw and the signals it shares with the test.
#[derive(Default)]
struct Upstream {
    hits: AtomicUsize,
    /// Released by the test: the SSE stream's second event and end.
    sse_release: Notify,
    /// Signalled by the upstream when the first upload bytes arrived.
    upload_started: Notify,
}

/// Echoes the request as JSON: method, path, query, headers (lower-case, repeated ones joined
/// with `, `), body. `x-status` chooses the status; the response carries hop-by-hop headers
/// that the proxy must remove and a header it must keep.
async fn echo(State(u): State<Arc<Upstream>>, req: Request) -> Response {
    u.hits.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &parts.headers {
        let v = v.to_str().unwrap_or("?").to_string();
        headers
            .entry(k.as_str().to_string())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let status = parts
        .headers
        .get("x-status")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(200);
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        })),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert("x-upstream", HeaderValue::from_static("kept"));
    h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    h.insert("connection", HeaderValue::from_static("x-drop-me"));
    h.insert("x-drop-me", HeaderValue::from_static("1"));
    h.insert("proxy-authenticate", HeaderValue::from_static("Basic realm=\"x\""));
    h.append("set-cookie", HeaderValue::from_static("a=1"));
    h.append("set-cookie", HeaderValue::from_static("b=2"));
    resp
}

/// A real API that refuses every token: 401 with its own challenge and a plain-text body.
async fn protected(State(u): State<Arc<Upstream>>) -> Response {
    u.hits.fetch_add(1, Ordering::SeqCst);
    let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer error=\"invalid_token\", error_description=\"Invalid audience\""),
    );
    r
}

/// Server-Sent Events: one event at once, the second only after the test releases it.
async fn sse(State(u): State<Arc<Upstream>>) -> Response {
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let u = u.clone();
        async move {
            match step {
                0 => Some((
                    Ok::<_, Infallible>(Bytes::from_static(b"event: message\ndata: one\n\n")),
                    1,
                )),
                1 => {
                    u.sse_release.notified().await;
                    Some((Ok(Bytes::from_static(b"event: message\ndata: two\n\n")), 2))
                }
                _ => None,
            }
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Reads an upload chunk by chunk: signals the first bytes, answers the size and a checksum.
async fn upload(State(u): State<Arc<Upstream>>, req: Request) -> Response {
    let mut stream = req.into_body().into_data_stream();
    let (mut n, mut sum) = (0u64, 0u64);
    let mut first = true;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if first && !chunk.is_empty() {
            first = false;
            u.upload_started.notify_one();
        }
        n += chunk.len() as u64;
        sum = chunk
            .iter()
            .fold(sum, |s, b| s.wrapping_mul(31).wrapping_add(u64::from(*b)));
    }
    axum::Json(json!({"bytes": n, "sum": sum})).into_response()
}

/// Answers after 10 s (for the first-byte timeout).
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

/// Starts the upstream; returns its base URL and shared state.
async fn upstream() -> (String, Arc<Upstream>) {
    let state = Arc::new(Upstream::default());
    let app = Router::new()
        .route("/protected", any(protected))
        .route("/events", get(sse))
        .route("/upload", post(upload))
        .route("/slow", any(slow))
        .fallback(echo)
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

/// Latchkey with the common config plus resource `api` in `mode` in front of `upstream`.
async fn proxy(upstream: &str, mode: &str, extra: Value) -> Lk {
    let lk = start().await;
    let mut body = json!({
        "name": "api",
        "audience": "books-api",
        "required_scopes": ["read_books"],
        "upstream": upstream,
        "mode": mode,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    lk.resource(body).await;
    lk
}

/// The newest request-log entry for `path`.
async fn logged(lk: &Lk, path: &str) -> Value {
    let list = lk.get("/requests").await.json;
    let items = list["items"].as_array().or_else(|| list.as_array()).unwrap().clone();
    items
        .into_iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no log entry for {path} in {list}"))
}

#[tokio::test]
async fn enforce_forwards_accepted_calls_unchanged_with_the_verdict() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let t = lk.books_token().await;
    let upstream_port = up.rsplit(':').next().unwrap().to_string();
    let r = lk
        .http
        .put(format!("{}/resources/api/v1/books/42%20x?q=a%20b&r=1", lk.url))
        .bearer_auth(&t)
        .header("x-custom", "hello")
        .header("x-status", "201")
        .header("content-type", "application/json")
        .header("latchkey-verdict", "allowed; sub=\"forged\"")
        .header("connection", "x-hop")
        .header("x-hop", "secret")
        .header("te", "trailers")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("x-forwarded-for", "10.0.0.1")
        .body(r#"{"title":"Dune"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let h = r.headers().clone();
    assert_eq!(h["x-upstream"], "kept");
    let cookies: Vec<_> = h.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    for gone in ["keep-alive", "x-drop-me", "proxy-authenticate"] {
        assert!(!h.contains_key(gone), "{gone} passed through: {h:?}");
    }
    let link = h["latchkey-verdict"].to_str().unwrap().to_string();
    assert!(link.contains("/admin/api/resources/api/calls/"), "{link}");
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/v1/books/42%20x");
    assert_eq!(seen["query"], "q=a%20b&r=1");
    assert_eq!(seen["body"], r#"{"title":"Dune"}"#);
    let sh = &seen["headers"];
    assert_eq!(sh["x-custom"], "hello");
    assert_eq!(sh["authorization"], format!("Bearer {t}"));
    assert_eq!(sh["content-type"], "application/json");
    assert_eq!(sh["host"], format!("127.0.0.1:{upstream_port}"));
    assert_eq!(sh["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(sh["x-forwarded-proto"], "http");
    assert_eq!(sh["x-forwarded-host"], lk.url.trim_start_matches("http://"));
    assert_eq!(sh["via"], "1.1 latchkey");
    for gone in ["x-hop", "te", "proxy-authorization"] {
        assert!(sh.get(gone).is_none(), "{gone} reached the upstream: {sh}");
    }
    assert_eq!(
        sh["latchkey-verdict"],
        "allowed; sub=\"books-app\"; client_id=\"books-app\"; scope=\"read_books\""
    );
    assert_eq!(state.hits.load(Ordering::SeqCst), 1);

    // The link names the recorded call, with what the upstream answered.
    let call = resp(lk.http.get(&link).send().await.unwrap()).await;
    assert_eq!(call.status, 200, "{call:?}");
    assert_eq!(call.json["status"], 201);
    assert_eq!(call.json["verdict"]["allowed"], true);
    assert_eq!(call.json["proxy"]["mode"], "enforce");
    assert_eq!(call.json["proxy"]["forwarded"], true);
    assert_eq!(call.json["proxy"]["upstream_status"], 201);
    assert_eq!(call.json["proxy"]["upstream_url"], format!("{up}/v1/books/42%20x"));
}

#[tokio::test]
async fn enforce_answers_refusals_itself_without_calling_the_upstream() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let r = lk.call(reqwest::Method::GET, "api/v1/books", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!("Bearer realm=\"api\", resource_metadata=\"{}\"", lk.metadata_url("api"))
    );
    assert_eq!(r.json["allowed"], false);
    assert_eq!(r.json["decided_by"], "request");

    // Wrong audience: RFC 6750 invalid_token with the verdict, still not forwarded.
    let other = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk.call(reqwest::Method::POST, "api/v1/books", Some(&other)).await;
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer realm=\"api\", error=\"invalid_token\", error_description=\"aud "),
        "{r:?}"
    );
    assert_eq!(r.json["decided_by"], "aud");
    assert_eq!(state.hits.load(Ordering::SeqCst), 0);
    let calls = lk.get("/resources/api/calls").await.json;
    assert_eq!(calls[0]["proxy"]["forwarded"], false);
    assert_eq!(calls[0]["status"], 401);
}

#[tokio::test]
async fn observe_forwards_everything_and_explains_the_upstreams_401() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "observe", json!({})).await;
    let mut events = Events::open(&lk).await;
    // A token for another audience: the real API refuses it; Latchkey says why.
    let other = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk
        .http
        .get(format!("{}/resources/api/protected", lk.url))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"Invalid audience\""
    );
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(r.headers().contains_key("latchkey-verdict"));
    assert_eq!(r.text().await.unwrap(), "Unauthorized");
    assert_eq!(state.hits.load(Ordering::SeqCst), 1);

    let ev = events.next_of("resource.called").await;
    assert_eq!(ev["resource"], "api");
    assert_eq!(ev["status"], 401);
    assert_eq!(ev["verdict"]["decided_by"], "aud");
    assert_eq!(ev["proxy"]["mode"], "observe");
    assert_eq!(ev["proxy"]["upstream_status"], 401);
    assert_eq!(
        ev["proxy"]["upstream_challenge"],
        "Bearer error=\"invalid_token\", error_description=\"Invalid audience\""
    );
    let why = ev["proxy"]["explanation"].as_str().unwrap();
    assert!(why.contains("answered 401") && why.contains("`aud` check"), "{why}");

    let entry = logged(&lk, "/resources/api/protected").await;
    assert_eq!(entry["status"], 401);
    assert_eq!(entry["verdict"]["decided_by"], "aud");
    assert_eq!(verdict_row(&entry["verdict"], "aud")["result"], "failed");
    assert_eq!(entry["proxy"]["upstream_status"], 401);
    assert_eq!(entry["proxy"]["explanation"], ev["proxy"]["explanation"]);

    // No token at all: forwarded, and the verdict says so.
    let r = lk.call(reqwest::Method::GET, "api/protected", None).await;
    assert_eq!(r.status, 401);
    let calls = lk.get("/resources/api/calls").await.json;
    assert_eq!(calls[0]["verdict"]["decided_by"], "request");
    assert!(
        calls[0]["proxy"]["explanation"]
            .as_str()
            .unwrap()
            .contains("`request` check"),
        "{calls}"
    );
    assert_eq!(state.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn observe_sends_the_verdict_upstream_and_flags_a_more_lenient_api() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "observe", json!({})).await;
    let other = lk.token("other-app", "other-secret", "read_books").await;
    let r = lk.call(reqwest::Method::GET, "api/v1/echo", Some(&other)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["headers"]["latchkey-verdict"],
        "refused; status=401; error=\"invalid_token\"; check=\"aud\"; sub=\"other-app\"; client_id=\"other-app\"; scope=\"read_books\""
    );
    let calls = lk.get("/resources/api/calls").await.json;
    assert!(
        calls[0]["proxy"]["explanation"]
            .as_str()
            .unwrap()
            .contains("more lenient"),
        "{calls}"
    );
}

#[tokio::test]
async fn upstream_errors_and_plain_bodies_pass_through_unshaped() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "observe", json!({})).await;
    // Latchkey reshapes its own framework errors into JSON; an upstream's stay as they are.
    for status in ["400", "405", "413", "418", "503"] {
        let r = lk
            .http
            .delete(format!("{}/resources/api/x", lk.url))
            .header("x-status", status)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_str(), status);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["method"], "DELETE", "{status}");
    }
}

#[tokio::test]
async fn the_upstream_path_is_a_prefix() {
    let (up, _state) = upstream().await;
    let lk = proxy(&format!("{up}/base/"), "observe", json!({})).await;
    let r = lk.call(reqwest::Method::GET, "api/v1/x", None).await;
    assert_eq!(r.json["path"], "/base/v1/x");
    let r = lk.call(reqwest::Method::GET, "api", None).await;
    assert_eq!(r.json["path"], "/base");
    let r = lk.call(reqwest::Method::GET, "api/", None).await;
    assert_eq!(r.json["path"], "/base/");
}

#[tokio::test]
async fn server_sent_events_reach_the_client_one_by_one() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let t = lk.books_token().await;
    let mut r = lk
        .http
        .get(format!("{}/resources/api/events", lk.url))
        .bearer_auth(&t)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    // The upstream holds the stream open: the first event must arrive on its own.
    let mut got = String::new();
    while !got.contains("data: one\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), r.chunk())
            .await
            .expect("the first event did not arrive while the upstream held the stream open")
            .unwrap()
            .expect("the stream ended before the first event");
        got.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!got.contains("two"));
    state.sse_release.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(5), r.text())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        format!("{got}{rest}"),
        "event: message\ndata: one\n\nevent: message\ndata: two\n\n"
    );
}

#[tokio::test]
async fn a_large_upload_streams_to_the_upstream() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let t = lk.books_token().await;
    const CHUNK: usize = 256 * 1024;
    const CHUNKS: usize = 32; // 8 MiB, far over the protocol routes' 64 KiB
    let data: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let expected_sum = (0..CHUNKS).fold(0u64, |s, _| {
        data.iter()
            .fold(s, |s, b| s.wrapping_mul(31).wrapping_add(u64::from(*b)))
    });
    let first = Bytes::from(data.clone());
    let rest_data = Bytes::from(data);
    let st = state.clone();
    // The client sends one chunk, then waits until the upstream has received bytes: only a
    // streaming proxy gets there (a buffering one would wait for the whole body).
    let body = futures_util::stream::unfold(0usize, move |i| {
        let (first, rest_data, st) = (first.clone(), rest_data.clone(), st.clone());
        async move {
            match i {
                0 => Some((Ok::<_, Infallible>(first), 1)),
                i if i < CHUNKS => {
                    if i == 1 {
                        tokio::time::timeout(Duration::from_secs(5), st.upload_started.notified())
                            .await
                            .expect("the upstream got nothing while the upload was under way");
                    }
                    Some((Ok(rest_data), i + 1))
                }
                _ => None,
            }
        }
    });
    let r = lk
        .http
        .post(format!("{}/resources/api/upload", lk.url))
        .bearer_auth(&t)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["bytes"], (CHUNK * CHUNKS) as u64);
    assert_eq!(r.json["sum"], expected_sum);
    // The log keeps no body for a proxied call.
    let entry = logged(&lk, "/resources/api/upload").await;
    assert_eq!(entry["status"], 200);
    assert!(entry.get("body_note").is_none(), "{entry}");
}

#[tokio::test]
async fn a_form_body_token_is_checked_and_forwarded() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({"bearer_methods": ["header", "body"]})).await;
    let t = lk.books_token().await;
    let r = lk
        .http
        .post(format!("{}/resources/api/v1/form", lk.url))
        .form(&[("access_token", t.as_str()), ("x", "1")])
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["body"], format!("access_token={t}&x=1"));
    // A form body over 64 KiB is streamed unread: the verdict says the body was not searched
    // instead of claiming the request had no token.
    let big = "y".repeat(70 * 1024);
    let r = lk
        .http
        .post(format!("{}/resources/api/v1/form", lk.url))
        .form(&[("access_token", t.as_str()), ("x", big.as_str())])
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 401, "{r:?}");
    let why = r.row("request")["explanation"].as_str().unwrap().to_string();
    assert!(
        why.contains("form body was not searched") && why.contains("64 KiB"),
        "{why}"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_naming_it_and_the_cause() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let up = format!("http://127.0.0.1:{port}");
    let lk = proxy(&up, "observe", json!({})).await;
    let started = Instant::now();
    let r = lk.call(reqwest::Method::GET, "api/v1/books", None).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(r.json["error"], "upstream_unreachable");
    assert_eq!(r.json["upstream"], format!("{up}/v1/books"));
    let d = r.json["error_description"].as_str().unwrap();
    assert!(
        d.contains(&format!("{up}/v1/books")) && d.contains("connection refused") && d.contains("is your API running"),
        "{d}"
    );
    let calls = lk.get("/resources/api/calls").await.json;
    assert_eq!(calls[0]["status"], 502);
    assert_eq!(calls[0]["proxy"]["error"], d);
    assert_eq!(calls[0]["proxy"]["upstream_status"], Value::Null);

    // A host that does not resolve: also 502, with the resolver's reason.
    let lk2 = proxy("http://no-such-host.invalid:3000", "observe", json!({})).await;
    let r = lk2.call(reqwest::Method::GET, "api/x", None).await;
    assert_eq!(r.status, 502, "{r:?}");
    assert!(
        r.json["error_description"]
            .as_str()
            .unwrap()
            .contains("cannot resolve the host of no-such-host.invalid:3000"),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_silent_upstream_is_a_504_after_upstream_timeout() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "observe", json!({"upstream_timeout": 1})).await;
    let started = Instant::now();
    let r = lk.call(reqwest::Method::GET, "api/slow", None).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(r.json["error"], "upstream_timeout");
    assert!(r.json["error_description"].as_str().unwrap().contains("within 1 s"));
}

#[tokio::test]
async fn upstreams_are_validated() {
    let lk = start().await;
    for (upstream, why) in [
        ("ftp://127.0.0.1:21", "http(s)"),
        ("127.0.0.1:3000", "URL"),
        ("http://user:pw@127.0.0.1:3000", "user info"),
        ("http://127.0.0.1:3000/?a=1", "query"),
        ("http://127.0.0.1:3000/#x", "fragment"),
        ("http:///x", "no host"),
        ("http:x", "no host"),
        ("https:/api.example.test", "no host"),
    ] {
        let r = lk
            .post("/resources", json!({"name": "bad", "upstream": upstream}))
            .await;
        assert_eq!(r.status, 422, "{upstream}: {r:?}");
        assert!(r.json.to_string().contains(why), "{upstream}: {}", r.json);
    }
    let r = lk
        .post("/resources", json!({"name": "bad", "upstream_timeout": 5}))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = lk
        .post(
            "/resources",
            json!({"name": "bad", "upstream": "http://127.0.0.1:3000", "upstream_timeout": 0}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = lk
        .post(
            "/resources",
            json!({"name": "ok", "upstream": "https://api.example.test/v1", "mode": "observe", "upstream_timeout": "2m"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["upstream_timeout"], 120);
}

#[tokio::test]
async fn a_dot_segment_path_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (up, state) = upstream().await;
    let lk = proxy(&format!("{up}/api"), "observe", json!({})).await;
    // HTTP clients normalise dot segments (even `%2e%2e`), so the request goes raw.
    for path in ["/resources/api/v1/%2e%2e/%2E%2E/admin", "/resources/api/./x"] {
        let mut s = tokio::net::TcpStream::connect(lk.url.trim_start_matches("http://"))
            .await
            .unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 400 "), "{path}: {out}");
        assert!(out.contains("`..` segment"), "{out}");
    }
    assert_eq!(state.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_slow_client_upload_is_not_an_upstream_timeout() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({"upstream_timeout": 1})).await;
    let t = lk.books_token().await;
    // The client pauses 2.5 s mid-upload (longer than upstream_timeout): the upstream is
    // waiting for the client, not the other way round.
    let body = futures_util::stream::unfold(0u8, |i| async move {
        match i {
            0 => Some((Ok::<_, Infallible>(Bytes::from_static(b"first,")), 1)),
            1 => {
                tokio::time::sleep(Duration::from_millis(2500)).await;
                Some((Ok(Bytes::from_static(b"second")), 2))
            }
            _ => None,
        }
    });
    let r = lk
        .http
        .post(format!("{}/resources/api/upload", lk.url))
        .bearer_auth(&t)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["bytes"], 12);
}

#[tokio::test]
async fn an_announced_body_over_the_limit_is_a_413_before_forwarding() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (up, state) = upstream().await;
    let lk = proxy(&up, "observe", json!({})).await;
    let mut s = tokio::net::TcpStream::connect(lk.url.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(
        b"POST /resources/api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2147483648\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut out))
        .await
        .unwrap()
        .unwrap();
    let out = String::from_utf8_lossy(&out[..n]);
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    assert!(out.contains("1024 MiB"), "{out}");
    assert_eq!(state.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn proxy_keys_round_trip_through_the_config_file() {
    let config = format!(
        "{CONFIG}\n[[resources]]\nname = \"api\"\nupstream = \"http://127.0.0.1:3000/base\"\nmode = \"observe\"\nupstream_timeout = \"90s\"\n"
    );
    let lk = start_with(&config, None).await;
    let r = lk.get("/resources/api").await.json;
    assert_eq!(r["upstream"], "http://127.0.0.1:3000/base");
    assert_eq!(r["mode"], "observe");
    assert_eq!(r["upstream_timeout"], 90);
    let toml = lk
        .http
        .get(lk.api("/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(toml.contains("upstream_timeout = 90"), "{toml}");
    let other = start_with("", None).await;
    let imported = other
        .http
        .put(other.api("/config"))
        .header("content-type", "application/toml")
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    assert_eq!(other.get("/resources/api").await.json["upstream_timeout"], 90);
}

#[tokio::test]
async fn cors_preflights_go_to_the_upstream_unchecked_and_unrecorded() {
    let (up, state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let r = lk
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/resources/api/v1/books", lk.url))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["method"], "OPTIONS");
    assert_eq!(r.json["headers"]["access-control-request-method"], "POST");
    assert!(r.header("latchkey-verdict").is_none());
    assert_eq!(state.hits.load(Ordering::SeqCst), 1);
    assert_eq!(lk.get("/resources/api/calls").await.json, json!([]));

    // Latchkey's own refusal carries CORS for a registered origin (the spa's redirect URI).
    let r = lk
        .http
        .get(format!("{}/resources/api/v1/books", lk.url))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "WWW-Authenticate, Latchkey-Verdict"
    );
}

#[tokio::test]
async fn under_an_issuer_with_a_path() {
    let (up, _state) = upstream().await;
    let config = format!("{CONFIG}\n[[resources]]\nname = \"api\"\nupstream = \"{up}\"\nmode = \"observe\"\n");
    let lk = start_with(&config, Some("https://idp.test/realms/dev")).await;
    let r = lk
        .http
        .post(format!("{}/realms/dev/resources/api/v1/x?y=1", lk.url))
        .body("payload")
        .send()
        .await
        .unwrap();
    let r = resp(r).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["path"], "/v1/x");
    assert_eq!(r.json["query"], "y=1");
    assert_eq!(r.json["body"], "payload");
    assert_eq!(r.json["headers"]["x-forwarded-proto"], "https");
    assert!(
        r.header("latchkey-verdict")
            .unwrap()
            .starts_with("https://idp.test/realms/dev/admin/api/resources/api/calls/"),
        "{r:?}"
    );
    let log = lk
        .http
        .get(format!("{}/realms/dev/admin/api/requests", lk.url))
        .send()
        .await
        .unwrap();
    let log: Value = log.json().await.unwrap();
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/realms/dev/resources/api/v1/x")
        .unwrap_or_else(|| panic!("{log}"))
        .clone();
    assert_eq!(entry["proxy"]["upstream_url"], format!("{up}/v1/x"));
    assert_eq!(entry["verdict"]["decided_by"], "request");
}

#[tokio::test]
async fn the_proxy_record_is_in_the_openapi_document() {
    let lk = start().await;
    let doc = lk.get("/openapi.json").await.json;
    let schemas = &doc["components"]["schemas"];
    let rec = &schemas["ProxyRecord"]["properties"];
    for field in [
        "mode",
        "upstream_url",
        "forwarded",
        "upstream_status",
        "upstream_challenge",
        "error",
        "explanation",
    ] {
        assert!(rec.get(field).is_some(), "ProxyRecord.{field} missing: {rec}");
    }
    for owner in ["ResourceCall", "LoggedRequest"] {
        let text = schemas[owner]["properties"]["proxy"].to_string();
        assert!(
            text.contains("#/components/schemas/ProxyRecord"),
            "{owner}.proxy: {text}"
        );
    }
    assert!(schemas["Resource"]["properties"].get("upstream_timeout").is_some());
}

#[tokio::test]
async fn a_401_for_a_token_latchkey_accepts_says_the_api_expects_something_else() {
    let (up, _state) = upstream().await;
    let lk = proxy(&up, "enforce", json!({})).await;
    let t = lk.books_token().await;
    let r = lk.call(reqwest::Method::GET, "api/protected", Some(&t)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json, Value::String("Unauthorized".into()));
    let calls = lk.get("/resources/api/calls").await.json;
    assert_eq!(calls[0]["verdict"]["allowed"], true);
    assert_eq!(calls[0]["status"], 401);
    let why = calls[0]["proxy"]["explanation"].as_str().unwrap();
    assert!(
        why.contains("answered 401") && why.contains("passes every check") && why.contains("Invalid audience"),
        "{why}"
    );
}

#[tokio::test]
async fn an_upstream_leading_back_to_latchkey_is_a_508_at_once() {
    let lk = start().await;
    lk.resource(json!({
        "name": "api",
        "audience": "books-api",
        "upstream": format!("{}/resources/api", lk.url),
        "mode": "observe",
    }))
    .await;
    let t = lk.books_token().await;
    let started = std::time::Instant::now();
    let r = lk.call(reqwest::Method::GET, "api/v1/books", Some(&t)).await;
    assert_eq!(r.status, 508, "{r:?}");
    assert_eq!(r.json["error"], "upstream_loop");
    assert!(
        r.json["error_description"]
            .as_str()
            .unwrap()
            .contains("leads back to Latchkey"),
        "{r:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
