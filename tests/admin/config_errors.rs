//! Type and value errors in a config file name the key, from a file at start and through
//! `PUT /admin/api/config`.

use latchkey::{DbLocation, ServeOptions};

use crate::common::{body, start};

const BAD_TTL: &str = "[server]\naccess_token_ttl = \"abc\"\n";
const BAD_ALG: &str = "[server]\nsigning_alg=\"HS256\"\n";

async fn start_error(name: &str, contents: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join(name);
    std::fs::write(&cfg, contents).unwrap();
    let err = latchkey::start(ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        db: DbLocation::Memory,
        config: Some(cfg.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("a bad config file does not start");
    // The message names the file as given: keep the file name only.
    let text = err.to_string();
    let at = text.find(name).expect("the file is named");
    text[at..].to_string()
}

#[tokio::test]
async fn a_bad_value_in_a_file_names_the_line_and_the_key() {
    let e = start_error("bad4.toml", BAD_TTL).await;
    assert!(
        e.starts_with("bad4.toml:2:20: `server.access_token_ttl` invalid duration"),
        "{e}"
    );
    let e = start_error("bad5.toml", BAD_ALG).await;
    assert!(
        e.starts_with("bad5.toml:2:13: `server.signing_alg` unknown variant"),
        "{e}"
    );
}

#[tokio::test]
async fn a_bad_value_in_an_admin_import_names_the_field() {
    let lk = start().await;
    for (src, field, line, col) in [
        (BAD_TTL, "server.access_token_ttl", 2, 20),
        (BAD_ALG, "server.signing_alg", 2, 13),
        (
            "[[clients]]\nclient_id = \"x\"\ngrant_types = [\"magic\"]\n",
            "clients[0].grant_types[0]",
            3,
            16,
        ),
    ] {
        let r = lk.http.put(lk.api("/config")).body(src).send().await.unwrap();
        let (s, e) = body(r).await;
        assert_eq!((s, e["error"].as_str()), (400, Some("invalid_config")), "{e}");
        assert_eq!(e["fields"][0]["field"], field, "{e}");
        assert_eq!(e["fields"][0]["line"], line, "{e}");
        assert_eq!(e["fields"][0]["column"], col, "{e}");
        let msg = e["error_description"]
            .as_str()
            .or(e["message"].as_str())
            .unwrap_or_default();
        assert!(msg.contains(&format!("`{field}`")), "{e}");
    }
}
