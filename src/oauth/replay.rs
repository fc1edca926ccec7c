//! The used `jti` values of assertions (RFC 7523 §3, item 7), for replay detection.
//!
//! Each value is kept until its assertion expires (plus leeway), in a namespace per client or
//! trusted issuer. Bounded at [`MAX_JTIS`]: when full after dropping expired entries, new
//! assertions are **refused** rather than an old `jti` forgotten, which would reopen the replay
//! (docs/security.md, Bounds). Assertion lifetimes are capped, so the set empties quickly.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Most `jti` values remembered at once.
pub const MAX_JTIS: usize = 100_000;

/// Why a `jti` was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Already used, and its assertion has not expired.
    Seen,
    /// The set is full of live entries.
    Full,
}

#[derive(Default)]
struct Inner {
    /// (namespace, jti) -> kept until (UNIX seconds).
    seen: HashMap<(Box<str>, Box<str>), i64>,
    /// The same entries by expiry, to drop the expired ones first.
    by_expiry: BTreeSet<(i64, Box<str>, Box<str>)>,
}

/// The set of used `jti` values, bounded by [`MAX_JTIS`].
#[derive(Default)]
pub struct JtiSet {
    inner: Mutex<Inner>,
    cap: Option<usize>,
}

impl JtiSet {
    /// A set with a smaller cap (tests).
    pub fn with_cap(cap: usize) -> JtiSet {
        JtiSet {
            inner: Mutex::default(),
            cap: Some(cap),
        }
    }

    /// Records `jti` in `scope` until `until` (UNIX seconds), `now` being the current time on
    /// the same basis. Errors when it was used before ([`Replay::Seen`]) or the set is full of
    /// live entries ([`Replay::Full`]).
    pub fn insert(&self, scope: &str, jti: &str, until: i64, now: i64) -> Result<(), Replay> {
        let cap = self.cap.unwrap_or(MAX_JTIS);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(first) = g.by_expiry.first().cloned() {
            if first.0 > now {
                break;
            }
            g.by_expiry.remove(&first);
            g.seen.remove(&(first.1, first.2));
        }
        let key: (Box<str>, Box<str>) = (scope.into(), jti.into());
        if g.seen.contains_key(&key) {
            return Err(Replay::Seen);
        }
        if g.seen.len() >= cap {
            return Err(Replay::Full);
        }
        g.by_expiry.insert((until, key.0.clone(), key.1.clone()));
        g.seen.insert(key, until);
        Ok(())
    }

    /// How many values are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything (server reset).
    pub fn clear(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Inner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_refused_until_it_expires_and_namespaces_are_apart() {
        let s = JtiSet::default();
        assert_eq!(s.insert("client:a", "1", 100, 0), Ok(()));
        assert_eq!(s.insert("client:a", "1", 100, 50), Err(Replay::Seen));
        assert_eq!(s.insert("client:b", "1", 100, 50), Ok(()));
        assert_eq!(s.insert("client:a", "1", 200, 100), Ok(()));
    }

    #[test]
    fn a_full_set_refuses_instead_of_forgetting() {
        let s = JtiSet::with_cap(2);
        s.insert("c", "1", 100, 0).unwrap();
        s.insert("c", "2", 200, 0).unwrap();
        assert_eq!(s.insert("c", "3", 300, 50), Err(Replay::Full));
        assert_eq!(s.insert("c", "1", 300, 50), Err(Replay::Seen));
        // Once the first expires there is room again.
        assert_eq!(s.insert("c", "3", 300, 100), Ok(()));
        assert_eq!(s.len(), 2);
    }
}
