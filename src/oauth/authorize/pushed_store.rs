//! The pushed authorization requests held in memory (RFC 9126): bounded, single use, with the
//! recently spent ones kept so a client is told why its `request_uri` no longer works. Kept apart
//! from the endpoint (`pushed`) so the provider can hold the store without importing the
//! protocol code that uses the provider.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::oauth::request::ResponseMode;

/// RFC 9126 §2.2: the URN prefix of every `request_uri` this server issues.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Most pushed requests kept at once; one more evicts the oldest.
pub const MAX_PUSHED: usize = 1000;

/// A pushed request as stored.
#[derive(Debug, Clone)]
pub(crate) struct Pushed {
    pub(crate) client_id: String,
    /// The authorization request's parameters (client authentication removed, `client_id` set).
    pub(crate) params: Vec<(String, String)>,
    pub(crate) expires_at: i64,
    /// Where errors about it may be redirected (validated at the push), its `state` and mode.
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) mode: ResponseMode,
}

/// Why a spent `request_uri` cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    Used,
    Expired,
    Evicted,
}

#[derive(Debug, Default)]
struct Inner {
    live: HashMap<String, Pushed>,
    order: VecDeque<String>,
    /// Recently spent ones, so a client is told why (at most [`MAX_PUSHED`]).
    spent: HashMap<String, (Pushed, Spent)>,
    spent_order: VecDeque<String>,
}

impl Inner {
    fn spend(&mut self, uri: String, p: Pushed, why: Spent) {
        while self.spent.len() >= MAX_PUSHED {
            let Some(old) = self.spent_order.pop_front() else {
                break;
            };
            self.spent.remove(&old);
        }
        self.spent_order.push_back(uri.clone());
        self.spent.insert(uri, (p, why));
    }

    fn purge(&mut self, now: i64) {
        let expired: Vec<String> = self
            .live
            .iter()
            .filter(|(_, p)| p.expires_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            if let Some(p) = self.live.remove(&k) {
                self.spend(k, p, Spent::Expired);
            }
        }
        self.order.retain(|k| self.live.contains_key(k));
    }
}

/// The pushed authorization requests (bounded, in memory).
#[derive(Debug, Default)]
pub struct PushedRequests {
    inner: Mutex<Inner>,
}

impl PushedRequests {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Forgets every pushed request (a reset).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// How many live pushed requests are held.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn insert(&self, p: Pushed, now: i64) -> String {
        let uri = format!("{REQUEST_URI_PREFIX}{}", crate::ids::opaque_token());
        let mut g = self.lock();
        if g.live.len() >= MAX_PUSHED {
            g.purge(now);
        }
        while g.live.len() >= MAX_PUSHED {
            let Some(old) = g.order.pop_front() else {
                break;
            };
            if let Some(o) = g.live.remove(&old) {
                g.spend(old, o, Spent::Evicted);
            }
        }
        g.order.push_back(uri.clone());
        g.live.insert(uri.clone(), p);
        uri
    }

    /// Takes the pushed request `uri` for `client_id` (single use). A request pushed by another
    /// client stays.
    pub(crate) fn take(&self, uri: &str, client_id: &str, now: i64) -> Result<Pushed, Refusal> {
        let mut g = self.lock();
        if let Some(p) = g.live.get(uri) {
            if p.client_id != client_id {
                return Err(Refusal::OtherClient(p.client_id.clone()));
            }
            let expired = p.expires_at <= now;
            let Some(p) = g.live.remove(uri) else {
                return Err(Refusal::Unknown);
            };
            g.order.retain(|k| k != uri);
            let why = if expired { Spent::Expired } else { Spent::Used };
            g.spend(uri.to_string(), p.clone(), why);
            return if expired {
                Err(Refusal::Spent(p, Spent::Expired))
            } else {
                Ok(p)
            };
        }
        match g.spent.get(uri) {
            Some((p, _)) if p.client_id != client_id => Err(Refusal::OtherClient(p.client_id.clone())),
            Some((p, why)) => Err(Refusal::Spent(p.clone(), *why)),
            None => Err(Refusal::Unknown),
        }
    }
}

pub(crate) enum Refusal {
    Unknown,
    OtherClient(String),
    Spent(Pushed, Spent),
}
