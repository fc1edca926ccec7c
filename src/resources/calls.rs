//! Recent calls to each resource: a bounded ring per resource ([`CALLS_PER_RESOURCE`]), oldest
//! dropped first. In memory only: a restart starts with empty lists, as the request log does.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use utoipa::ToSchema;

use super::verdict::Verdict;

/// How many calls are kept per resource.
pub const CALLS_PER_RESOURCE: usize = 100;

/// One call to a resource, with its verdict (what `resource.called` carries).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResourceCall {
    /// Increasing from 1 across all resources.
    pub id: i64,
    /// When it arrived (server clock), UNIX milliseconds.
    pub at: i64,
    /// The resource's name.
    pub resource: String,
    /// The request method.
    pub method: String,
    /// The path relative to the resource.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// The verdict.
    #[schema(value_type = Verdict)]
    pub verdict: Arc<Verdict>,
    /// The token's `client_id`, when it could be read.
    pub client_id: Option<String>,
    /// The token's `sub`, when it could be read.
    pub sub: Option<String>,
    /// For a resource with an `upstream` (the explaining proxy): what was forwarded and what
    /// the upstream answered; absent for simulated calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::proxy::ProxyRecord>)]
    pub proxy: Option<Arc<super::proxy::ProxyRecord>>,
}

/// The rings, by resource name.
#[derive(Default)]
pub struct CallLog {
    next_id: AtomicI64,
    rings: Mutex<HashMap<String, VecDeque<Arc<ResourceCall>>>>,
}

impl CallLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Arc<ResourceCall>>>> {
        match self.rings.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The id the next call gets.
    pub fn next_id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Keeps `call`, dropping the resource's oldest beyond [`CALLS_PER_RESOURCE`].
    pub fn push(&self, call: Arc<ResourceCall>) {
        let mut rings = self.lock();
        let ring = rings.entry(call.resource.clone()).or_default();
        if ring.len() >= CALLS_PER_RESOURCE {
            ring.pop_front();
        }
        ring.push_back(call);
    }

    /// The resource's calls, newest first.
    pub fn list(&self, resource: &str) -> Vec<Arc<ResourceCall>> {
        self.lock()
            .get(resource)
            .map(|r| r.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// One call of the resource.
    pub fn get(&self, resource: &str, id: i64) -> Option<Arc<ResourceCall>> {
        self.lock()
            .get(resource)
            .and_then(|r| r.iter().find(|c| c.id == id).cloned())
    }

    /// Forgets every call and numbers the next one 1 again (a reset).
    pub fn clear(&self) {
        self.lock().clear();
        self.next_id.store(0, Ordering::Relaxed);
    }

    /// Forgets a deleted resource's calls.
    pub fn forget(&self, resource: &str) {
        self.lock().remove(resource);
    }
}
