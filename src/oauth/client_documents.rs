//! The cache of fetched Client ID Metadata Documents and what the admin API shows of each.
//! Kept apart from the fetching and validation (`client_metadata_document`) so the provider
//! and the event types can name it without importing code that uses them.

use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::fetch::Fetch;
use crate::model::Client;

/// Largest document accepted, in bytes (the draft suggests 5 KB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// Documents cached at once.
pub const MAX_DOCUMENTS: usize = 200;
/// Shortest cache lifetime, in seconds (`no-cache`, `max-age=0`).
pub const MIN_CACHE_SECONDS: i64 = 0;
/// Longest cache lifetime, in seconds (24 hours).
pub const MAX_CACHE_SECONDS: i64 = 86_400;
/// Cache lifetime without `Cache-Control`, in seconds.
pub const DEFAULT_CACHE_SECONDS: i64 = 300;

/// What Latchkey fetched for a metadata-document `client_id`, for the admin API and UI.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// The URL (the `client_id`).
    pub url: String,
    /// When it was last fetched (UNIX seconds, real time).
    pub fetched_at: i64,
    /// Until when it is used without fetching again (UNIX seconds, real time).
    pub expires_at: i64,
    /// The HTTP status, when an answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Cache-Control` of the answer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `valid`, `invalid` (fetched but refused) or `failed` (not fetched).
    pub outcome: String,
    /// Why it was refused or not fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The document as fetched (a JSON value; a string when it was not JSON, cut to 5 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub document: Option<Value>,
    /// The client built from it (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) view: DocumentView,
    pub(crate) client: Option<Arc<Client>>,
}

/// The cache of fetched documents.
pub struct Documents {
    cache: Mutex<hashlink::LruCache<String, Entry>>,
    pub(crate) fetcher: OnceLock<Arc<dyn Fetch>>,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            cache: Mutex::new(hashlink::LruCache::new(MAX_DOCUMENTS)),
            fetcher: OnceLock::new(),
        }
    }
}

impl Documents {
    /// Installs the HTTP client (once, at start).
    pub fn set_fetcher(&self, f: Arc<dyn Fetch>) {
        let _ = self.fetcher.set(f);
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, hashlink::LruCache<String, Entry>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client of a cached valid document (fresh or not): what the token endpoint and the
    /// later authorization steps use.
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.lock().peek(client_id).and_then(|e| e.client.clone())
    }

    /// What was fetched for `url`, if anything.
    pub fn view(&self, url: &str) -> Option<DocumentView> {
        self.lock().peek(url).map(|e| e.view.clone())
    }

    /// Every cached document, most recently fetched first.
    pub fn list(&self) -> Vec<DocumentView> {
        let mut v: Vec<DocumentView> = self.lock().iter().map(|(_, e)| e.view.clone()).collect();
        v.sort_by(|a, b| b.fetched_at.cmp(&a.fetched_at).then(a.url.cmp(&b.url)));
        v
    }

    /// Forgets one document (the next use fetches it again). Returns whether it was cached.
    pub fn forget(&self, url: &str) -> bool {
        self.lock().remove(url).is_some()
    }

    /// Forgets every document.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
