//! RFC 6750 challenges (issue 9, item 7), checked byte for byte at every endpoint that checks a
//! bearer token (`/userinfo` today).

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;
use crate::web_attack::*;

struct Answer {
    status: StatusCode,
    challenge: String,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

async fn userinfo(srv: &TestServer, req: reqwest::RequestBuilder) -> Answer {
    let _ = srv;
    let r = req.send().await.expect("userinfo");
    let status = r.status();
    let headers = r.headers().clone();
    let challenge = headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| String::from_utf8(v.as_bytes().to_vec()).expect("a challenge is ASCII"))
        .collect::<Vec<_>>()
        .join(" | ");
    let json = r.json().await.expect("a JSON body");
    Answer {
        status,
        challenge,
        headers,
        json,
    }
}

/// Every byte RFC 6750 §3 allows in an auth-param value (`%x20-21 / %x23-5B / %x5D-7E`), and
/// no `?` standing for a character that could not be shown.
fn assert_ascii_attributes(challenge: &str) {
    for value in challenge.split('"').skip(1).step_by(2) {
        assert!(
            value
                .bytes()
                .all(|b| b == 0x20 || b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)),
            "{value:?}"
        );
        assert!(!value.contains('?'), "{value:?}");
    }
}

/// Advisory class: information leaks and client confusion from RFC 6750 challenges (an error
/// code on a request that carried no credentials, §3.1). Without a token, with another scheme
/// (Basic), or with the token only in the URL query (not accepted, §2.3 / §5.3), `/userinfo`
/// answers 401 with exactly `WWW-Authenticate: Bearer realm="latchkey"`; the JSON body says why.
#[tokio::test]
async fn a_request_without_a_token_gets_a_bare_challenge() {
    let srv = spawn_default().await;
    let url = srv.at("/userinfo");
    for req in [
        srv.http.get(&url),
        srv.http.post(&url),
        srv.http.get(&url).header("authorization", basic("web", "web-secret")),
        srv.http.get(format!("{url}?access_token=abc")),
    ] {
        let a = userinfo(&srv, req).await;
        assert_eq!(a.status, 401, "{:?}", a.json);
        assert_eq!(a.challenge, "Bearer realm=\"latchkey\"");
        assert_eq!(a.json["error"], "invalid_token");
        assert!(
            a.json["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("RFC 6750 §2")),
            "{}",
            a.json
        );
    }
}

/// Advisory class: RFC 6750 §3 challenges that break clients (a `§` in `error_description`
/// reached the header as `?`). A token this server never issued: 401 with
/// `error="invalid_token"` and an ASCII `error_description`, byte for byte; a token without the
/// needed scope: 403 `error="insufficient_scope"` with `scope="openid"`; the full text stays in
/// the JSON body.
#[tokio::test]
async fn bad_tokens_and_missing_scopes_get_exact_challenges() {
    let srv = spawn_default().await;
    let a = userinfo(
        &srv,
        srv.http.get(srv.at("/userinfo")).bearer_auth("forged.token.value"),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.challenge,
        "Bearer realm=\"latchkey\", error=\"invalid_token\", error_description=\"the access token was not issued by this server\""
    );
    assert_eq!(a.json["error"], "invalid_token");

    // A token without `openid` (password grant, scope read_books).
    let r = srv
        .token(
            Some(("cli", "cli-secret")),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "read_books"),
            ],
        )
        .await;
    let token = r.ok("access_token");
    let a = userinfo(&srv, srv.http.get(srv.at("/userinfo")).bearer_auth(&token)).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.challenge,
        "Bearer realm=\"latchkey\", error=\"insufficient_scope\", \
         error_description=\"the access token was not granted the `openid` scope (OIDC Core section 5.3)\", scope=\"openid\""
    );
    assert_eq!(
        a.json["error_description"],
        "the access token was not granted the `openid` scope (OIDC Core §5.3)"
    );

    // A revoked token: invalid_token again.
    let tokens = web_tokens(&srv).await;
    let access = tokens["access_token"].as_str().expect("access token");
    let ok = userinfo(&srv, srv.http.get(srv.at("/userinfo")).bearer_auth(access)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert!(ok.headers.get("www-authenticate").is_none());
    let r = srv
        .http
        .post(srv.at("/revoke"))
        .header("authorization", basic("web", "web-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", access)]))
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let a = userinfo(&srv, srv.http.get(srv.at("/userinfo")).bearer_auth(access)).await;
    assert_eq!(
        a.challenge,
        "Bearer realm=\"latchkey\", error=\"invalid_token\", error_description=\"the access token is expired or revoked\""
    );
}

/// Advisory class: ambiguous or malformed bearer requests (RFC 6750 §2: one method only; §3.1
/// `invalid_request`). A token in both the header and the body, two `Authorization` headers, a
/// header token with spaces or quotes, an empty Bearer header, or a header and a query token:
/// 400 `invalid_request` with the challenge naming it, attributes in §3's ASCII.
#[tokio::test]
async fn malformed_bearer_requests_are_invalid_request() {
    let srv = spawn_default().await;
    let url = srv.at("/userinfo");
    let cases = [
        (
            "header and body",
            srv.http
                .post(&url)
                .bearer_auth("abc")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("access_token=def"),
            "the access token was sent by more than one method (Authorization header, form body, query); use exactly one (RFC 6750 section 2)",
        ),
        (
            "two headers",
            srv.http
                .get(&url)
                .header("authorization", "Bearer abc")
                .header("authorization", "Bearer def"),
            "the request has more than one Authorization header",
        ),
        (
            "spaces",
            srv.http.get(&url).header("authorization", "Bearer abc def"),
            "the Bearer token is malformed: it must be one b64token (letters, digits, `-._~+/`, then `=` padding), without spaces or quotes (RFC 6750 section 2.1)",
        ),
        (
            "quotes",
            srv.http.get(&url).header("authorization", "Bearer \"abc\""),
            "the Bearer token is malformed: it must be one b64token (letters, digits, `-._~+/`, then `=` padding), without spaces or quotes (RFC 6750 section 2.1)",
        ),
        (
            "empty",
            srv.http.get(&url).header("authorization", "Bearer"),
            "the Authorization header says Bearer but carries no token (RFC 6750 section 2.1)",
        ),
        (
            "header and query",
            srv.http.get(format!("{url}?access_token=x")).bearer_auth("abc"),
            "the access token was sent by more than one method (Authorization header, form body, query); use exactly one (RFC 6750 section 2)",
        ),
    ];
    for (name, req, description) in cases {
        let a = userinfo(&srv, req).await;
        assert_eq!(a.status, 400, "{name}: {:?}", a.json);
        assert_eq!(a.json["error"], "invalid_request", "{name}");
        assert_eq!(
            a.challenge,
            format!("Bearer realm=\"latchkey\", error=\"invalid_request\", error_description=\"{description}\""),
            "{name}"
        );
        assert_ascii_attributes(&a.challenge);
        if description.contains("section") {
            let full = a.json["error_description"].as_str().unwrap_or("");
            assert_eq!(
                full.replace('§', "section "),
                description,
                "{name}: the body keeps the full text"
            );
        }
    }
}

/// Advisory class: a challenge a browser app cannot read (CORS hides `WWW-Authenticate`
/// unless exposed). For a registered origin, `/userinfo`'s 401 lists `WWW-Authenticate` in
/// `Access-Control-Expose-Headers`, and so do the public metadata endpoints.
#[tokio::test]
async fn browser_apps_can_read_the_challenge() {
    let srv = spawn_default().await;
    let a = userinfo(
        &srv,
        srv.http
            .get(srv.at("/userinfo"))
            .header("origin", "http://localhost:3000")
            .bearer_auth("nope"),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://localhost:3000")
    );
    let exposed = a
        .headers
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(exposed.to_ascii_lowercase().contains("www-authenticate"), "{exposed:?}");
    // An origin no client registered gets no CORS headers at all.
    let a = userinfo(
        &srv,
        srv.http
            .get(srv.at("/userinfo"))
            .header("origin", "http://evil.example")
            .bearer_auth("nope"),
    )
    .await;
    assert!(a.headers.get("access-control-allow-origin").is_none());
}
