//! The events bus: every state change is published here, for the admin API's Server-Sent
//! Events stream and the GUI (design §2). The UI never polls.
//!
//! Each event gets an increasing id; the last [`REPLAY`] events are kept so a reconnecting
//! subscriber can resume from `Last-Event-ID`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::{Client, Scope, Settings, User};
use crate::resources::calls::ResourceCall;
use crate::resources::verdict::Verdict;
use crate::resources::view::ResourceView;
use crate::store::TokenRecord;

/// How many past events are kept for replay.
pub const REPLAY: usize = 1024;
/// The replay buffer also keeps at most about this many bytes of events (request-log events
/// can be large), dropping the oldest first.
pub const REPLAY_BYTES: usize = 16 * 1024 * 1024;

/// A state change.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A token was issued (any kind).
    #[serde(rename = "token.issued")]
    TokenIssued(Box<TokenRecord>),
    /// A token was introspected (RFC 7662).
    #[serde(rename = "token.introspected")]
    TokenIntrospected {
        /// The token, when it is one of ours.
        token_id: Option<String>,
        /// The client that asked.
        caller: String,
        /// The answer.
        active: bool,
    },
    /// Tokens were revoked: `token.revoked` with the revoked tokens, each as `token.issued`
    /// shows it, now with status `revoked`.
    #[serde(rename = "token.revoked")]
    TokensRevoked {
        /// The revoked token ids.
        ids: Vec<String>,
        /// Why.
        reason: String,
        /// The revoked tokens.
        tokens: Vec<TokenRecord>,
    },
    /// A code or refresh token was used up (exchanged, or rotated): the token, with status
    /// `consumed`.
    #[serde(rename = "token.consumed")]
    TokenConsumed(Box<TokenRecord>),
    /// A device authorization request was made (RFC 8628 §3.1): the request as
    /// `GET /admin/api/device-codes` lists it.
    #[serde(rename = "device_code.created")]
    DeviceCodeCreated(Box<crate::admin::device::DeviceCodeView>),
    /// A device authorization request was approved, denied or exchanged for tokens.
    #[serde(rename = "device_code.updated")]
    DeviceCodeUpdated(Box<crate::admin::device::DeviceCodeView>),
    /// A device authorization request is gone (expired, or a reset).
    #[serde(rename = "device_code.removed")]
    DeviceCodeRemoved {
        /// Its id.
        id: String,
        /// Its user code, `XXXX-XXXX`.
        user_code: String,
        /// Why (`expired`).
        reason: String,
    },
    /// A client was created.
    #[serde(rename = "client.created")]
    ClientCreated(Box<Client>),
    /// A client was changed.
    #[serde(rename = "client.updated")]
    ClientUpdated(Box<Client>),
    /// A client was deleted.
    #[serde(rename = "client.deleted")]
    ClientDeleted {
        /// Its id.
        client_id: String,
    },
    /// A Client ID Metadata Document was fetched (valid, invalid or failed): what the admin API
    /// lists at `GET /admin/api/client-documents`.
    #[serde(rename = "client_document.fetched")]
    ClientDocumentFetched(Box<crate::oauth::client_documents::DocumentView>),
    /// A scope was created.
    #[serde(rename = "scope.created")]
    ScopeCreated(Scope),
    /// A scope was changed.
    #[serde(rename = "scope.updated")]
    ScopeUpdated(Scope),
    /// A scope was deleted.
    #[serde(rename = "scope.deleted")]
    ScopeDeleted {
        /// Its name.
        name: String,
    },
    /// A user was created.
    #[serde(rename = "user.created")]
    UserCreated(Box<User>),
    /// A user was changed.
    #[serde(rename = "user.updated")]
    UserUpdated(Box<User>),
    /// A user was deleted.
    #[serde(rename = "user.deleted")]
    UserDeleted {
        /// The username.
        username: String,
    },
    /// A resource was created (as the admin API shows it, with `identifier`).
    #[serde(rename = "resource.created")]
    ResourceCreated(Box<ResourceView>),
    /// A resource was changed.
    #[serde(rename = "resource.updated")]
    ResourceUpdated(Box<ResourceView>),
    /// A resource was deleted.
    #[serde(rename = "resource.deleted")]
    ResourceDeleted {
        /// Its name.
        name: String,
    },
    /// A resource was called: the call with its verdict (published while someone watches).
    #[serde(rename = "resource.called")]
    ResourceCalled(Box<ResourceCall>),
    /// A token was checked against a resource without a call (`POST .../check`).
    #[serde(rename = "resource.checked")]
    ResourceChecked {
        /// The resource's name.
        resource: String,
        /// The verdict.
        verdict: Box<Verdict>,
    },
    /// The signing key changed.
    #[serde(rename = "key.rotated")]
    KeyRotated {
        /// The new active key.
        kid: String,
        /// Its algorithm.
        alg: String,
    },
    /// Server settings changed.
    #[serde(rename = "settings.updated")]
    SettingsUpdated(Box<Settings>),
    /// The trusted issuers of JWT bearer assertions changed (the whole list).
    #[serde(rename = "trusted_issuers.updated")]
    TrustedIssuersUpdated(Vec<crate::model::TrustedIssuer>),
    /// A protocol request was logged (secrets redacted).
    #[serde(rename = "request.logged")]
    RequestLogged(Box<crate::admin::log_entry::LoggedRequest>),
    /// The virtual clock moved.
    #[serde(rename = "clock.moved")]
    ClockMoved {
        /// The offset from real time, in seconds.
        offset: i64,
    },
    /// The server went back to the state it started with (`POST /admin/api/reset`): every
    /// list may have changed, so a subscriber refetches everything.
    #[serde(rename = "server.reset")]
    Reset {
        /// Whether the signing keys were replaced too.
        keys: bool,
    },
    /// The fault rules changed (created, replaced, deleted, enabled or disabled, counters
    /// reset, a scenario applied): every rule with its counters.
    #[serde(rename = "faults.changed")]
    FaultsChanged {
        /// The rules, in the order they are tried.
        rules: Vec<crate::faults::RuleView>,
    },
    /// A fault rule changed a response.
    #[serde(rename = "fault.fired")]
    FaultFired(Box<FaultFired>),
    /// Scenarios were created, replaced or deleted.
    #[serde(rename = "scenarios.changed")]
    ScenariosChanged,
    /// A scenario was applied.
    #[serde(rename = "scenario.applied")]
    ScenarioApplied {
        /// Its name.
        name: String,
    },
    /// The watched config file (`serve --watch`) changed and was applied.
    #[serde(rename = "config.reloaded")]
    ConfigReloaded {
        /// The file as named on the command line.
        file: String,
        /// Objects removed because the file no longer names them (`--config-mode replace`).
        removed: Vec<String>,
    },
    /// A browser signed in (OIDC): the session as `GET /admin/api/sessions` shows it.
    #[serde(rename = "session.started")]
    SessionStarted(Box<crate::oauth::session::Session>),
    /// A session changed: it signed in to a client, or a back-channel logout was sent or
    /// answered.
    #[serde(rename = "session.updated")]
    SessionUpdated(Box<crate::oauth::session::Session>),
    /// A session ended (RP-initiated logout, or the admin API): the session with `ended_at`.
    #[serde(rename = "session.ended")]
    SessionEnded(Box<crate::oauth::session::Session>),
    /// A back-channel logout (OIDC Back-Channel Logout 1.0) finished: delivered or failed.
    #[serde(rename = "backchannel_logout.completed")]
    BackchannelLogout(Box<crate::oauth::session::LogoutDelivery>),
    /// The watched config file changed but does not validate: nothing was changed.
    #[serde(rename = "config.rejected")]
    ConfigRejected {
        /// Each error: `file`, `line`, `column`, `key` (each may be null) and `message`.
        errors: Vec<serde_json::Value>,
    },
}

/// What `fault.fired` carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FaultFired {
    /// The rule's name.
    pub rule: String,
    /// The endpoint (`token`, ...).
    pub endpoint: String,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// What the rule changed, in words (`status 503`, `tamper expired: exp an hour ago`).
    pub change: String,
    /// How many times the rule has fired now.
    pub fired: u64,
}

impl Event {
    /// Approximate bytes this event holds: exact enough for the request-log events, whose size
    /// a request controls; a nominal size for the others, whose objects are small.
    pub fn approx_size(&self) -> usize {
        const NOMINAL: usize = 2048;
        match self {
            Event::RequestLogged(r) => r.approx_size(),
            Event::TokensRevoked { tokens, ids, .. } => NOMINAL * (1 + tokens.len()) + ids.len() * 32,
            _ => NOMINAL,
        }
    }

    /// The event's type name (`token.issued`, ...): the SSE `event:` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::TokenIssued(_) => "token.issued",
            Event::TokenIntrospected { .. } => "token.introspected",
            Event::TokensRevoked { .. } => "token.revoked",
            Event::TokenConsumed(_) => "token.consumed",
            Event::DeviceCodeCreated(_) => "device_code.created",
            Event::DeviceCodeUpdated(_) => "device_code.updated",
            Event::DeviceCodeRemoved { .. } => "device_code.removed",
            Event::ClientCreated(_) => "client.created",
            Event::ClientUpdated(_) => "client.updated",
            Event::ClientDeleted { .. } => "client.deleted",
            Event::ClientDocumentFetched(_) => "client_document.fetched",
            Event::ScopeCreated(_) => "scope.created",
            Event::ScopeUpdated(_) => "scope.updated",
            Event::ScopeDeleted { .. } => "scope.deleted",
            Event::UserCreated(_) => "user.created",
            Event::UserUpdated(_) => "user.updated",
            Event::UserDeleted { .. } => "user.deleted",
            Event::ResourceCreated(_) => "resource.created",
            Event::ResourceUpdated(_) => "resource.updated",
            Event::ResourceDeleted { .. } => "resource.deleted",
            Event::ResourceCalled(_) => "resource.called",
            Event::ResourceChecked { .. } => "resource.checked",
            Event::KeyRotated { .. } => "key.rotated",
            Event::SettingsUpdated(_) => "settings.updated",
            Event::TrustedIssuersUpdated(_) => "trusted_issuers.updated",
            Event::RequestLogged(_) => "request.logged",
            Event::ClockMoved { .. } => "clock.moved",
            Event::Reset { .. } => "server.reset",
            Event::FaultsChanged { .. } => "faults.changed",
            Event::FaultFired(_) => "fault.fired",
            Event::ScenariosChanged => "scenarios.changed",
            Event::ScenarioApplied { .. } => "scenario.applied",
            Event::ConfigReloaded { .. } => "config.reloaded",
            Event::ConfigRejected { .. } => "config.rejected",
            Event::SessionStarted(_) => "session.started",
            Event::SessionUpdated(_) => "session.updated",
            Event::SessionEnded(_) => "session.ended",
            Event::BackchannelLogout(_) => "backchannel_logout.completed",
        }
    }
}

/// An event with its sequence number and time.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    /// Increasing from 1; the SSE `id:`.
    pub id: u64,
    /// When it happened (server clock), UNIX milliseconds.
    pub at: i64,
    /// The change.
    #[serde(flatten)]
    pub event: Event,
}

struct Inner {
    next_id: u64,
    /// Kept events with their [`Event::approx_size`].
    recent: VecDeque<(Arc<Envelope>, usize)>,
    /// Sum of the kept events' sizes.
    bytes: usize,
}

/// The bus. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Envelope>>,
    inner: Arc<Mutex<Inner>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// An empty bus.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(REPLAY);
        EventBus {
            tx,
            inner: Arc::new(Mutex::new(Inner {
                next_id: 1,
                recent: VecDeque::with_capacity(REPLAY),
                bytes: 0,
            })),
        }
    }

    /// Publishes `event` at time `at_ms`.
    pub fn publish(&self, at_ms: i64, event: Event) {
        let mut inner = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let env = Arc::new(Envelope {
            id: inner.next_id,
            at: at_ms,
            event,
        });
        inner.next_id += 1;
        let size = env.event.approx_size();
        while inner.recent.len() >= REPLAY || (!inner.recent.is_empty() && inner.bytes + size > REPLAY_BYTES) {
            let Some((_, old)) = inner.recent.pop_front() else {
                break;
            };
            inner.bytes = inner.bytes.saturating_sub(old);
        }
        inner.bytes += size;
        inner.recent.push_back((env.clone(), size));
        // Sent under the lock, so subscribers see ids in order. No subscriber is not an error.
        let _ = self.tx.send(env);
    }

    /// Publishes the event `make` builds, but only when someone is subscribed: for high-volume
    /// events (the request log) whose rendering costs more than the request itself. Without a
    /// subscriber nothing is built, numbered or kept for replay.
    pub fn publish_if_watched(&self, at_ms: i64, make: impl FnOnce() -> Event) {
        if self.tx.receiver_count() > 0 {
            self.publish(at_ms, make());
        }
    }

    /// Subscribes, returning the kept events after `last_id` (all kept ones when `None`...
    /// none when `None`) and a receiver for what follows. No event is lost or repeated between
    /// the two.
    pub fn subscribe(&self, last_id: Option<u64>) -> (Vec<Arc<Envelope>>, broadcast::Receiver<Arc<Envelope>>) {
        let inner = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let rx = self.tx.subscribe();
        let backlog = match last_id {
            Some(last) => inner
                .recent
                .iter()
                .filter(|(e, _)| e.id > last)
                .map(|(e, _)| e.clone())
                .collect(),
            None => Vec::new(),
        };
        (backlog, rx)
    }

    /// The id the next event will get.
    pub fn next_id(&self) -> u64 {
        match self.inner.lock() {
            Ok(g) => g.next_id,
            Err(p) => p.into_inner().next_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_resume_after_the_last_seen_id() {
        let bus = EventBus::new();
        for i in 0..3 {
            bus.publish(i, Event::ClockMoved { offset: i });
        }
        let (backlog, mut rx) = bus.subscribe(Some(1));
        assert_eq!(backlog.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 3]);
        bus.publish(9, Event::ScopeDeleted { name: "x".into() });
        let next = rx.recv().await.unwrap();
        assert_eq!(next.id, 4);
        let json = serde_json::to_value(&*next).unwrap();
        assert_eq!(json["type"], "scope.deleted");
        assert_eq!(json["data"]["name"], "x");
    }

    #[test]
    fn the_replay_buffer_is_bounded() {
        let bus = EventBus::new();
        for i in 0..(REPLAY as i64 + 10) {
            bus.publish(i, Event::ClockMoved { offset: i });
        }
        let (backlog, _) = bus.subscribe(Some(0));
        assert_eq!(backlog.len(), REPLAY);
        assert_eq!(backlog[0].id, 11);
    }

    #[test]
    fn the_replay_buffer_is_bounded_by_bytes() {
        let bus = EventBus::new();
        let big = || {
            Event::RequestLogged(Box::new(crate::admin::log_entry::LoggedRequest {
                id: 1,
                at: 0,
                method: "GET".into(),
                path: "/authorize".into(),
                status: 400,
                duration_ms: 0.0,
                client_id: None,
                params: vec![],
                headers: vec![],
                body_note: None,
                response: Default::default(),
                response_body: None,
                curl: "x".repeat(60_000),
                curl_variables: vec![],
                verdict: None,
                proxy: None,
                assertion: None,
                dpop: None,
                fault: None,
                outbound: None,
                pushed: None,
            }))
        };
        let per = big().approx_size();
        for i in 0..(REPLAY as i64) {
            bus.publish(i, big());
        }
        let (backlog, _) = bus.subscribe(Some(0));
        assert_eq!(backlog.len(), REPLAY_BYTES / per);
        assert_eq!(backlog.last().map(|e| e.id), Some(REPLAY as u64));
        let inner = bus.inner.lock().unwrap();
        assert!(inner.bytes <= REPLAY_BYTES);
    }
}
