//! The admin side: checking without calling, recent calls, events, validation, and the config
//! round trip of every resource key.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn check_explains_without_recording_and_publishes_resource_checked() {
    let lk = start().await;
    let mut events = Events::open(&lk).await;
    let t = lk.books_token().await;
    let r = lk.check("books", &t, "POST", "/books/9").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["allowed"], false);
    assert_eq!(r.json["status"], 403);
    assert_eq!(r.json["decided_by"], "scope");
    assert!(
        r.json["challenge"]
            .as_str()
            .unwrap()
            .starts_with("Bearer realm=\"books\", error=\"insufficient_scope\"")
    );
    let ev = events.next_of("resource.checked").await;
    assert_eq!(ev["resource"], "books");
    assert_eq!(ev["verdict"], r.json);
    assert_eq!(lk.get("/resources/books/calls").await.json, json!([]));
    // Defaults: GET /.
    let r = lk.post("/resources/books/check", json!({"token": t})).await;
    assert_eq!(
        (
            r.json["method"].as_str(),
            r.json["path"].as_str(),
            r.json["allowed"].as_bool()
        ),
        (Some("GET"), Some("/"), Some(true))
    );
    // Bad input.
    assert_eq!(lk.post("/resources/nope/check", json!({"token": t})).await.status, 404);
    assert_eq!(
        lk.post("/resources/books/check", json!({"token": t, "path": "books"}))
            .await
            .status,
        422
    );
    assert_eq!(
        lk.post("/resources/books/check", json!({"token": t, "method": "G T"}))
            .await
            .status,
        422
    );
    assert_eq!(lk.post("/resources/books/check", json!({})).await.status, 422);
}

#[tokio::test]
async fn calls_are_listed_newest_first_published_and_bounded() {
    let lk = start().await;
    let mut events = Events::open(&lk).await;
    let t = lk.books_token().await;
    let r = lk.get_books("books", &t).await;
    assert_eq!(r.status, 200);
    let ev = events.next_of("resource.called").await;
    assert_eq!(ev["resource"], "books");
    assert_eq!(ev["method"], "GET");
    assert_eq!(ev["path"], "/books");
    assert_eq!(ev["status"], 200);
    assert_eq!(ev["client_id"], "books-app");
    assert_eq!(ev["sub"], "books-app");
    assert_eq!(ev["verdict"]["allowed"], true);
    assert!(ev["at"].as_i64().unwrap() > 0);
    let id = ev["id"].as_i64().unwrap();
    let one = lk.get(&format!("/resources/books/calls/{id}")).await;
    assert_eq!(one.json, ev);

    let r = lk.call(reqwest::Method::GET, "books/second", None).await;
    assert_eq!(r.status, 401);
    let list = lk.get("/resources/books/calls").await.json;
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/second", "/books"]);
    assert!(list[0]["client_id"].is_null());

    for i in 0..105 {
        lk.call(reqwest::Method::GET, &format!("books/n{i}"), None).await;
    }
    let list = lk.get("/resources/books/calls").await.json;
    assert_eq!(list.as_array().unwrap().len(), 100);
    assert_eq!(list[0]["path"], "/n104");
    assert_eq!(list[99]["path"], "/n5");
    assert_eq!(lk.get(&format!("/resources/books/calls/{id}")).await.status, 404);
    assert_eq!(lk.get("/resources/nope/calls").await.status, 404);
}

const FULL: &str = r#"
[[scopes]]
name = "read_books"

[[scopes]]
name = "add_books"

[[clients]]
client_id = "introspector"
client_secret = "introspector-secret"
scopes = ["token_introspection"]

[[resources]]
name = "everything"
audience = ["books-api", "https://books.example"]
required_scopes = ["read_books"]
rules = [{ method = "POST", path = "/books/*", scopes = ["add_books"] }, { path = "/admin/**", scopes = ["add_books"] }]
validation = "introspection"
profile = "pyjwt-2"
introspection_client = "introspector"
expected_issuer = "http://localhost:9999/"
leeway = "1m"
clock_offset = -30
jwks_cache = 120
jwks_refetch_on_unknown_kid = false
accepted_typ = ["JWT"]
algorithms = ["RS256", "ES256"]
bearer_methods = ["header", "query"]
response = { books = [{ title = "Alice" }], count = 1 }
upstream = "http://127.0.0.1:3000"
mode = "observe"

[[resources]]
name = "plain"
audience = "books-api"
"#;

#[tokio::test]
async fn every_key_round_trips_through_the_admin_api_export_and_import() {
    let lk = start_with(FULL, None).await;
    let r = lk.get("/resources/everything").await.json;
    assert_eq!(r["audience"], json!(["books-api", "https://books.example"]));
    assert_eq!(r["leeway"], 60);
    assert_eq!(r["rules"][1], json!({"path": "/admin/**", "scopes": ["add_books"]}));
    assert_eq!(r["response"], json!({"books": [{"title": "Alice"}], "count": 1}));
    assert_eq!(r["mode"], "observe");
    assert_eq!(r["identifier"], format!("{}/resources/everything", lk.issuer()));
    assert_eq!(lk.get("/resources/plain").await.json["audience"], "books-api");

    // What was read can be written back as is (identifier and metadata_url are ignored).
    let put = lk.put("/resources/everything", r.clone()).await;
    assert_eq!(put.status, 200, "{put:?}");
    assert_eq!(put.json, r);

    // Export, import into a fresh server: the same resources.
    let toml = lk
        .http
        .get(lk.api("/config"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(toml.contains("jwks_refetch_on_unknown_kid = false"), "{toml}");
    assert!(toml.contains("access_token_typ = \"at+jwt\""), "{toml}");
    let other = start_with("", None).await;
    let imported = other
        .http
        .put(other.api("/config"))
        .header("content-type", "application/toml")
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200, "{}", imported.text().await.unwrap());
    for name in ["everything", "plain"] {
        let mut a = lk.get(&format!("/resources/{name}")).await.json;
        let mut b = other.get(&format!("/resources/{name}")).await.json;
        for v in [&mut a, &mut b] {
            v.as_object_mut().unwrap().remove("identifier");
            v.as_object_mut().unwrap().remove("metadata_url");
            assert!(v["effective"]["algorithms"].is_array());
        }
        assert_eq!(a, b, "{name}");
    }
}

#[tokio::test]
async fn resources_are_validated_field_by_field() {
    let lk = start().await;
    for (body, field) in [
        (json!({"name": "a b"}), "name"),
        (json!({"name": "x", "rules": [{"path": "books/*"}]}), "rules[0].path"),
        (json!({"name": "x", "rules": [{"path": "/b*"}]}), "rules[0].path"),
        (
            json!({"name": "x", "rules": [{"method": "GE T", "path": "/b"}]}),
            "rules[0].method",
        ),
        (
            json!({"name": "x", "rules": [{"path": "/b", "scopes": ["nope"]}]}),
            "rules[0].scopes[0]",
        ),
        (json!({"name": "x", "algorithms": ["HS256"]}), "algorithms[0]"),
        (json!({"name": "x", "algorithms": []}), "algorithms"),
        (json!({"name": "x", "mode": "enforce"}), "mode"),
        (json!({"name": "x", "upstream": "ftp://x"}), "upstream"),
        (json!({"name": "x", "response": {"a": null}}), "response"),
        (json!({"name": "x", "validation": "magic"}), "validation"),
        (
            json!({"name": "x", "bearer_methods": ["header", "header"]}),
            "bearer_methods[1]",
        ),
        (json!({"name": "x", "leeway": 90000}), "leeway"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "x", "validation": "introspection", "introspection_client": "nobody"}),
            "introspection_client",
        ),
    ] {
        let r = lk.post("/resources", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {r:?}");
        let fields: Vec<&str> = r.json["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
    // A scope used by a rule cannot be deleted.
    lk.resource(json!({"name": "x", "rules": [{"path": "/b", "scopes": ["add_books"]}]}))
        .await;
    assert_eq!(
        lk.http
            .delete(lk.api("/scopes/add_books"))
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
}

#[tokio::test]
async fn openapi_describes_the_new_routes() {
    let lk = start().await;
    let doc = lk.get("/openapi.json").await.json;
    for path in [
        "/admin/api/resource-profiles",
        "/admin/api/resources/{name}/check",
        "/admin/api/resources/{name}/calls",
        "/admin/api/resources/{name}/calls/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["components"]["schemas"]["Verdict"].is_object());
}
