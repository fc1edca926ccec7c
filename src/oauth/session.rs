//! Browser sessions (single sign-on across authorizations) and authorization requests waiting
//! for a login or a consent decision.
//!
//! Both live in memory: a restart signs every browser out and drops half-finished logins, which
//! is what a developer expects from restarting a local provider.

use std::collections::HashMap;
use std::sync::Mutex;

use super::authorize::AuthRequest;

/// How long a half-finished authorization (login or consent page open) stays usable.
pub const PENDING_TTL: i64 = 600;
/// How long a browser session lasts without use.
pub const SESSION_TTL: i64 = 86_400;
/// The session cookie's name.
pub const COOKIE: &str = "latchkey_session";

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
    /// Last use, for expiry.
    pub last_seen: i64,
}

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
}

/// Sessions and pending requests.
#[derive(Debug, Default)]
pub struct Interactions {
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Interactions {
    /// Starts a session for `username`.
    pub fn create_session(&self, username: &str, sub: &str, now: i64) -> Session {
        let s = Session {
            id: crate::ids::opaque_token(),
            username: username.to_string(),
            sub: sub.to_string(),
            auth_time: now,
            last_seen: now,
        };
        let mut map = lock(&self.sessions);
        map.retain(|_, v| v.last_seen + SESSION_TTL > now);
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

    /// Ends a session.
    pub fn end_session(&self, id: &str) -> Option<Session> {
        lock(&self.sessions).remove(id)
    }

    /// Parks a request until the user acts; returns its id.
    pub fn park(&self, request: AuthRequest, authenticated: Option<Session>, now: i64) -> String {
        let id = crate::ids::opaque_token();
        let mut map = lock(&self.pending);
        map.retain(|_, v| v.created_at + PENDING_TTL > now);
        map.insert(
            id.clone(),
            Pending {
                id: id.clone(),
                request,
                created_at: now,
                authenticated,
            },
        );
        id
    }

    /// The parked request `id`, if it has not expired.
    pub fn pending(&self, id: &str, now: i64) -> Option<Pending> {
        let map = lock(&self.pending);
        map.get(id).filter(|p| p.created_at + PENDING_TTL > now).cloned()
    }

    /// Records that the user authenticated for the parked request.
    pub fn set_authenticated(&self, id: &str, session: Session) {
        if let Some(p) = lock(&self.pending).get_mut(id) {
            p.authenticated = Some(session);
        }
    }

    /// Removes and returns the parked request (it is answered now).
    pub fn take(&self, id: &str, now: i64) -> Option<Pending> {
        lock(&self.pending)
            .remove(id)
            .filter(|p| p.created_at + PENDING_TTL > now)
    }
}
