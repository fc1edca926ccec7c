//! The JWKS the simulated API holds: a snapshot of Latchkey's published keys, taken when the
//! API "fetches" it (in process, no HTTP), kept for `jwks_cache` seconds measured on the API's
//! clock (Latchkey's clock plus `clock_offset`), refetched on an unknown `kid` when the policy
//! says so, at most once per cooldown.

use std::sync::{Arc, Mutex};

use jsonwebtoken::DecodingKey;

use super::profiles::Policy;
use crate::model::SigningAlg;
use crate::provider::Provider;

/// A verification key in the API's snapshot.
pub struct ApiKey {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub alg: SigningAlg,
    /// The public key.
    pub key: DecodingKey,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// When the snapshot was taken (API clock, UNIX seconds); `None`: never fetched.
    fetched_at: Option<i64>,
    keys: Arc<Vec<Arc<ApiKey>>>,
}

/// How the key for a `kid` was found, or why not.
#[derive(Debug, Clone)]
pub enum KidLookup {
    /// In the cached snapshot, still fresh.
    Cached {
        /// The key.
        key: Arc<ApiKey>,
        /// Seconds since the snapshot was taken.
        age: i64,
    },
    /// The snapshot had expired (or none was held): fetched now, and found.
    Fetched {
        /// The key.
        key: Arc<ApiKey>,
        /// Why it was fetched: `first` or `expired`.
        reason: &'static str,
    },
    /// Unknown in the snapshot; the JWKS was refetched because of it, and the key found.
    Refetched {
        /// The key.
        key: Arc<ApiKey>,
        /// How old the stale snapshot was.
        stale_age: i64,
    },
    /// Unknown, and the API does not refetch on unknown kids: it waits for the cache to expire.
    StaleNoRefetch {
        /// How old the snapshot is.
        age: i64,
        /// Seconds until it expires.
        expires_in: i64,
        /// Whether Latchkey's current JWKS has the key (so the cache is the only problem).
        in_current_jwks: bool,
    },
    /// Unknown; a refetch would be allowed but the cooldown has not passed.
    CoolingDown {
        /// Seconds since the last fetch.
        since: i64,
        /// The cooldown.
        cooldown: u64,
        /// Whether Latchkey's current JWKS has the key.
        in_current_jwks: bool,
    },
    /// Not in Latchkey's current JWKS either (after a refetch, or a fresh fetch).
    NotPublished {
        /// Whether the JWKS was fetched for this request.
        fetched: bool,
    },
}

impl KidLookup {
    /// The key, when one was found.
    pub fn key(&self) -> Option<&Arc<ApiKey>> {
        match self {
            KidLookup::Cached { key, .. } | KidLookup::Fetched { key, .. } | KidLookup::Refetched { key, .. } => {
                Some(key)
            }
            _ => None,
        }
    }
}

/// One resource's JWKS cache.
#[derive(Default)]
pub struct ApiJwks {
    state: Mutex<State>,
}

fn snapshot(p: &Provider) -> Arc<Vec<Arc<ApiKey>>> {
    let keys = p
        .keys
        .published()
        .iter()
        .filter_map(|k| {
            DecodingKey::from_jwk(&k.jwk).ok().map(|key| {
                Arc::new(ApiKey {
                    kid: k.kid.clone(),
                    alg: k.alg,
                    key,
                })
            })
        })
        .collect();
    Arc::new(keys)
}

/// The key for `kid` in `keys`; without a `kid`, the only key of the token's algorithm.
fn find(keys: &[Arc<ApiKey>], kid: Option<&str>, alg: Option<SigningAlg>) -> Option<Arc<ApiKey>> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid == kid).cloned(),
        None => {
            let mut of_alg = keys.iter().filter(|k| Some(k.alg) == alg);
            match (of_alg.next(), of_alg.next()) {
                (Some(one), None) => Some(one.clone()),
                _ => None,
            }
        }
    }
}

impl ApiJwks {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Looks `kid` up as the API would at `api_now` (API clock, seconds), with the cache
    /// lifetime, refetch switch and cooldown of `policy`.
    pub fn lookup(
        &self,
        p: &Provider,
        kid: Option<&str>,
        alg: Option<SigningAlg>,
        api_now: i64,
        policy: &Policy,
    ) -> KidLookup {
        let (cache_secs, refetch_on_unknown, cooldown) = (
            policy.jwks_cache,
            policy.jwks_refetch_on_unknown_kid,
            policy.jwks_refetch_cooldown,
        );
        let cache = i64::try_from(cache_secs).unwrap_or(i64::MAX);
        let mut st = self.lock();
        let fresh_reason = match st.fetched_at {
            None => Some("first"),
            Some(at) if api_now.saturating_sub(at) >= cache || api_now < at => Some("expired"),
            Some(_) => None,
        };
        if let Some(reason) = fresh_reason {
            st.keys = snapshot(p);
            st.fetched_at = Some(api_now);
            return match find(&st.keys, kid, alg) {
                Some(key) => KidLookup::Fetched { key, reason },
                None => KidLookup::NotPublished { fetched: true },
            };
        }
        let age = api_now.saturating_sub(st.fetched_at.unwrap_or(api_now));
        if let Some(key) = find(&st.keys, kid, alg) {
            return KidLookup::Cached { key, age };
        }
        let current = snapshot(p);
        let in_current_jwks = find(&current, kid, alg).is_some();
        if !refetch_on_unknown {
            return KidLookup::StaleNoRefetch {
                age,
                expires_in: cache.saturating_sub(age),
                in_current_jwks,
            };
        }
        // As jose's RemoteJWKSet does: the cooldown runs from the last fetch of any kind.
        if let Some(last) = st.fetched_at {
            let since = api_now.saturating_sub(last);
            if since >= 0 && since < i64::try_from(cooldown).unwrap_or(i64::MAX) {
                return KidLookup::CoolingDown {
                    since,
                    cooldown,
                    in_current_jwks,
                };
            }
        }
        st.keys = current;
        st.fetched_at = Some(api_now);
        match find(&st.keys, kid, alg) {
            Some(key) => KidLookup::Refetched { key, stale_age: age },
            None => KidLookup::NotPublished { fetched: true },
        }
    }

    /// Forgets the snapshot (the API "restarts").
    pub fn clear(&self) {
        *self.lock() = State::default();
    }
}
