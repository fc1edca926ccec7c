//! Authorization requests waiting for the user (the login or consent page is open), each bound
//! to the browser that started it.
//!
//! Bounds: at most [`MAX_PENDING`] requests, each for [`PENDING_TTL`] seconds; starting one more
//! evicts the oldest. The ids of the last [`MAX_PENDING`] evicted requests are remembered, so a
//! user who then signs in to one is told why it is gone rather than "unknown". Each request's
//! size is bounded by the authorization endpoint's parameter limits (`authorize::limits`).
//!
//! Binding (the defence against a third party who keeps a pending request's id and posts the
//! login or consent decision from another browser): every request carries the value of the
//! browser's `latchkey_flow` cookie, set when `/authorize` parks it. The login and consent
//! steps present the cookie; a missing or different value is refused ([`Refusal::OtherBrowser`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use subtle::ConstantTimeEq;

use super::request::AuthRequest;
use super::session::Session;

/// How long a half-finished authorization (login or consent page open) stays usable, seconds.
pub const PENDING_TTL: i64 = 600;
/// How many authorization requests may wait at once; one more evicts the oldest.
pub const MAX_PENDING: usize = 1000;

/// An authorization request waiting for the user.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The id carried by the login and consent forms.
    pub id: String,
    /// The validated request.
    pub request: AuthRequest,
    /// When it started.
    pub created_at: i64,
    /// Set once the user has authenticated for this request.
    pub authenticated: Option<Session>,
    /// The browser binding: the `latchkey_flow` cookie value of the browser that started it.
    binding: String,
    /// Position in the eviction order.
    seq: u64,
}

/// Why a pending request cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never existed, answered already, or older than [`PENDING_TTL`].
    Unknown,
    /// Dropped to stay within [`MAX_PENDING`].
    Evicted,
    /// Started in another browser (the binding cookie is missing or different).
    OtherBrowser,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Pending>,
    /// `seq` → id, oldest first.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    evicted: VecDeque<String>,
    evicted_set: HashSet<String>,
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<Pending> {
        let p = self.by_id.remove(id)?;
        self.order.remove(&p.seq);
        Some(p)
    }

    fn purge_expired(&mut self, now: i64) {
        while let Some((_, id)) = self.order.first_key_value() {
            let expired = self.by_id.get(id).is_none_or(|p| p.created_at + PENDING_TTL <= now);
            if !expired {
                break;
            }
            if let Some((_, id)) = self.order.pop_first() {
                self.by_id.remove(&id);
            }
        }
    }

    fn evict_oldest(&mut self, cap: usize) {
        while self.by_id.len() >= cap {
            let Some((_, id)) = self.order.pop_first() else {
                break;
            };
            self.by_id.remove(&id);
            if self.evicted.len() >= cap
                && let Some(old) = self.evicted.pop_front()
            {
                self.evicted_set.remove(&old);
            }
            self.evicted_set.insert(id.clone());
            self.evicted.push_back(id);
        }
    }
}

/// The pending requests.
#[derive(Debug)]
pub struct PendingRequests {
    inner: Mutex<Inner>,
    cap: usize,
}

impl Default for PendingRequests {
    fn default() -> Self {
        PendingRequests::with_capacity(MAX_PENDING)
    }
}

/// Constant-time equality of two binding values; an empty binding never matches.
fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl PendingRequests {
    /// A store holding at most `cap` requests (at least 1).
    pub fn with_capacity(cap: usize) -> PendingRequests {
        PendingRequests {
            inner: Mutex::new(Inner::default()),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Drops every waiting request (a reset).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// How many requests are waiting (expired ones included until the next `park`).
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parks a request for the browser whose binding cookie is `binding`; returns its id. Drops
    /// expired requests and, at the cap, the oldest one.
    pub fn park(&self, request: AuthRequest, authenticated: Option<Session>, binding: &str, now: i64) -> String {
        let id = crate::ids::opaque_token();
        let mut g = self.lock();
        g.purge_expired(now);
        g.evict_oldest(self.cap);
        let seq = g.next_seq;
        g.next_seq += 1;
        g.order.insert(seq, id.clone());
        g.by_id.insert(
            id.clone(),
            Pending {
                id: id.clone(),
                request,
                created_at: now,
                authenticated,
                binding: binding.to_string(),
                seq,
            },
        );
        id
    }

    fn check(g: &Inner, id: &str, binding: Option<&str>, now: i64) -> Result<(), Refusal> {
        match g.by_id.get(id) {
            Some(p) if p.created_at + PENDING_TTL > now => {
                if binding.is_some_and(|b| same(b, &p.binding)) {
                    Ok(())
                } else {
                    Err(Refusal::OtherBrowser)
                }
            }
            Some(_) => Err(Refusal::Unknown),
            None if g.evicted_set.contains(id) => Err(Refusal::Evicted),
            None => Err(Refusal::Unknown),
        }
    }

    /// The parked request `id`, if it is live and was started by the browser presenting
    /// `binding`.
    pub fn get(&self, id: &str, binding: Option<&str>, now: i64) -> Result<Pending, Refusal> {
        let g = self.lock();
        Self::check(&g, id, binding, now)?;
        g.by_id.get(id).cloned().ok_or(Refusal::Unknown)
    }

    /// Records that the user authenticated for the parked request.
    pub fn set_authenticated(&self, id: &str, session: Session) {
        if let Some(p) = self.lock().by_id.get_mut(id) {
            p.authenticated = Some(session);
        }
    }

    /// Removes and returns the parked request (it is answered now), under the same conditions
    /// as [`PendingRequests::get`]. A refused request stays parked.
    pub fn take(&self, id: &str, binding: Option<&str>, now: i64) -> Result<Pending, Refusal> {
        let mut g = self.lock();
        Self::check(&g, id, binding, now)?;
        g.remove(id).ok_or(Refusal::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::request::{Prompt, ResponseMode, ResponseTypes};

    fn req() -> AuthRequest {
        AuthRequest {
            client_id: "c".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            redirect_uri_given: true,
            response: ResponseTypes {
                code: true,
                ..Default::default()
            },
            mode: ResponseMode::Query,
            scopes: vec![],
            state: None,
            nonce: None,
            pkce: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            acr: Default::default(),
            dpop_jkt: None,
            resources: vec![],
            pushed: None,
        }
    }

    #[test]
    fn requests_belong_to_the_browser_that_started_them() {
        let p = PendingRequests::default();
        let id = p.park(req(), None, "browser-a", 0);
        assert!(p.get(&id, Some("browser-a"), 1).is_ok());
        assert_eq!(p.get(&id, Some("browser-b"), 1).err(), Some(Refusal::OtherBrowser));
        assert_eq!(p.get(&id, None, 1).err(), Some(Refusal::OtherBrowser));
        let unbound = p.park(req(), None, "", 1);
        assert_eq!(p.get(&unbound, Some(""), 1).err(), Some(Refusal::OtherBrowser));
        // A refused take leaves the request for its own browser.
        assert_eq!(p.take(&id, Some("browser-"), 1).err(), Some(Refusal::OtherBrowser));
        assert!(p.take(&id, Some("browser-a"), 1).is_ok());
        assert_eq!(p.take(&id, Some("browser-a"), 1).err(), Some(Refusal::Unknown));
    }

    #[test]
    fn requests_expire() {
        let p = PendingRequests::default();
        let id = p.park(req(), None, "b", 0);
        assert!(p.get(&id, Some("b"), PENDING_TTL - 1).is_ok());
        assert_eq!(p.get(&id, Some("b"), PENDING_TTL).err(), Some(Refusal::Unknown));
        p.park(req(), None, "b", PENDING_TTL);
        assert_eq!(p.len(), 1, "the expired request is dropped by the next park");
    }

    #[test]
    fn the_oldest_request_is_evicted_at_the_cap_and_remembered_as_evicted() {
        let p = PendingRequests::with_capacity(3);
        let ids: Vec<String> = (0..5).map(|i| p.park(req(), None, "b", i)).collect();
        assert_eq!(p.len(), 3);
        assert_eq!(p.get(&ids[0], Some("b"), 5).err(), Some(Refusal::Evicted));
        assert_eq!(p.get(&ids[1], Some("b"), 5).err(), Some(Refusal::Evicted));
        assert!(p.get(&ids[2], Some("b"), 5).is_ok());
        assert_eq!(p.get("never", Some("b"), 5).err(), Some(Refusal::Unknown));
        // Taking one frees a slot: the next park evicts nothing.
        p.take(&ids[3], Some("b"), 5).unwrap();
        p.park(req(), None, "b", 6);
        assert!(p.get(&ids[2], Some("b"), 6).is_ok());
        // The memory of evicted ids is bounded too.
        for i in 0..20 {
            p.park(req(), None, "b", 7 + i);
        }
        let len = p.len();
        let g = p.lock();
        assert!(g.evicted.len() <= 3 && g.evicted_set.len() <= 3);
        assert_eq!(g.order.len(), len);
    }
}
