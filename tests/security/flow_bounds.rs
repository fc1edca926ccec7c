//! Advisory class: unbounded server-side state grown by unauthenticated requests (memory
//! exhaustion through pending authorization requests, oversized parameters, logs and buffers;
//! RFC 9700 §4.15-style resource exhaustion, RFC 6749 §10.x). Every collection a request can
//! grow has a bound; at the bound the oldest entry goes, and a user who then comes back to an
//! evicted request is told why.

use latchkey::oauth::pending::MAX_PENDING;

use crate::common::*;

async fn start(b: &mut Browser, state: &str) -> Page {
    b.authorize(&[
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
        ("state", state),
    ])
    .await
}

#[tokio::test]
async fn an_oversized_state_is_invalid_request_at_the_redirect_uri_without_echoing_it() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let huge = "s".repeat(60_000);
    let page = start(&mut b, &huge).await;
    let cb = Callback::parse(page.redirect());
    assert_eq!(cb.base, WEB_CB);
    assert_eq!(cb.q("error"), "invalid_request");
    assert!(cb.q("error_description").contains("`state`"), "{cb:?}");
    assert!(!cb.query.contains_key("state"), "the oversized state is not echoed");
    assert!(page.redirect().len() < 1000);
    // Nothing was parked: no login page, no binding cookie.
    assert!(b.flow.is_none());
    assert_eq!(srv.provider().pending.len(), 0);

    // The limit is 4 KiB per parameter: 4 KiB minus the name passes.
    let page = start(&mut b, &"s".repeat(4096 - "state".len())).await;
    assert!(page.is_login(), "{page:?}");
}

#[tokio::test]
async fn an_oversized_request_is_refused_even_when_each_parameter_is_small() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let v = "v".repeat(3000);
    let page = b
        .authorize(&[
            ("client_id", "web"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("state", "st"),
            ("x1", &v),
            ("x2", &v),
            ("x3", &v),
            ("x4", &v),
            ("x5", &v),
            ("x6", &v),
        ])
        .await;
    let cb = Callback::parse(page.redirect());
    assert_eq!(cb.q("error"), "invalid_request");
    assert!(cb.q("error_description").contains("16384"), "{cb:?}");
    assert_eq!(cb.q("state"), "st", "a small state is still echoed");

    // POST /authorize has the same limits.
    let body = form(&[
        ("client_id", "web"),
        ("response_type", "code"),
        ("redirect_uri", WEB_CB),
        ("nonce", &"n".repeat(5000)),
    ]);
    let r = srv
        .http
        .post(srv.at("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(Callback::parse(&location).q("error"), "invalid_request");
}

#[tokio::test]
async fn an_oversized_client_id_or_redirect_uri_is_an_error_page() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let long_uri = format!("{WEB_CB}?{}", "x".repeat(5000));
    for (k, v) in [("client_id", "c".repeat(5000)), ("redirect_uri", long_uri)] {
        let mut params = vec![("client_id", "web".to_string()), ("response_type", "code".into())];
        params.retain(|(name, _)| *name != k);
        params.push((k, v));
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = b.authorize(&pairs).await;
        assert!(page.location().is_none(), "{page:?}");
        assert_eq!(page.status, 400);
        assert!(
            !page.body.contains(&"c".repeat(1000)) && !page.body.contains(&"x".repeat(1000)),
            "the value is not shown in full"
        );
        assert!(page.body.contains("Request too large"), "{}", page.body);
        page.assert_page_headers();
    }
}

#[tokio::test]
async fn pending_requests_are_capped_and_a_user_signing_in_to_an_evicted_one_is_told_why() {
    let srv = spawn_default().await;
    let mut b = srv.browser();
    let first = start(&mut b, "first").await;
    assert!(first.is_login());
    // Fill the store: each /authorize that shows the login page parks one request.
    let mut tasks = Vec::new();
    for i in 0..MAX_PENDING {
        let url = srv.at(&format!(
            "/authorize?client_id=web&response_type=code&redirect_uri={}&state={i}",
            url::form_urlencoded::byte_serialize(WEB_CB.as_bytes()).collect::<String>()
        ));
        let http = srv.http.clone();
        tasks.push(tokio::spawn(async move {
            let r = http.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }));
        if tasks.len() == 16 {
            for t in tasks.drain(..) {
                t.await.unwrap();
            }
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(srv.provider().pending.len(), MAX_PENDING, "never more than the cap");
    // The oldest request (this browser's) was evicted: a clear page, no sign-in, no code.
    let page = b.persona(&first, "alice").await;
    assert!(page.location().is_none(), "{page:?}");
    assert!(page.body.contains("Sign-in request dropped"), "{}", page.body);
    assert!(page.body.contains("1000 sign-in requests"), "{}", page.body);
    assert!(b.cookie.is_none(), "no session was started");
    // A new request works as usual.
    let again = start(&mut b, "again").await;
    let done = b.persona(&again, "alice").await;
    assert_eq!(Callback::parse(done.redirect()).q("state"), "again");
    assert!(srv.provider().pending.len() <= MAX_PENDING);
}

// The request log's and the event replay buffer's byte bounds are unit-tested
// (`admin::requests::tests::the_log_is_bounded_by_bytes_as_well_as_by_count`,
// `events::tests::the_replay_buffer_is_bounded_by_bytes`): exceeding 32 MiB over HTTP takes too
// long in a debug build.
