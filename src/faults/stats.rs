//! Call counts (`/admin/api/stats`): requests per endpoint, per client and endpoint, and per
//! user and endpoint, since start or the last reset, so a test can assert "the app fetched a
//! token once and cached it" or "it fetched the JWKS only after a kid miss".
//!
//! Counting is one atomic add per request, plus a short map update when the request names a
//! client or user. At most [`MAX_KEYS`] distinct clients and users are counted each (further
//! ones are added up under `other`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;
use utoipa::ToSchema;

use super::Endpoint;

/// The most distinct clients (and, separately, users) counted by name.
pub const MAX_KEYS: usize = 1000;

const N: usize = Endpoint::ALL.len();

#[derive(Debug, Default)]
struct Named {
    by_name: HashMap<String, [u64; N]>,
    other: [u64; N],
}

impl Named {
    fn add(&mut self, name: &str, e: Endpoint) {
        let i = e as usize;
        if let Some(row) = self.by_name.get_mut(name) {
            row[i] += 1;
        } else if self.by_name.len() < MAX_KEYS {
            let mut row = [0; N];
            row[i] = 1;
            self.by_name.insert(name.to_string(), row);
        } else {
            self.other[i] += 1;
        }
    }
}

/// The counters.
#[derive(Debug, Default)]
pub struct Stats {
    endpoints: [AtomicU64; N],
    clients: Mutex<Named>,
    users: Mutex<Named>,
    since_ms: AtomicI64,
}

/// Counts by endpoint name (only endpoints called at least once) and their total.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Counts {
    /// Calls in all.
    pub total: u64,
    /// Calls per endpoint (`token`, `jwks`, ...).
    pub endpoints: BTreeMap<String, u64>,
}

impl Counts {
    fn of(row: &[u64; N]) -> Counts {
        let endpoints: BTreeMap<String, u64> = Endpoint::ALL
            .iter()
            .zip(row)
            .filter(|(_, n)| **n > 0)
            .map(|(e, n)| (e.as_str().to_string(), *n))
            .collect();
        Counts {
            total: row.iter().sum(),
            endpoints,
        }
    }
}

/// `GET /admin/api/stats`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsView {
    /// Since when the counts run, UNIX milliseconds (server clock at start or the last reset).
    pub since_ms: i64,
    /// Every call.
    pub all: Counts,
    /// Calls by client id (Basic authentication, `client_id` in the form or query).
    pub clients: BTreeMap<String, Counts>,
    /// Calls by username (login, consent, the password grant).
    pub users: BTreeMap<String, Counts>,
    /// Calls of clients (or users) beyond the first 1,000 distinct ones.
    pub other: Counts,
}

fn lock(m: &Mutex<Named>) -> std::sync::MutexGuard<'_, Named> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stats {
    /// Counts one call of `e`, by `client` and `user` when known.
    pub fn count(&self, e: Endpoint, client: Option<&str>, user: Option<&str>) {
        self.endpoints[e as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(c) = client {
            lock(&self.clients).add(c, e);
        }
        if let Some(u) = user {
            lock(&self.users).add(u, e);
        }
    }

    /// Starts counting afresh from `now_ms`.
    pub fn reset_at(&self, now_ms: i64) {
        for c in &self.endpoints {
            c.store(0, Ordering::Relaxed);
        }
        *lock(&self.clients) = Named::default();
        *lock(&self.users) = Named::default();
        self.since_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Starts counting afresh (the time is set by [`Stats::reset_at`] when known).
    pub fn reset(&self) {
        let since = self.since_ms.load(Ordering::Relaxed);
        self.reset_at(since);
    }

    /// The counts.
    pub fn view(&self) -> StatsView {
        let row: [u64; N] = std::array::from_fn(|i| self.endpoints[i].load(Ordering::Relaxed));
        let (clients, users) = (lock(&self.clients), lock(&self.users));
        let mut other = [0; N];
        for (i, o) in other.iter_mut().enumerate() {
            *o = clients.other[i] + users.other[i];
        }
        StatsView {
            since_ms: self.since_ms.load(Ordering::Relaxed),
            all: Counts::of(&row),
            clients: clients
                .by_name
                .iter()
                .map(|(k, v)| (k.clone(), Counts::of(v)))
                .collect(),
            users: users.by_name.iter().map(|(k, v)| (k.clone(), Counts::of(v))).collect(),
            other: Counts::of(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_endpoint_client_and_user() {
        let s = Stats::default();
        s.count(Endpoint::Token, Some("app"), None);
        s.count(Endpoint::Token, Some("app"), Some("alice"));
        s.count(Endpoint::Jwks, None, None);
        let v = s.view();
        assert_eq!(v.all.total, 3);
        assert_eq!(v.all.endpoints["token"], 2);
        assert_eq!(v.clients["app"].endpoints["token"], 2);
        assert_eq!(v.users["alice"].total, 1);
        s.reset_at(5);
        let v = s.view();
        assert_eq!((v.all.total, v.since_ms, v.clients.len()), (0, 5, 0));
    }
}
