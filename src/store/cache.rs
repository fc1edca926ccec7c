//! A bounded in-memory cache of recently issued or looked-up tokens, in front of the tokens
//! table. Introspection, revocation and userinfo look tokens up by hash on every request; the
//! cache answers recent ones without a trip to the database thread.
//!
//! Every status change goes through the store (`set_token_status`, `revoke_grant`), which
//! updates the cache after the database, so the cache never reports a status the database has
//! left behind once that call has returned.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::tokens::{TokenBrief, TokenRecord, TokenStatus};

/// How many tokens are kept.
pub const CAPACITY: usize = 4096;

#[derive(Default)]
struct Inner {
    by_hash: HashMap<Vec<u8>, TokenRecord>,
    hash_of: HashMap<String, Vec<u8>>,
    order: VecDeque<Vec<u8>>,
}

/// The cache.
#[derive(Default)]
pub struct TokenCache {
    inner: Mutex<Inner>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The cached token with this hash.
    pub fn get(&self, hash: &[u8]) -> Option<TokenRecord> {
        self.lock().by_hash.get(hash).cloned()
    }

    /// The kind, status and status reason of the cached token with this hash, without copying
    /// the whole record (the resource-server simulator asks on every call).
    pub fn status(&self, hash: &[u8]) -> Option<TokenBrief> {
        self.lock().by_hash.get(hash).map(|r| TokenBrief {
            kind: r.kind,
            status: r.status,
            status_reason: r.status_reason.clone(),
        })
    }

    /// Adds (or replaces) a token, evicting the oldest beyond [`CAPACITY`].
    pub fn put(&self, rec: TokenRecord) {
        let mut g = self.lock();
        let hash = rec.hash.clone();
        g.hash_of.insert(rec.id.clone(), hash.clone());
        if g.by_hash.insert(hash.clone(), rec).is_none() {
            g.order.push_back(hash);
        }
        while g.order.len() > CAPACITY {
            if let Some(r) = g.order.pop_front().and_then(|old| g.by_hash.remove(&old)) {
                g.hash_of.remove(&r.id);
            }
        }
    }

    /// Forgets every token (a reset).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// Records a status change of token `id`, if cached.
    pub fn set_status(&self, id: &str, status: TokenStatus, at: i64, reason: &str) {
        let mut g = self.lock();
        let Some(hash) = g.hash_of.get(id).cloned() else { return };
        if let Some(r) = g.by_hash.get_mut(&hash) {
            r.status = status;
            r.status_at = Some(at);
            r.status_reason = Some(reason.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenFormat;
    use crate::store::TokenKind;

    fn rec(n: usize) -> TokenRecord {
        TokenRecord {
            id: format!("id{n}"),
            hash: format!("h{n}").into_bytes(),
            kind: TokenKind::AccessToken,
            format: TokenFormat::Opaque,
            client_id: "c".into(),
            subject: "c".into(),
            username: None,
            scope: String::new(),
            audience: vec![],
            issued_at: 0,
            expires_at: 10,
            status: TokenStatus::Active,
            status_at: None,
            status_reason: None,
            grant_type: "client_credentials".into(),
            grant_id: None,
            parent_id: None,
            kid: None,
            claims: serde_json::Value::Null,
            token: format!("t{n}"),
        }
    }

    #[test]
    fn status_changes_reach_cached_tokens() {
        let c = TokenCache::default();
        c.put(rec(1));
        c.set_status("id1", TokenStatus::Revoked, 5, "test");
        let r = c.get(b"h1").unwrap();
        assert_eq!(r.status, TokenStatus::Revoked);
        assert_eq!(r.status_at, Some(5));
    }

    #[test]
    fn the_oldest_tokens_are_evicted_beyond_capacity() {
        let c = TokenCache::default();
        for n in 0..CAPACITY + 3 {
            c.put(rec(n));
        }
        assert!(c.get(b"h0").is_none());
        assert!(c.get(b"h2").is_none());
        assert!(c.get(b"h3").is_some());
        assert!(c.get(format!("h{}", CAPACITY + 2).as_bytes()).is_some());
        c.set_status("id0", TokenStatus::Revoked, 1, "gone");
    }
}
