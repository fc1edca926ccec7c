//! Browser sessions for the admin API and the GUI (`/admin/api/sessions`): list them with the
//! clients each signed in to and the back-channel logouts sent; end one (which sends the
//! logouts, OIDC Back-Channel Logout 1.0 §2.5); send one client's logout again now.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AdminError;
use crate::oauth::backchannel_logout;
use crate::oauth::session::{LogoutDelivery, LogoutTrigger, Session};
use crate::provider::Provider;

/// Which sessions `GET /admin/api/sessions` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Live and recently ended ones.
    #[default]
    All,
    /// Only live (unexpired, not ended) sessions.
    Live,
    /// Only ended sessions (the last 100 are kept).
    Ended,
}

/// The query of `GET /admin/api/sessions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// `all` (default), `live` or `ended`.
    pub state: Option<SessionState>,
    /// Only sessions of this user.
    pub username: Option<String>,
    /// Only sessions that signed in to this client.
    pub client_id: Option<String>,
}

/// Live sessions (most recently used first), then ended ones (most recently ended first).
pub fn list(p: &Provider, q: &SessionQuery) -> Vec<Session> {
    let state = q.state.unwrap_or_default();
    p.sessions
        .list(p.clock.now())
        .into_iter()
        .filter(|s| match state {
            SessionState::All => true,
            SessionState::Live => s.ended_at.is_none(),
            SessionState::Ended => s.ended_at.is_some(),
        })
        .filter(|s| q.username.as_ref().is_none_or(|u| &s.username == u))
        .filter(|s| {
            q.client_id
                .as_ref()
                .is_none_or(|c| s.clients.iter().any(|sc| &sc.client_id == c))
        })
        .collect()
}

/// One session, live or ended, by its `sid`. 404 when unknown (expired, or ended long ago).
pub fn get(p: &Provider, sid: &str) -> Result<Session, AdminError> {
    p.sessions
        .by_sid(sid, p.clock.now())
        .ok_or_else(|| AdminError::not_found(format!("session `{sid}`")))
}

/// Ends a live session and sends the back-channel logouts to its clients, waiting for their
/// outcomes (each bounded by `[server] backchannel_logout_timeout`). Returns the ended session
/// with the outcomes. 404 when no live session has this `sid`; 409 when it has already ended.
pub async fn end(p: &Provider, sid: &str) -> Result<Session, AdminError> {
    match backchannel_logout::end_by_sid(p, sid).await {
        Some((s, _)) => Ok(s),
        None => match p.sessions.by_sid(sid, p.clock.now()) {
            Some(s) if s.ended_at.is_some() => Err(AdminError::conflict(format!("session `{sid}` has already ended"))),
            _ => Err(AdminError::not_found(format!("session `{sid}`"))),
        },
    }
}

/// Sends a back-channel logout for session `sid` to one of its clients now (the session, live
/// or ended, stays as it is), waiting for the outcome. 404 when the session is unknown or never
/// signed in to the client; 422 (`client_id`) when the client no longer exists or has no
/// `backchannel_logout_uri`.
pub async fn send_now(p: &Provider, sid: &str, client_id: &str) -> Result<LogoutDelivery, AdminError> {
    let s = get(p, sid)?;
    if !s.clients.iter().any(|c| c.client_id == client_id) {
        return Err(AdminError::not_found(format!(
            "client `{client_id}` in session `{sid}` (it never signed in to it)"
        )));
    }
    match p.client(client_id) {
        None => {
            return Err(AdminError::field(
                "client_id",
                format!("client `{client_id}` no longer exists"),
            ));
        }
        Some(c) if c.backchannel_logout_uri.is_none() => {
            return Err(AdminError::field(
                "client_id",
                format!("client `{client_id}` has no backchannel_logout_uri; set one to send logouts"),
            ));
        }
        Some(_) => {}
    }
    backchannel_logout::notify(p, &s, &[client_id.to_string()], LogoutTrigger::SendNow)
        .await
        .into_iter()
        .next()
        .ok_or_else(|| {
            AdminError::field(
                "client_id",
                format!("client `{client_id}` has no backchannel_logout_uri"),
            )
        })
}
