//! An MCP client's path through Latchkey, as the Model Context Protocol's authorization
//! profile walks it: call the MCP server (a protected resource), read the challenge's
//! `resource_metadata` (RFC 9728 §5.1), fetch the protected-resource metadata and then the
//! authorization server's metadata (RFC 8414), register dynamically (RFC 7591), authorize with
//! PKCE and `resource` (RFC 8707), exchange the code with `resource`, and call the resource.

use serde_json::{Value, json};

use crate::common::*;

const CB: &str = "http://127.0.0.1:33418/callback";

const CONFIG: &str = r#"
[[scopes]]
name = "mcp:tools"
description = "Use the MCP server's tools"

[[resources]]
name = "mcp"
required_scopes = ["mcp:tools"]

[[users]]
username = "alice"
password = "alice-password"
"#;

async fn get_json(srv: &TestServer, url: &str) -> Value {
    let r = srv.http.get(url).send().await.expect("GET");
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.json().await.expect("JSON")
}

/// The quoted value of `name="..."` in a challenge.
fn param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &challenge[start..];
    Some(&rest[..rest.find('"')?])
}

#[tokio::test]
async fn an_mcp_client_discovers_registers_authorizes_for_the_resource_and_calls_it() {
    let srv = spawn(CONFIG).await;
    let issuer = srv.issuer().trim_end_matches('/').to_string();
    let mcp = format!("{issuer}/resources/mcp");

    // 1. The unauthenticated call: 401 naming the resource's metadata (RFC 9728 §5.1).
    let r = srv.http.post(format!("{mcp}/")).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let metadata_url = param(&challenge, "resource_metadata").expect("resource_metadata in the challenge");

    // 2. Protected-resource metadata: the resource and where to get tokens for it.
    let prm = get_json(&srv, metadata_url).await;
    assert_eq!(prm["resource"], mcp);
    let as_url = prm["authorization_servers"][0].as_str().unwrap().to_string();
    assert_eq!(as_url, issuer);
    assert!(
        prm["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("mcp:tools")),
        "{prm}"
    );

    // 3. Authorization-server metadata (RFC 8414 §3), as MCP clients read it.
    let asm = get_json(&srv, &format!("{as_url}/.well-known/oauth-authorization-server")).await;
    assert_eq!(asm["issuer"], issuer);
    assert!(
        asm["code_challenge_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("S256"))
    );
    let registration_endpoint = asm["registration_endpoint"]
        .as_str()
        .expect("registration_endpoint")
        .to_string();

    // 4. Dynamic registration of a public client with a loopback redirect URI.
    let r = srv
        .http
        .post(&registration_endpoint)
        .header("content-type", "application/json")
        .body(
            json!({"client_name": "MCP Inspector", "redirect_uris": [CB], "token_endpoint_auth_method": "none",
                   "grant_types": ["authorization_code", "refresh_token"], "scope": "mcp:tools"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let reg: Value = r.json().await.unwrap();
    let client_id = reg["client_id"].as_str().unwrap().to_string();

    // 5. Authorization with PKCE and the resource; the dynamic client gets the consent page.
    let (verifier, challenge) = pkce_s256();
    let mut b = srv.browser();
    let page = b
        .authorize(&[
            ("client_id", client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "mcp:tools"),
            ("state", "st"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("resource", mcp.as_str()),
        ])
        .await;
    let consent = b.login(&page, "alice", "alice-password").await;
    assert!(consent.is_consent(), "{consent:?}");
    let done = b.consent(&consent, true).await;
    let cb = Callback::parse(done.redirect());
    assert_eq!(cb.q("state"), "st");

    // 6. The code exchange names the resource too (RFC 8707 §2.2); the token is for it.
    let tok = srv
        .token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", cb.q("code")),
                ("redirect_uri", CB),
                ("client_id", &client_id),
                ("code_verifier", &verifier),
                ("resource", &mcp),
            ],
        )
        .await;
    assert_eq!(tok.status.as_u16(), 200, "{:?}", tok.json);
    let at = tok.ok("access_token");
    let claims = jwt_claims(&at);
    assert_eq!(claims["aud"], json!(mcp), "{claims}");
    assert_eq!(claims["scope"], "mcp:tools");

    // 7. The call succeeds, and the verdict says why.
    let r = srv
        .http
        .post(format!("{mcp}/"))
        .header("authorization", format!("Bearer {at}"))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["client_id"], client_id.as_str(), "{body}");

    // A refresh keeps the token for the resource (RFC 8707: the grant remembers it).
    let other = srv
        .token(
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tok.ok("refresh_token").as_str()),
                ("client_id", &client_id),
            ],
        )
        .await;
    assert_eq!(other.status.as_u16(), 200, "{:?}", other.json);
    assert_eq!(
        jwt_claims(&other.ok("access_token"))["aud"],
        json!(mcp),
        "the refresh keeps the resource"
    );
}
