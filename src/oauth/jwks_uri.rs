//! Public keys published at a `jwks_uri` (a client's for `private_key_jwt`, a trusted
//! issuer's for the JWT bearer grant): fetched, checked and cached.
//!
//! Bounds (docs/security.md): a document of at most [`MAX_JWKS_BYTES`], fetched within
//! [`FETCH_TIMEOUT`]; at most [`MAX_DOCUMENTS`] documents cached (least recently used dropped),
//! each for [`CACHE_SECONDS`] of real time; an unknown `kid` fetches again at once, at most
//! every [`REFETCH_COOLDOWN`] seconds per URL. The URLs come from the registry (the admin's, or
//! a dynamic registration's), never from a token, so they go through the defensive fetcher
//! ([`crate::fetch`]): `[fetch] allowed_hosts`, by default any host over https and loopback
//! over http, at most [`MAX_REDIRECTS`] redirects.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};

/// Largest JWK Set accepted, in bytes (64 KiB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The default of `[fetch] timeout`, which bounds connecting and answering together.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Documents cached at once.
pub const MAX_DOCUMENTS: usize = 100;
/// How long a fetched document is used, in seconds of real time.
pub const CACHE_SECONDS: i64 = 300;
/// Shortest interval between two fetches of the same URL caused by an unknown `kid`, in seconds.
pub const REFETCH_COOLDOWN: i64 = 10;

pub use crate::fetch::Fetch;

/// Redirects followed when fetching a JWK Set (each target re-checked by the fetcher).
pub const MAX_REDIRECTS: u8 = 3;

/// Keys from a JWK Set document, and when they were fetched (real time, UNIX seconds).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The keys.
    pub keys: Arc<Vec<Map<String, Value>>>,
    /// When fetched.
    pub at: i64,
}

/// The cache of fetched JWK Sets, by URL.
pub struct RemoteJwks {
    cache: Mutex<hashlink::LruCache<String, Fetched>>,
    fetcher: std::sync::OnceLock<Arc<dyn Fetch>>,
}

impl Default for RemoteJwks {
    fn default() -> Self {
        RemoteJwks {
            cache: Mutex::new(hashlink::LruCache::new(MAX_DOCUMENTS)),
            fetcher: std::sync::OnceLock::new(),
        }
    }
}

impl RemoteJwks {
    /// Installs the HTTP client (once, at start).
    pub fn set_fetcher(&self, f: Arc<dyn Fetch>) {
        let _ = self.fetcher.set(f);
    }

    /// The keys at `url`: cached when fresh (and `refresh` is false), fetched otherwise.
    /// `refresh`: a token named a `kid` the cached keys lack; fetched again unless the last
    /// fetch is under [`REFETCH_COOLDOWN`] seconds old. `now`: real time. Errors describe the
    /// failure for an error description.
    pub async fn keys(
        &self,
        url: &str,
        refresh: bool,
        now: i64,
        policy: &crate::model::FetchSettings,
    ) -> Result<Fetched, String> {
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(url).cloned();
        if let Some(c) = &cached {
            let age = now.saturating_sub(c.at);
            let fresh = (0..CACHE_SECONDS).contains(&age);
            if fresh && (!refresh || age < REFETCH_COOLDOWN) {
                return Ok(c.clone());
            }
        }
        let fetched = self.fetch(url, now, policy).await?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_string(), fetched.clone());
        Ok(fetched)
    }

    async fn fetch(&self, raw: &str, now: i64, policy: &crate::model::FetchSettings) -> Result<Fetched, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("jwks_uri `{raw}` is not a URL ({e})"))?;
        let fetcher = self
            .fetcher
            .get()
            .ok_or_else(|| "this server has no HTTP client to fetch a jwks_uri".to_string())?;
        let limits = crate::fetch::Limits {
            max_bytes: MAX_JWKS_BYTES,
            timeout: Duration::from_secs(policy.timeout.0.max(1)),
            max_redirects: MAX_REDIRECTS,
        };
        let got = fetcher
            .get(&url, policy, limits, "application/jwk-set+json, application/json")
            .await
            .map_err(|e| format!("jwks_uri: {e}"))?;
        if got.status != 200 {
            return Err(format!("jwks_uri {raw} answered HTTP {}, not 200", got.status));
        }
        Ok(Fetched {
            keys: Arc::new(parse_jwks(&got.body).map_err(|e| format!("jwks_uri {raw}: {e}"))?),
            at: now,
        })
    }

    /// Forgets every fetched document.
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Parses a JWK Set document (RFC 7517 §5): a JSON object with a `keys` array of objects.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_string())?;
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| "the answer is not a JWK Set (no `keys` array, RFC 7517 §5)".to_string())?;
    Ok(keys.iter().filter_map(|k| k.as_object().cloned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::BoxFuture;

    struct Counting(std::sync::atomic::AtomicUsize);

    impl Fetch for Counting {
        fn get<'a>(
            &'a self,
            url: &'a url::Url,
            _policy: &'a crate::model::FetchSettings,
            _limits: crate::fetch::Limits,
            _accept: &'a str,
        ) -> BoxFuture<'a, Result<crate::fetch::Fetched, String>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                Ok(crate::fetch::Fetched {
                    status: 200,
                    url: url.clone(),
                    content_type: None,
                    cache_control: None,
                    body: bytes::Bytes::from_static(br#"{"keys":[{"kty":"EC"}]}"#),
                })
            })
        }
    }

    #[tokio::test]
    async fn documents_are_cached_and_refetched_after_the_cooldown() {
        let r = RemoteJwks::default();
        let f = Arc::new(Counting(Default::default()));
        r.set_fetcher(f.clone());
        let calls = || f.0.load(std::sync::atomic::Ordering::SeqCst);
        let url = "http://127.0.0.1:1/jwks";
        let p = crate::model::FetchSettings::default();
        assert_eq!(r.keys(url, false, 1_000, &p).await.unwrap().keys.len(), 1);
        r.keys(url, false, 1_100, &p).await.unwrap();
        assert_eq!(calls(), 1);
        r.keys(url, true, 1_005, &p).await.unwrap();
        assert_eq!(calls(), 1, "within the cooldown");
        r.keys(url, true, 1_020, &p).await.unwrap();
        assert_eq!(calls(), 2);
        r.keys(url, false, 1_020 + CACHE_SECONDS, &p).await.unwrap();
        assert_eq!(calls(), 3, "stale");
    }

    #[test]
    fn only_jwk_sets_parse() {
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"nope").is_err());
        assert_eq!(parse_jwks(br#"{"keys":[]}"#).unwrap().len(), 0);
    }
}
