//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, adopted by the
//! MCP authorization profile): a `client_id` that is an `https` URL names a JSON document of
//! client metadata (RFC 7591 §2) that Latchkey fetches, checks and caches.
//!
//! - The URL (draft §3): `https` (or `http` on a loopback host while `[registration]
//!   allow_http_loopback_client_ids` is on, for local development), with a path, without a
//!   fragment, user information, or `.`/`..` segments.
//! - Fetched through the defensive fetcher ([`crate::fetch`], `[fetch] allowed_hosts`) within
//!   `[fetch] timeout`, at most [`MAX_DOCUMENT_BYTES`], no redirect followed (the document's
//!   `client_id` must equal the URL it was fetched from).
//! - The document (draft §4): a JSON object whose `client_id` equals the URL byte for byte,
//!   with `redirect_uris`; no `client_secret` / `client_secret_expires_at`; the auth method
//!   `none` (default) or `private_key_jwt`. Redirect URIs on loopback, a private-use scheme or
//!   the document's own origin (or anywhere with `allow_non_loopback_redirect_uris`).
//! - Cached by URL for the `Cache-Control: max-age` the server sent, bounded to
//!   [`MIN_CACHE_SECONDS`]..=[`MAX_CACHE_SECONDS`] (`no-store`/`no-cache` count as the
//!   minimum; none at all: [`DEFAULT_CACHE_SECONDS`]), in real time; at most [`MAX_DOCUMENTS`]
//!   documents (least recently used dropped). A failed fetch is recorded (for the admin UI) and
//!   the client refused until a fetch succeeds.
//! - The client built from it always gets the consent page (like a dynamically registered
//!   client) naming the document's URL.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::events::Event;
use crate::model::Client;
use crate::oauth::client_documents::Entry;
pub use crate::oauth::client_documents::{
    DEFAULT_CACHE_SECONDS, DocumentView, Documents, MAX_CACHE_SECONDS, MAX_DOCUMENT_BYTES, MAX_DOCUMENTS,
    MIN_CACHE_SECONDS,
};
use crate::oauth::registration::metadata;
use crate::provider::Provider;

/// Whether a `client_id` is meant as a metadata-document URL (`https://` or `http://`).
pub fn is_document_id(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// Checks the `client_id` URL (draft §3). Errors are sentences.
pub fn check_client_id(raw: &str, allow_http_loopback: bool) -> Result<url::Url, String> {
    let u = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    match u.scheme() {
        "https" => {}
        "http" if allow_http_loopback && u.host().is_some_and(|h| crate::fetch::is_loopback_host(&h)) => {}
        "http" => {
            return Err(format!(
                "`{raw}` uses http: a client ID metadata document URL must be https (http only on this machine, \
                 with [registration] allow_http_loopback_client_ids = true)"
            ));
        }
        other => {
            return Err(format!(
                "`{raw}` uses `{other}`; a client ID metadata document URL must be https"
            ));
        }
    }
    if u.as_str() != raw {
        return Err(format!(
            "`{raw}` is not in normal form (it reads as `{u}`); the client_id must be exactly the document's URL"
        ));
    }
    if u.fragment().is_some() {
        return Err(format!("`{raw}` must not contain a fragment"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!("`{raw}` must not contain a user name or password"));
    }
    let path = raw.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let path = path.find('/').map(|i| &path[i..]).unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() || path == "/" {
        return Err(format!("`{raw}` must have a path (the draft requires one)"));
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(format!("`{raw}` must not contain `.` or `..` path segments"));
    }
    Ok(u)
}

/// The cache lifetime from `Cache-Control`, bounded (see the module documentation).
pub fn cache_seconds(cache_control: Option<&str>) -> i64 {
    let Some(cc) = cache_control else {
        return DEFAULT_CACHE_SECONDS;
    };
    let mut max_age = None;
    for d in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if d == "no-store" || d == "no-cache" {
            return MIN_CACHE_SECONDS;
        }
        if let Some(v) = d.strip_prefix("max-age=") {
            max_age = v.trim_matches('"').parse::<i64>().ok();
        }
    }
    max_age
        .unwrap_or(DEFAULT_CACHE_SECONDS)
        .clamp(MIN_CACHE_SECONDS, MAX_CACHE_SECONDS)
}

/// Checks a fetched document and builds its client.
pub fn client_from_document(p: &Provider, url: &url::Url, doc: &Value) -> Result<Client, String> {
    let Value::Object(m) = doc else {
        return Err("the document is not a JSON object".into());
    };
    match m.get("client_id").and_then(Value::as_str) {
        Some(id) if id == url.as_str() => {}
        Some(id) => {
            return Err(format!(
                "the document's client_id `{id}` differs from its URL `{url}` (they must be equal, draft §4.1)"
            ));
        }
        None => return Err("the document has no client_id (draft §4.1)".into()),
    }
    if m.get("redirect_uris").is_none() {
        return Err("the document has no redirect_uris".into());
    }
    let settings = p.settings();
    let scopes = crate::oauth::registration::default_scopes(p);
    let (mut client, meta) = metadata::parse(
        m,
        metadata::Source::Document(url),
        &settings.registration,
        &settings.fetch,
        &|s| p.scope_exists(s),
        &scopes,
    )
    .map_err(|e| format!("{}: {}", e.code.as_str(), e.description))?;
    client.client_id = url.as_str().to_string();
    if client.name.is_empty() {
        client.name = url.host_str().unwrap_or("").to_string();
    }
    let _: Map<String, Value> = meta;
    metadata::check_client(&client, &|s| p.scope_exists(s))
        .map_err(|e| format!("{}: {}", e.code.as_str(), e.description))?;
    Ok(client)
}

/// The client for `client_id` when it names a metadata document: a registered client with that
/// id wins; otherwise the cached document while fresh, else fetched now. `Ok(None)`: not a
/// document URL (or the feature is off), so the caller's usual "unknown client" applies.
/// `Err`: why the document cannot be used (shown on the error page / in `invalid_client`).
pub async fn resolve(p: &Provider, client_id: &str) -> Result<Option<Arc<Client>>, String> {
    if !is_document_id(client_id) || p.client_registered(client_id) {
        return Ok(None);
    }
    let settings = p.settings();
    if !settings.registration.client_id_metadata_documents {
        return Ok(None);
    }
    let url = check_client_id(client_id, settings.registration.allow_http_loopback_client_ids)?;
    let now = p.clock.real_now();
    let docs = &p.client_documents;
    if let Some(e) = docs.lock().get(client_id).cloned()
        && now < e.view.expires_at
        && let Some(c) = e.client
    {
        return Ok(Some(c));
    }
    let fetcher = docs
        .fetcher
        .get()
        .ok_or_else(|| "this server has no HTTP client to fetch client ID metadata documents".to_string())?;
    let limits = crate::fetch::Limits {
        max_bytes: MAX_DOCUMENT_BYTES,
        timeout: Duration::from_secs(settings.fetch.timeout.0),
        max_redirects: 0,
    };
    let got = fetcher.get(&url, &settings.fetch, limits, "application/json").await;
    let (view, client) = match got {
        Err(e) => (
            DocumentView {
                url: client_id.to_string(),
                fetched_at: now,
                expires_at: now,
                status: None,
                cache_control: None,
                outcome: "failed".into(),
                error: Some(e),
                document: None,
                client: None,
            },
            None,
        ),
        Ok(f) => {
            let parsed: Option<Value> = serde_json::from_slice(&f.body).ok();
            let shown = parsed.clone().unwrap_or_else(|| {
                Value::String(
                    String::from_utf8_lossy(&f.body)
                        .chars()
                        .take(MAX_DOCUMENT_BYTES)
                        .collect(),
                )
            });
            let checked = if f.status != 200 {
                Err(format!("{} answered HTTP {}, not 200", f.url, f.status))
            } else {
                match &parsed {
                    Some(doc) => client_from_document(p, &url, doc),
                    None => Err("the answer is not JSON".to_string()),
                }
            };
            let base = DocumentView {
                url: client_id.to_string(),
                fetched_at: now,
                expires_at: now,
                status: Some(f.status),
                cache_control: f.cache_control.clone(),
                outcome: String::new(),
                error: None,
                document: Some(shown),
                client: None,
            };
            match checked {
                Ok(c) => (
                    DocumentView {
                        expires_at: now.saturating_add(cache_seconds(f.cache_control.as_deref())),
                        outcome: "valid".into(),
                        client: Some(c.clone()),
                        ..base
                    },
                    Some(Arc::new(c)),
                ),
                Err(e) => (
                    DocumentView {
                        outcome: "invalid".into(),
                        error: Some(e),
                        ..base
                    },
                    None,
                ),
            }
        }
    };
    docs.lock().insert(
        client_id.to_string(),
        Entry {
            view: view.clone(),
            client: client.clone(),
        },
    );
    let error = view.error.clone();
    p.events
        .publish(p.clock.now_ms(), Event::ClientDocumentFetched(Box::new(view)));
    match client {
        Some(c) => Ok(Some(c)),
        None => Err(format!(
            "the client ID metadata document at {client_id} cannot be used: {}",
            error.unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_urls_follow_the_draft() {
        assert!(check_client_id("https://app.example/client.json", true).is_ok());
        assert!(check_client_id("http://127.0.0.1:9/c.json", true).is_ok());
        assert!(check_client_id("http://localhost:9/c.json", true).is_ok());
        for bad in [
            "http://127.0.0.1:9/c.json",
            "http://app.example/c.json",
            "https://app.example",
            "https://app.example/",
            "https://app.example/a/../c.json",
            "https://app.example/./c.json",
            "https://u:p@app.example/c.json",
            "https://app.example/c.json#x",
            "https://APP.example/c.json",
        ] {
            let allow = bad != "http://127.0.0.1:9/c.json";
            assert!(check_client_id(bad, allow).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_control_is_bounded() {
        assert_eq!(cache_seconds(None), DEFAULT_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("max-age=60")), 60);
        assert_eq!(cache_seconds(Some("public, max-age=999999999")), MAX_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("no-store")), MIN_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("max-age=-5")), MIN_CACHE_SECONDS);
    }
}
