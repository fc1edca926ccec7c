//! Browser sessions: single sign-on across authorizations (and the names of Latchkey's cookies).
//!
//! They live in memory: a restart signs every browser out, which is what a developer expects
//! from restarting a local provider. Bounds: a session lasts [`SESSION_TTL`] seconds after its
//! last use, and at most [`MAX_SESSIONS`] exist; signing in once more ends the least recently
//! used one (that browser simply sees the login page again).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use utoipa::ToSchema;

/// How long a browser session lasts without use, seconds.
pub const SESSION_TTL: i64 = 86_400;
/// How many browser sessions may exist at once.
pub const MAX_SESSIONS: usize = 10_000;
/// How many ended sessions are kept for the admin API (with their logout outcomes).
pub const MAX_ENDED: usize = 100;
/// How many clients a session remembers (the least recently used is forgotten beyond it).
pub const MAX_CLIENTS: usize = 100;
/// How many back-channel logout outcomes are kept per client of a session.
pub const MAX_DELIVERIES: usize = 10;
/// The session cookie's name.
pub const COOKIE: &str = "latchkey_session";
/// The cookie binding a pending authorization request to the browser that started it
/// ([`crate::oauth::pending`]).
pub const FLOW_COOKIE: &str = "latchkey_flow";

/// A signed-in browser. Serialized as the admin API shows it (`/admin/api/sessions`): never
/// with the cookie value.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Session {
    /// The cookie value (a bearer secret: never shown).
    #[serde(skip)]
    pub id: String,
    /// The session id given to relying parties (OIDC Back-Channel Logout 1.0 §2.1 `sid`): random,
    /// unrelated to the cookie.
    pub sid: String,
    /// Who signed in.
    pub username: String,
    /// Their subject.
    pub sub: String,
    /// When they authenticated (OIDC Core §2 `auth_time`), UNIX seconds; also when the session
    /// started.
    pub auth_time: i64,
    /// The authentication context class reached (the persona's `acr`; `None`: level 0).
    pub acr: Option<String>,
    /// The authentication methods used (OIDC Core §2 `amr`, RFC 8176).
    pub amr: Vec<String>,
    /// Last use (an authorization answered from it), UNIX seconds.
    #[serde(rename = "last_used")]
    pub last_seen: i64,
    /// The clients this session signed in to, oldest first.
    pub clients: Vec<SessionClient>,
    /// When it ended (RP-initiated logout, the admin API), UNIX seconds; `None` while live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// Why it ended: `end_session` (the RP-initiated logout endpoint) or `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
}

/// A client a session signed in to (an authorization response was issued to it).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SessionClient {
    /// The client.
    pub client_id: String,
    /// The first authorization response, UNIX seconds.
    pub first_at: i64,
    /// The latest one, UNIX seconds.
    pub last_at: i64,
    /// Back-channel logouts sent to it for this session, oldest first (at most
    /// [`MAX_DELIVERIES`]).
    pub logouts: Vec<LogoutDelivery>,
    /// The grants issued to it from this session, newest last (at most [`MAX_GRANTS`]): their
    /// refresh tokens without `offline_access` are revoked when the session ends.
    #[serde(skip)]
    pub grants: Vec<String>,
}

/// How many grants are remembered per client of a session.
pub const MAX_GRANTS: usize = 20;

/// What caused a back-channel logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogoutTrigger {
    /// RP-initiated logout at `/end_session`.
    EndSession,
    /// The session was ended from the admin API or GUI.
    Admin,
    /// "Send logout now" for one client (the session stays).
    SendNow,
}

/// Where a back-channel logout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Sent, no answer yet.
    Pending,
    /// The receiver answered 200 or 204 (Back-Channel Logout 1.0 §2.8).
    Delivered,
    /// Any other status, no answer within the timeout, or unreachable.
    Failed,
}

/// One back-channel logout sent (OIDC Back-Channel Logout 1.0 §2.5) and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LogoutDelivery {
    /// The logout token's `jti`.
    pub jti: String,
    /// The session's `sid`.
    pub sid: String,
    /// The client.
    pub client_id: String,
    /// Where it was POSTed (the client's `backchannel_logout_uri`).
    pub uri: String,
    /// What caused it.
    pub trigger: LogoutTrigger,
    /// When it was sent (server clock), UNIX milliseconds.
    pub sent_at: i64,
    /// Where it stands.
    pub outcome: DeliveryOutcome,
    /// The receiver's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed, in words (a status other than 200/204, a timeout, unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the POST took, milliseconds (real time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The request-log entry of the POST (`/admin/api/requests/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// The logout token's claims (OIDC Back-Channel Logout 1.0 §2.4).
    #[schema(value_type = Object)]
    pub claims: serde_json::Value,
}

/// One back-channel logout POST to make (OIDC Back-Channel Logout 1.0 §2.5).
#[derive(Debug, Clone, Copy)]
pub struct LogoutPost<'a> {
    /// The client's `backchannel_logout_uri`.
    pub url: &'a url::Url,
    /// The signed logout token, sent as the form parameter `logout_token`.
    pub logout_token: &'a str,
    /// How long connecting and answering may take together.
    pub timeout: std::time::Duration,
    /// The client, for the request log.
    pub client_id: &'a str,
    /// The session's `sid`, for the request log.
    pub sid: &'a str,
    /// The token's `jti`, for the request log.
    pub jti: &'a str,
}

/// What came of a [`LogoutPost`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Posted {
    /// The receiver's status, when it answered within the timeout.
    pub status: Option<u16>,
    /// Why no answer came (timed out, unreachable), in words.
    pub error: Option<String>,
    /// How long it took, milliseconds (real time).
    pub duration_ms: f64,
    /// The request-log entry recording it.
    pub request_id: Option<i64>,
}

/// The outcome of a POST: 200 and 204 are success (Back-Channel Logout 1.0 §2.8), anything
/// else a failure with a reason in words. Redirects are not followed, so a 3xx fails too.
pub fn judge(status: Option<u16>, error: Option<&str>) -> (DeliveryOutcome, Option<String>) {
    match (status, error) {
        (Some(200 | 204), _) => (DeliveryOutcome::Delivered, None),
        (Some(s @ 300..=399), _) => (
            DeliveryOutcome::Failed,
            Some(format!(
                "answered {s}, a redirect; redirects are not followed and §2.8 expects 200 or 204"
            )),
        ),
        (Some(s), _) => (
            DeliveryOutcome::Failed,
            Some(format!("answered {s}; Back-Channel Logout 1.0 §2.8 expects 200 or 204")),
        ),
        (None, e) => (DeliveryOutcome::Failed, Some(e.unwrap_or("no answer").to_string())),
    }
}

/// The HTTP side of back-channel logout: POSTs a logout token and records the exchange in the
/// request log. Installed by the server ([`Sessions::set_sender`]), so this layer stays free of
/// any HTTP framework.
pub trait LogoutSender: Send + Sync {
    /// POSTs `logout_token=...` (`application/x-www-form-urlencoded`) to `req.url` without
    /// following redirects, within `req.timeout`.
    fn post<'a>(&'a self, req: LogoutPost<'a>) -> futures_util::future::BoxFuture<'a, Posted>;
}

#[derive(Debug, Default)]
struct Inner {
    live: HashMap<String, Session>,
    /// Ended sessions, oldest first (at most [`MAX_ENDED`]).
    ended: VecDeque<Session>,
}

/// The browser sessions.
pub struct Sessions {
    inner: Mutex<Inner>,
    max_sessions: usize,
    sender: OnceLock<Arc<dyn LogoutSender>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("max_sessions", &self.max_sessions)
            .finish()
    }
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

impl Inner {
    fn by_sid_mut(&mut self, sid: &str) -> Option<&mut Session> {
        if let Some(s) = self.live.values_mut().find(|s| s.sid == sid) {
            return Some(s);
        }
        self.ended.iter_mut().find(|s| s.sid == sid)
    }
}

impl Sessions {
    /// A store holding at most `max_sessions` sessions (at least 1).
    pub fn with_capacity(max_sessions: usize) -> Sessions {
        Sessions {
            inner: Mutex::default(),
            max_sessions: max_sessions.max(1),
            sender: OnceLock::new(),
        }
    }

    /// Installs the HTTP side of back-channel logout (once, at start).
    pub fn set_sender(&self, s: Arc<dyn LogoutSender>) {
        let _ = self.sender.set(s);
    }

    /// The installed HTTP side of back-channel logout.
    pub fn sender(&self) -> Option<Arc<dyn LogoutSender>> {
        self.sender.get().cloned()
    }

    /// Ends every session, ended ones forgotten too (a reset). No logout is sent.
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.live.clear();
        inner.ended.clear();
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
            sid: crate::ids::token_id(),
            username: username.to_string(),
            sub: sub.to_string(),
            auth_time: now,
            acr,
            amr,
            last_seen: now,
            clients: Vec::new(),
            ended_at: None,
            end_reason: None,
        };
        let mut inner = lock(&self.inner);
        let map = &mut inner.live;
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
        let mut inner = lock(&self.inner);
        let map = &mut inner.live;
        let s = map.get_mut(id)?;
        if s.last_seen + SESSION_TTL <= now {
            map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    /// Records that the session with cookie `id` signed in to `client_id` (an authorization
    /// response was issued). Returns the session as it is now, `None` when it is gone.
    /// `grant_id`: the grant issued by that response.
    pub fn signed_in_to(&self, id: &str, client_id: &str, grant_id: &str, now: i64) -> Option<Session> {
        let mut inner = lock(&self.inner);
        let s = inner.live.get_mut(id)?;
        s.last_seen = s.last_seen.max(now);
        let grant = grant_id.to_string();
        match s.clients.iter_mut().find(|c| c.client_id == client_id) {
            Some(c) => {
                c.last_at = now;
                if c.grants.len() >= MAX_GRANTS {
                    c.grants.remove(0);
                }
                c.grants.push(grant);
            }
            None => {
                if s.clients.len() >= MAX_CLIENTS
                    && let Some(i) = s
                        .clients
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, c)| c.last_at)
                        .map(|(i, _)| i)
                {
                    s.clients.remove(i);
                }
                s.clients.push(SessionClient {
                    client_id: client_id.to_string(),
                    first_at: now,
                    last_at: now,
                    logouts: Vec::new(),
                    grants: vec![grant],
                });
            }
        }
        Some(s.clone())
    }

    /// How many sessions exist (expired ones included until the next sign-in at the cap).
    pub fn session_count(&self) -> usize {
        lock(&self.inner).live.len()
    }

    /// Every live (unexpired) session, most recently used first, then the ended ones kept,
    /// most recently ended first.
    pub fn list(&self, now: i64) -> Vec<Session> {
        let inner = lock(&self.inner);
        let mut live: Vec<Session> = inner
            .live
            .values()
            .filter(|s| s.last_seen + SESSION_TTL > now)
            .cloned()
            .collect();
        live.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| b.sid.cmp(&a.sid)));
        live.extend(inner.ended.iter().rev().cloned());
        live
    }

    /// The session (live or ended) whose `sid` this is.
    pub fn by_sid(&self, sid: &str, now: i64) -> Option<Session> {
        let mut inner = lock(&self.inner);
        let s = inner.by_sid_mut(sid)?;
        if s.ended_at.is_none() && s.last_seen + SESSION_TTL <= now {
            return None;
        }
        Some(s.clone())
    }

    /// Ends the live session with this cookie value, keeping it among the ended ones with
    /// `reason`. Returns it as ended.
    pub fn end_session(&self, id: &str, now: i64, reason: &str) -> Option<Session> {
        let mut inner = lock(&self.inner);
        let s = inner.live.remove(id)?;
        Some(Self::keep_ended(&mut inner, s, now, reason))
    }

    /// [`Sessions::end_session`] by `sid`; an expired session is not found (it is not listed
    /// either).
    pub fn end_by_sid(&self, sid: &str, now: i64, reason: &str) -> Option<Session> {
        let mut inner = lock(&self.inner);
        let id = inner
            .live
            .values()
            .find(|s| s.sid == sid && s.last_seen + SESSION_TTL > now)
            .map(|s| s.id.clone())?;
        let s = inner.live.remove(&id)?;
        Some(Self::keep_ended(&mut inner, s, now, reason))
    }

    fn keep_ended(inner: &mut Inner, mut s: Session, now: i64, reason: &str) -> Session {
        s.ended_at = Some(now);
        s.end_reason = Some(reason.to_string());
        while inner.ended.len() >= MAX_ENDED {
            inner.ended.pop_front();
        }
        inner.ended.push_back(s.clone());
        s
    }

    /// Records a back-channel logout (new or its outcome, matched by `jti`) on the session it
    /// belongs to, live or ended. Returns the session as it is now.
    pub fn record_delivery(&self, d: &LogoutDelivery) -> Option<Session> {
        let mut inner = lock(&self.inner);
        let s = inner.by_sid_mut(&d.sid)?;
        let c = s.clients.iter_mut().find(|c| c.client_id == d.client_id)?;
        match c.logouts.iter_mut().find(|l| l.jti == d.jti) {
            Some(l) => *l = d.clone(),
            None => {
                if c.logouts.len() >= MAX_DELIVERIES {
                    c.logouts.remove(0);
                }
                c.logouts.push(d.clone());
            }
        }
        Some(s.clone())
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
    fn only_200_and_204_count_as_delivered() {
        assert_eq!(judge(Some(200), None), (DeliveryOutcome::Delivered, None));
        assert_eq!(judge(Some(204), None), (DeliveryOutcome::Delivered, None));
        for s in [201, 202, 302, 400, 404, 500, 503] {
            let (o, why) = judge(Some(s), None);
            assert_eq!(o, DeliveryOutcome::Failed, "{s}");
            assert!(why.unwrap().contains(&s.to_string()));
        }
        assert!(judge(Some(307), None).1.unwrap().contains("redirects are not followed"));
        assert_eq!(
            judge(None, Some("no answer within 5 s")),
            (DeliveryOutcome::Failed, Some("no answer within 5 s".into()))
        );
    }

    #[test]
    fn deliveries_are_recorded_on_live_and_ended_sessions_and_bounded() {
        let i = Sessions::default();
        let a = i.create_session("a", "a", 0);
        i.signed_in_to(&a.id, "web", "g", 1);
        let d = |jti: &str, outcome| LogoutDelivery {
            jti: jti.into(),
            sid: a.sid.clone(),
            client_id: "web".into(),
            uri: "http://127.0.0.1:1/bc".into(),
            trigger: LogoutTrigger::SendNow,
            sent_at: 0,
            outcome,
            status: None,
            error: None,
            duration_ms: None,
            request_id: None,
            claims: serde_json::Value::Null,
        };
        i.record_delivery(&d("j0", DeliveryOutcome::Pending));
        let s = i.record_delivery(&d("j0", DeliveryOutcome::Delivered)).unwrap();
        assert_eq!(s.clients[0].logouts.len(), 1, "the outcome replaces the pending entry");
        assert_eq!(s.clients[0].logouts[0].outcome, DeliveryOutcome::Delivered);
        i.end_session(&a.id, 2, "end_session");
        for n in 0..(MAX_DELIVERIES + 3) {
            i.record_delivery(&d(&format!("j{}", n + 1), DeliveryOutcome::Failed));
        }
        let s = i.by_sid(&a.sid, 3).unwrap();
        assert_eq!(s.clients[0].logouts.len(), MAX_DELIVERIES);
        assert_eq!(
            s.clients[0].logouts.last().unwrap().jti,
            format!("j{}", MAX_DELIVERIES + 3)
        );
        let mut other = d("x", DeliveryOutcome::Failed);
        other.client_id = "stranger".into();
        assert!(i.record_delivery(&other).is_none(), "not a client of the session");
    }

    #[test]
    fn ended_sessions_are_kept_bounded_with_their_clients() {
        let i = Sessions::default();
        let a = i.create_session("a", "a", 0);
        assert_ne!(a.sid, a.id);
        i.signed_in_to(&a.id, "web", "g1", 1);
        i.signed_in_to(&a.id, "web", "g2", 2);
        let s = i.signed_in_to(&a.id, "spa", "g3", 3).unwrap();
        assert_eq!(s.clients[0].grants, ["g1", "g2"]);
        assert_eq!(s.clients.len(), 2);
        assert_eq!((s.clients[0].first_at, s.clients[0].last_at), (1, 2));
        assert!(
            i.end_by_sid(&a.sid, 3 + SESSION_TTL, "admin").is_none(),
            "expired by then"
        );
        let ended = i.end_by_sid(&a.sid, 4, "admin").unwrap();
        assert_eq!(ended.ended_at, Some(4));
        assert!(i.session(&a.id, 5).is_none());
        assert_eq!(i.by_sid(&a.sid, 5).unwrap().end_reason.as_deref(), Some("admin"));
        for n in 0..(MAX_ENDED + 5) {
            let s = i.create_session("b", "b", 10);
            i.end_session(&s.id, 10 + n as i64, "end_session");
        }
        assert_eq!(i.list(20).len(), MAX_ENDED);
        assert!(i.by_sid(&a.sid, 20).is_none(), "the oldest ended session is forgotten");
        let json = serde_json::to_value(i.list(20).first().unwrap()).unwrap();
        assert!(json.get("id").is_none(), "the cookie value is never shown: {json}");
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
