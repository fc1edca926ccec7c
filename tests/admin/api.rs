//! Registry endpoints: clients, scopes, users, resources, settings, clock, config, status, keys.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn clients_can_be_created_read_replaced_and_deleted() {
    let lk = start().await;
    let (s, list) = lk.get("/clients").await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["client_id"], "books-app");

    let (s, c) = lk
        .post(
            "/clients",
            json!({"client_id": "svc", "grant_types": ["client_credentials"], "scopes": ["read_books"]}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let generated = c["client_secret"]
        .as_str()
        .expect("a confidential client gets a secret");
    assert!(generated.len() >= 32);

    let (s, e) = lk.post("/clients", json!({"client_id": "svc"})).await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["error"], "conflict");

    let (s, c) = lk.get("/clients/svc").await;
    assert_eq!((s, c["client_secret"].as_str()), (200, Some(generated)));

    // PUT without a secret keeps it.
    let (s, c) = lk
        .put(
            "/clients/svc",
            json!({"client_id": "svc", "name": "Service", "grant_types": ["client_credentials"], "scopes": ["read_books", "add_books"]}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["name"], "Service");
    assert_eq!(c["client_secret"].as_str(), Some(generated));

    let (s, c) = lk.post("/clients/svc/secret", json!({})).await;
    assert_eq!(s, 200);
    assert_ne!(c["client_secret"].as_str(), Some(generated));

    let (s, e) = lk.put("/clients/svc", json!({"client_id": "other"})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["client_id".to_string()]));

    assert_eq!(lk.delete("/clients/svc").await, 204);
    assert_eq!(lk.get("/clients/svc").await.0, 404);
    assert_eq!(lk.delete("/clients/svc").await, 404);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn client_validation_errors_name_the_field() {
    let lk = start().await;
    let (s, e) = lk
        .post(
            "/clients",
            json!({"client_id": "web", "redirect_uris": ["not a uri"], "scopes": ["openid"]}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"], "invalid");
    assert!(field_names(&e).contains(&"redirect_uris[0]".to_string()), "{e}");

    let (s, e) = lk
        .post(
            "/clients",
            json!({"client_id": "web", "scopes": ["no_such_scope"], "client_secret": "x"}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(field_names(&e).iter().any(|f| f.starts_with("scopes")), "{e}");

    let (s, e) = lk
        .post("/clients", json!({"client_id": "web", "grant_types": ["magic"]}))
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(field_names(&e), vec!["grant_types[0]".to_string()]);

    let (s, e) = lk.post("/clients", json!({"client_id": "web", "colour": "blue"})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["colour".to_string()]), "{e}");

    let r = lk
        .http
        .post(lk.api("/clients"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (s, e) = body(r).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("bad_request")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("JSON"));

    let r = lk
        .http
        .post(lk.api("/clients"))
        .body("client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn scopes_list_builtins_read_only_and_custom_ones_editable() {
    let lk = start().await;
    let (s, list) = lk.get("/scopes").await;
    assert_eq!(s, 200);
    let openid = list.as_array().unwrap().iter().find(|s| s["name"] == "openid").unwrap();
    assert_eq!(openid["builtin"], true);
    let read = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "read_books")
        .unwrap();
    assert_eq!(read["builtin"], false);
    assert_eq!(read["clients"], json!(["books-app"]));

    let (s, e) = lk
        .put("/scopes/openid", json!({"name": "openid", "description": "mine"}))
        .await;
    assert_eq!((s, e["error"].as_str()), (403, Some("read_only")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("built-in"));
    assert_eq!(lk.delete("/scopes/openid").await, 403);

    let (s, e) = lk.post("/scopes", json!({"name": "bad scope"})).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(field_names(&e), vec!["name".to_string()]);

    let (s, v) = lk
        .post("/scopes", json!({"name": "admin_books", "claims": ["role"]}))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["clients"], json!([]));
    assert_eq!(lk.post("/scopes", json!({"name": "admin_books"})).await.0, 409);
    let (s, v) = lk
        .put(
            "/scopes/admin_books",
            json!({"name": "admin_books", "description": "Manage"}),
        )
        .await;
    assert_eq!((s, v["description"].as_str()), (200, Some("Manage")));
    assert_eq!(lk.put("/scopes/nope", json!({"name": "nope"})).await.0, 404);

    let r = lk.http.delete(lk.api("/scopes/read_books")).send().await.unwrap();
    let (s, e) = body(r).await;
    assert_eq!(s, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("books-app"), "{e}");
    assert_eq!(lk.delete("/scopes/admin_books").await, 204);
    assert_eq!(lk.delete("/scopes/admin_books").await, 404);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn users_can_be_managed_and_passwords_are_never_returned() {
    let lk = start().await;
    let (s, list) = lk.get("/users").await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["username"], "alice");
    assert_eq!(list[0]["has_password"], true);
    assert!(!list.to_string().contains(PASSWORD));
    assert!(!list.to_string().contains("argon2"));

    let (s, u) = lk
        .post(
            "/users",
            json!({"username": "bob", "password": "bob-pw-123", "claims": {"email": "bob@example.com"}}),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    assert!(u.get("password").is_none());
    assert_eq!(u["has_password"], true);
    assert_eq!(u["sub"].as_str().unwrap().len(), 36);
    assert_eq!(lk.post("/users", json!({"username": "bob"})).await.0, 409);

    let (s, u) = lk
        .put(
            "/users/bob",
            json!({"username": "bob", "claims": {"email": "robert@example.com"}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["claims"]["email"], "robert@example.com");
    assert_eq!(u["has_password"], true, "the password is kept");
    assert_eq!(lk.get("/users/bob").await.1["claims"]["email"], "robert@example.com");

    let (s, e) = lk.post("/users", json!({"username": ""})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["username".to_string()]), "{e}");
    assert_eq!(lk.put("/users/nobody", json!({"username": "nobody"})).await.0, 404);
    assert_eq!(lk.delete("/users/bob").await, 204);
    assert_eq!(lk.get("/users/bob").await.0, 404);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn resources_can_be_managed() {
    let lk = start().await;
    let (s, list) = lk.get("/resources").await;
    assert_eq!((s, list[0]["name"].as_str()), (200, Some("books")));
    let (s, r) = lk
        .post(
            "/resources",
            json!({"name": "orders", "audience": "orders-api", "required_scopes": ["add_books"]}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        lk.post("/resources", json!({"name": "orders", "audience": "x"}))
            .await
            .0,
        409
    );
    let (s, e) = lk
        .post(
            "/resources",
            json!({"name": "bad", "audience": "a", "required_scopes": ["nope"]}),
        )
        .await;
    assert_eq!(
        (s, field_names(&e)),
        (422, vec!["required_scopes[0]".to_string()]),
        "{e}"
    );
    let (s, r) = lk
        .put(
            "/resources/orders",
            json!({"name": "orders", "audience": "orders-api-v2"}),
        )
        .await;
    assert_eq!((s, r["audience"].as_str()), (200, Some("orders-api-v2")));
    assert_eq!(lk.get("/resources/orders").await.1["audience"], "orders-api-v2");
    assert_eq!(lk.delete("/resources/orders").await, 204);
    assert_eq!(lk.get("/resources/orders").await.0, 404);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn settings_and_the_virtual_clock() {
    let lk = start().await;
    let (s, mut settings) = lk.get("/settings").await;
    assert_eq!(s, 200);
    settings["access_token_ttl"] = json!(0);
    let (s, e) = lk.put("/settings", settings.clone()).await;
    assert_eq!((s, field_names(&e)), (422, vec!["access_token_ttl".to_string()]), "{e}");
    settings["access_token_ttl"] = json!(120);
    let (s, v) = lk.put("/settings", settings).await;
    assert_eq!((s, v["access_token_ttl"].as_u64()), (200, Some(120)), "{v}");
    let (_, tok) = lk.client_credentials("read_books").await;
    assert_eq!(tok["expires_in"], 120);

    let (s, c0) = lk.get("/clock").await;
    assert_eq!((s, c0["offset"].as_i64()), (200, Some(0)));
    let (s, c) = lk.post("/clock", json!({"advance": 3600})).await;
    assert_eq!((s, c["offset"].as_i64()), (200, Some(3600)));
    assert!(c["now"].as_i64().unwrap() >= c0["now"].as_i64().unwrap() + 3600);
    let (_, c) = lk.post("/clock", json!({"offset": -60})).await;
    assert_eq!(c["offset"], -60);
    let (s, e) = lk.post("/clock", json!({"advance": 1, "offset": 1})).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(lk.post("/clock", json!({})).await.0, 422);
    let (s, _) = lk.send(Method::POST, "/clock", json!({"advance": "soon"})).await;
    assert_eq!(s, 422);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn config_exports_as_toml_and_imports_with_line_numbers() {
    let lk = start().await;
    let r = lk.http.get(lk.api("/config")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/toml")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("client_id = \"books-app\""), "{text}");
    assert!(!text.contains(PASSWORD));

    let bad = "[[clients]]\nclient_id = \"x\"\nredirect_uris = [\"nope\"]\n";
    let r = lk.http.put(lk.api("/config")).body(bad).send().await.unwrap();
    let (s, e) = body(r).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_config")), "{e}");
    assert_eq!(e["fields"][0]["field"], "clients[0].redirect_uris[0]");
    assert_eq!(e["fields"][0]["line"], 3);

    let r = lk
        .http
        .put(lk.api("/config"))
        .body("[[clients]\n")
        .send()
        .await
        .unwrap();
    let (s, e) = body(r).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains(":1"), "{e}");

    let good = "[[clients]]\nclient_id = \"imported\"\nclient_secret = \"s\"\nscopes = [\"read_books\"]\n";
    let r = lk.http.put(lk.api("/config")).body(good).send().await.unwrap();
    let (s, v) = body(r).await;
    assert_eq!((s, v["clients"].as_u64()), (200, Some(1)), "{v}");
    assert_eq!(lk.get("/clients/imported").await.0, 200);
    assert_eq!(lk.get("/clients/books-app").await.0, 200, "nothing else is deleted");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn status_counts_and_keys_rotate() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let (s, st) = lk.get("/status").await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(st["issuer"], lk.server.issuer());
    assert_eq!(st["counts"]["clients"], 1);
    assert_eq!(st["counts"]["users"], 1);
    assert_eq!(st["counts"]["tokens"]["active"], 1);
    assert_eq!(st["clock"]["offset"], 0);
    let old_kid = st["active_kid"].as_str().unwrap().to_string();

    let (s, keys) = lk.get("/keys").await;
    assert_eq!(s, 200);
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["status"], "active");
    assert_eq!(keys[0]["live_tokens"], 1);
    assert!(keys[0]["jwk"].get("d").is_none(), "public keys only");

    let (s, e) = lk.post("/keys/rotate", json!({"alg": "HS256"})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["alg".to_string()]));
    let (s, keys) = lk.post("/keys/rotate", json!({"retention": 600, "alg": "ES256"})).await;
    assert_eq!(s, 200, "{keys}");
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let new = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "active")
        .unwrap();
    let old = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .unwrap();
    assert_eq!(new["alg"], "ES256");
    assert_eq!(old["status"], "retired");
    assert_eq!(old["published"], true);
    assert_eq!(old["live_tokens"], 1);
    assert_eq!(lk.get("/settings").await.1["signing_alg"], "ES256");

    let jwks: serde_json::Value = lk
        .http
        .get(format!("{}/jwks", lk.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "the old key stays published");
    // The old token still verifies and introspects.
    let access = tok["access_token"].as_str().unwrap();
    let (_, d) = lk.post("/tokens/inspect", json!({"token": access})).await;
    assert_eq!(d["signature"]["verified"], true, "{d}");
    assert_eq!(d["signature"]["kid"], old_kid.as_str());
    // An empty body rotates with the defaults.
    let r = lk.http.post(lk.api("/keys/rotate")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn the_root_redirects_to_the_admin_ui_and_unknown_admin_paths_are_json_404() {
    let lk = start().await;
    let r = lk.http.get(format!("{}/", lk.url)).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], "/admin/");
    let (s, e) = lk.get("/nothing-here").await;
    assert_eq!(s, 404);
    assert!(e.is_object(), "{e}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn extreme_clock_moves_are_field_errors_not_overflows() {
    let lk = start().await;
    for (field, v) in [
        ("offset", i64::MIN),
        ("offset", i64::MAX),
        ("advance", i64::MIN),
        ("advance", i64::MAX),
    ] {
        let (s, e) = lk.post("/clock", json!({ field: v })).await;
        assert_eq!((s, field_names(&e)), (422, vec![field.to_string()]), "{field}={v}: {e}");
    }
    // Advancing step by step cannot walk the offset past the limit either.
    let year = 365 * 86_400_i64;
    assert_eq!(lk.post("/clock", json!({"advance": 90 * year})).await.0, 200);
    let (s, e) = lk.post("/clock", json!({"advance": 20 * year})).await;
    assert_eq!((s, field_names(&e)), (422, vec!["advance".to_string()]), "{e}");
    let (_, c) = lk.get("/clock").await;
    assert_eq!(c["offset"], 90 * year);
    lk.server.shutdown().await;
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_when_the_clock_passes_its_retention() {
    let lk = start().await;
    let (_, tok) = lk.client_credentials("read_books").await;
    let token = tok["access_token"].as_str().unwrap().to_string();
    let old_kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwks = |lk: &Lk| {
        let url = format!("{}/jwks", lk.url);
        let http = lk.http.clone();
        async move {
            let v: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            v["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let (s, _) = lk.post("/keys/rotate", json!({"retention": 60})).await;
    assert_eq!(s, 200);
    assert!(jwks(&lk).await.contains(&old_kid));
    // The token itself lives an hour: only the key's retention can end it.
    let (s, _) = lk.post("/clock", json!({"advance": 30})).await;
    assert_eq!(s, 200);
    assert!(jwks(&lk).await.contains(&old_kid));
    assert_eq!(lk.introspect(&token).await["active"], true);
    let (s, _) = lk.post("/clock", json!({"advance": 31})).await;
    assert_eq!(s, 200);
    let kids = jwks(&lk).await;
    assert!(!kids.contains(&old_kid), "{kids:?}");
    assert_eq!(kids.len(), 1);
    assert_eq!(lk.introspect(&token).await, json!({"active": false}));
    let (_, keys) = lk.get("/keys").await;
    let old = keys.as_array().unwrap().iter().find(|k| k["kid"] == old_kid.as_str());
    assert!(old.is_none_or(|k| k["published"] == false), "{keys}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn lifetimes_are_capped_at_ten_years_and_name_the_field() {
    let lk = start().await;
    let (_, mut settings) = lk.get("/settings").await;
    for field in ["access_token_ttl", "id_token_ttl", "refresh_token_ttl", "code_ttl"] {
        let mut s = settings.clone();
        s[field] = json!(u64::MAX);
        let (st, e) = lk.put("/settings", s).await;
        assert_eq!((st, field_names(&e)), (422, vec![field.to_string()]), "{e}");
        assert!(e.to_string().contains("10 years"), "{e}");
    }
    settings["access_token_ttl"] = json!(10 * 365 * 86_400);
    assert_eq!(lk.put("/settings", settings).await.0, 200);

    let (st, e) = lk
        .post(
            "/clients",
            json!({"client_id": "forever", "client_secret": "forever-secret-0123", "grant_types": ["client_credentials"], "access_token_ttl": u64::MAX}),
        )
        .await;
    assert_eq!(
        (st, field_names(&e)),
        (422, vec!["access_token_ttl".to_string()]),
        "{e}"
    );

    let toml = "[server]\naccess_token_ttl = 18446744073709551615\n";
    let r = lk.http.put(lk.api("/config")).body(toml).send().await.unwrap();
    let (st, e) = body(r).await;
    assert!(st == 400 || st == 422, "{st} {e}");
    assert_eq!(field_names(&e), vec!["server.access_token_ttl".to_string()], "{e}");
    lk.server.shutdown().await;
}

#[tokio::test]
async fn jwt_client_authentication_methods_need_keys_or_a_secret() {
    let lk = start().await;
    // private_key_jwt without keys: the error names `jwks`.
    let (st, e) = lk
        .post(
            "/clients",
            json!({"client_id": "jwt-pkj", "token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"]}),
        )
        .await;
    assert_eq!((st, field_names(&e)), (422, vec!["jwks".to_string()]), "{e}");
    // With a jwks_uri it is created, without a generated secret.
    let (st, c) = lk
        .post(
            "/clients",
            json!({"client_id": "jwt-pkj", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://127.0.0.1:9/jwks", "grant_types": ["client_credentials"]}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert!(c.get("client_secret").is_none(), "{c}");
    // client_secret_jwt gets a generated secret like the other secret-based methods.
    let (st, c) = lk
        .post(
            "/clients",
            json!({"client_id": "jwt-csj", "token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "HS256", "grant_types": ["client_credentials"]}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert!(c["client_secret"].as_str().is_some_and(|s| s.len() >= 32), "{c}");
    lk.server.shutdown().await;
}
