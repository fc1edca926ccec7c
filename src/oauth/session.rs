//! Browser sessions: single sign-on across authorizations (and the names of Latchkey's cookies).
//!
//! They live in memory: a restart signs every browser out, which is what a developer expects
//! from restarting a local provider. Bounds: a session lasts [`SESSION_TTL`] seconds after its
//! last use, and at most [`MAX_SESSIONS`] exist; signing in once more ends the least recently
//! used one (that browser simply sees the login page again).

use std::collections::HashMap;
use std::sync::Mutex;

/// How long a browser session lasts without use, seconds.
pub const SESSION_TTL: i64 = 86_400;
/// How many browser sessions may exist at once.
pub const MAX_SESSIONS: usize = 10_000;
/// The session cookie's name.
pub const COOKIE: &str = "latchkey_session";
/// The cookie binding a pending authorization request to the browser that started it
/// ([`crate::oauth::pending`]).
pub const FLOW_COOKIE: &str = "latchkey_flow";

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The cookie value.
    pub id: String,
    /// Who signed in.
    pub username: String,
    /// Their subject.
    pub sub: String,
    /// When they authenticated (OIDC Core §2 `auth_time`).
    pub auth_time: i64,
    /// The authentication context class reached (the persona's `acr`; `None`: level 0).
    pub acr: Option<String>,
    /// The authentication methods used (OIDC Core §2 `amr`, RFC 8176).
    pub amr: Vec<String>,
    /// Last use, for expiry.
    pub last_seen: i64,
}

/// The browser sessions.
#[derive(Debug)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    max_sessions: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_capacity(MAX_SESSIONS)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Sessions {
    /// A store holding at most `max_sessions` sessions (at least 1).
    pub fn with_capacity(max_sessions: usize) -> Sessions {
        Sessions {
            sessions: Mutex::default(),
            max_sessions: max_sessions.max(1),
        }
    }

    /// Ends every session (a reset).
    pub fn clear(&self) {
        lock(&self.sessions).clear();
    }

    /// Starts a session for `username`, ending expired ones and, at [`MAX_SESSIONS`], the
    /// least recently used one.
    pub fn create_session(&self, username: &str, sub: &str, now: i64) -> Session {
        self.sign_in(username, sub, None, Vec::new(), now)
    }

    /// [`Sessions::create_session`] at the authentication context `acr` with the methods `amr`
    /// (OIDC Core §2).
    pub fn sign_in(&self, username: &str, sub: &str, acr: Option<String>, amr: Vec<String>, now: i64) -> Session {
        let s = Session {
            id: crate::ids::opaque_token(),
            username: username.to_string(),
            sub: sub.to_string(),
            auth_time: now,
            acr,
            amr,
            last_seen: now,
        };
        let mut map = lock(&self.sessions);
        if map.len() >= self.max_sessions {
            map.retain(|_, v| v.last_seen + SESSION_TTL > now);
        }
        while map.len() >= self.max_sessions {
            let Some(oldest) = map.values().min_by_key(|v| v.last_seen).map(|v| v.id.clone()) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(s.id.clone(), s.clone());
        s
    }

    /// The live session with this cookie value, refreshed.
    pub fn session(&self, id: &str, now: i64) -> Option<Session> {
        let mut map = lock(&self.sessions);
        let s = map.get_mut(id)?;
        if s.last_seen + SESSION_TTL <= now {
            map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    /// How many sessions exist (expired ones included until the next sign-in at the cap).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Ends a session.
    pub fn end_session(&self, id: &str) -> Option<Session> {
        lock(&self.sessions).remove(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_capped_by_evicting_the_least_recently_used() {
        let i = Sessions::with_capacity(3);
        let a = i.create_session("a", "a", 0);
        let b = i.create_session("b", "b", 1);
        let c = i.create_session("c", "c", 2);
        assert!(i.session(&a.id, 3).is_some(), "a is used again: b is now the oldest");
        let d = i.create_session("d", "d", 4);
        assert_eq!(i.session_count(), 3);
        assert!(i.session(&b.id, 5).is_none());
        for s in [&a, &c, &d] {
            assert!(i.session(&s.id, 5).is_some());
        }
    }

    #[test]
    fn expired_sessions_are_dropped_first() {
        let i = Sessions::with_capacity(2);
        let a = i.create_session("a", "a", 0);
        let b = i.create_session("b", "b", SESSION_TTL - 10);
        i.create_session("c", "c", SESSION_TTL + 1);
        assert!(i.session(&a.id, SESSION_TTL + 2).is_none());
        assert!(i.session(&b.id, SESSION_TTL + 2).is_some());
    }
}
