//! `[[faults]]` and `[[scenarios]]` in the config file (validated with file:line errors,
//! exported and imported unchanged), scenarios by API and at start, and `POST /admin/api/reset`.

use reqwest::Method;
use serde_json::json;

use crate::common::spawn;
use crate::harness::{admin, cc, config, rule};

fn with_faults() -> String {
    format!(
        "{}{}",
        config(),
        r#"
[[faults]]
name = "token endpoint down"
endpoint = "token"
client_id = "svc"
action = "status"
status = 503
times = 1

[[scenarios]]
name = "login denied"
description = "Every login is refused"
clock_offset = 3600

[[scenarios.faults]]
name = "deny"
endpoint = "login"
action = "error"
error = "access_denied"
"#
    )
}

#[tokio::test]
async fn faults_from_the_file_apply_and_round_trip_through_export() {
    let s = spawn(&with_faults()).await;
    assert_eq!(cc(&s, "svc").await.status(), 503);
    assert_eq!(cc(&s, "svc").await.status(), 200);
    let r = s.http.get(s.at("/admin/api/config")).send().await.unwrap();
    let toml = r.text().await.unwrap();
    assert!(toml.contains("[[faults]]\nname = \"token endpoint down\""), "{toml}");
    assert!(toml.contains("[[scenarios]]"), "{toml}");
    // The exported file parses and validates to the same rules and scenarios.
    let parsed = latchkey::config::parse_and_validate("export.toml", &toml, &|_| true).expect("export parses");
    assert_eq!(parsed.faults.len(), 1);
    assert_eq!(parsed.faults[0].status, Some(503));
    assert_eq!(parsed.scenarios[0].clock_offset, Some(3600));
    assert_eq!(parsed.scenarios[0].faults[0].error.as_deref(), Some("access_denied"));
}

#[tokio::test]
async fn bad_rules_are_refused_with_file_and_line() {
    let bad = format!(
        "{}{}",
        config(),
        "\n[[faults]]\nname = \"x\"\nendpoint = \"jwks\"\naction = \"tamper\"\ntamper = \"expired\"\n"
    );
    let errs = latchkey::config::parse_and_validate("latchkey.toml", &bad, &|_| true).unwrap_err();
    let text = errs.to_string();
    assert!(text.contains("latchkey.toml:"), "{text}");
    assert!(text.contains("faults[0].action"), "{text}");
    assert!(text.contains("tamper applies to the token endpoint only"), "{text}");
    let bad = format!(
        "{}\n[[faults]]\nname = \"x\"\nendpoint = \"token\"\naction = \"explode\"\n",
        config()
    );
    let text = latchkey::config::parse_and_validate("latchkey.toml", &bad, &|_| true)
        .unwrap_err()
        .to_string();
    assert!(text.contains("explode"), "{text}");
}

#[tokio::test]
async fn scenarios_by_api_save_apply_and_reset() {
    let s = spawn(&with_faults()).await;
    let (st, sc) = admin(&s, Method::POST, "/scenarios/login%20denied/apply", None).await;
    assert_eq!(st, 200, "{sc}");
    let (_, clock) = admin(&s, Method::GET, "/clock", None).await;
    assert_eq!(clock["offset"], 3600, "{clock}");
    let (_, rules) = admin(&s, Method::GET, "/faults", None).await;
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["name"], "deny");
    // Save the current state as a new scenario, change things, apply it back.
    let (st, saved) = admin(
        &s,
        Method::POST,
        "/scenarios/mine/save",
        Some(json!({"description": "saved"})),
    )
    .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["faults"][0]["name"], "deny");
    assert_eq!(saved["clock_offset"], 3600);
    admin(&s, Method::PUT, "/faults", Some(json!([]))).await;
    let (st, _) = admin(&s, Method::POST, "/scenarios/mine/apply", None).await;
    assert_eq!(st, 200);
    assert_eq!(rule(&s, "deny").await["fired"], 0);
    assert_eq!(admin(&s, Method::POST, "/scenarios/nope/apply", None).await.0, 404);
    // Reset: back to the rules the server started with, counters at zero, clock at real time.
    let (st, _) = admin(&s, Method::POST, "/reset", None).await;
    assert_eq!(st, 200);
    let (_, rules) = admin(&s, Method::GET, "/faults", None).await;
    assert_eq!(rules[0]["name"], "token endpoint down", "{rules}");
    assert_eq!(rules[0]["fired"], 0);
    let (_, list) = admin(&s, Method::GET, "/scenarios", None).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the saved scenario is gone with the reset: {list}"
    );
    assert_eq!(cc(&s, "svc").await.status(), 503);
}

#[tokio::test]
async fn a_scenario_applied_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latchkey.toml"), with_faults()).unwrap();
    let server = latchkey::start(latchkey::ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: latchkey::DbLocation::Memory,
        config: Some(dir.path().join("latchkey.toml")),
        scenario: Some("login denied".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let v: serde_json::Value = reqwest::get(format!("{}/admin/api/faults", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v[0]["name"], "deny");
    let err = latchkey::start(latchkey::ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: latchkey::DbLocation::Memory,
        config: Some(dir.path().join("latchkey.toml")),
        scenario: Some("missing".into()),
        ..Default::default()
    })
    .await
    .err()
    .expect("an unknown scenario stops the start");
    assert!(err.to_string().contains("no scenario `missing`"), "{err}");
}
