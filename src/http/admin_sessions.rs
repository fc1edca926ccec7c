//! The admin API's browser-session handlers (`/admin/api/sessions`): extract, one call into
//! [`crate::admin::sessions`], convert.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::error::no_store;
use super::extract::{AdminState, AppQuery};
use crate::admin::sessions::{self, SessionQuery};
use crate::admin::{AdminError, ErrorBody};
use crate::oauth::session::{LogoutDelivery, Session};

fn respond<T: serde::Serialize>(r: Result<T, AdminError>) -> Response {
    match r {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
}

/// Lists browser sessions: live ones (most recently used first), then the last 100 ended ones,
/// each with the clients it signed in to and the back-channel logouts sent to them.
#[utoipa::path(get, path = "/admin/api/sessions", tag = "sessions", params(SessionQuery),
    responses((status = 200, body = [Session]), (status = 400, body = ErrorBody)))]
pub async fn list_sessions(State(a): State<AdminState>, AppQuery(q): AppQuery<SessionQuery>) -> Response {
    respond(Ok(sessions::list(&a.provider, &q)))
}

/// One session, live or ended, by its `sid`.
#[utoipa::path(get, path = "/admin/api/sessions/{sid}", tag = "sessions",
    params(("sid" = String, Path, description = "The session's `sid`")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody)))]
pub async fn get_session(State(a): State<AdminState>, Path(sid): Path<String>) -> Response {
    respond(sessions::get(&a.provider, &sid))
}

/// Ends a live session (the browser must sign in again) and sends an OpenID Connect
/// Back-Channel Logout token to each of its clients with a `backchannel_logout_uri`, waiting
/// for their answers (each at most `backchannel_logout_timeout`). Returns the ended session with
/// each logout's outcome.
#[utoipa::path(delete, path = "/admin/api/sessions/{sid}", tag = "sessions",
    params(("sid" = String, Path, description = "The session's `sid`")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn end_session(State(a): State<AdminState>, Path(sid): Path<String>) -> Response {
    respond(sessions::end(&a.provider, &sid).await)
}

/// Sends a back-channel logout for this session to one of its clients now (the session is not
/// ended), waiting for the answer.
#[utoipa::path(post, path = "/admin/api/sessions/{sid}/clients/{client_id}/logout", tag = "sessions",
    params(("sid" = String, Path, description = "The session's `sid`"),
        ("client_id" = String, Path, description = "A client the session signed in to")),
    responses((status = 200, body = LogoutDelivery), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_logout(State(a): State<AdminState>, Path((sid, client_id)): Path<(String, String)>) -> Response {
    respond(sessions::send_now(&a.provider, &sid, &client_id).await)
}
