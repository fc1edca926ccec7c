//! The live event stream (`GET /admin/api/events`): Server-Sent Events, one per state change.
//!
//! Each event has `id:` (the envelope id), `event:` (its type: `token.issued`, ...) and
//! `data:` (the envelope JSON: `{id, at, type, data}`). A reconnecting client sends
//! `Last-Event-ID` and gets what it missed from the bus's bounded replay buffer. When it missed
//! more than the buffer holds, or falls behind while connected, it gets an `event: resync`
//! telling it to refetch. The first bytes (`retry: 2000`) go out at once; keep-alive comments
//! every 15 s. Streams end when the server
//! shuts down, so they never hold up a graceful shutdown.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::extract::{AdminState, AppQuery};
use crate::events::Envelope;

/// How often a keep-alive comment is sent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The reconnection delay the stream asks browsers for (`retry:`).
pub const RETRY: Duration = Duration::from_secs(2);

/// Query parameters of the stream (for clients that cannot set `Last-Event-ID`).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this event id (same as the `Last-Event-ID` header, which wins).
    pub last_event_id: Option<u64>,
}

fn sse_event(env: &Envelope) -> SseEvent {
    let data = serde_json::to_string(env).unwrap_or_else(|e| {
        serde_json::json!({"id": env.id, "type": env.event.name(), "error": e.to_string()}).to_string()
    });
    SseEvent::default()
        .id(env.id.to_string())
        .event(env.event.name())
        .data(data)
}

fn resync(reason: &str) -> SseEvent {
    SseEvent::default()
        .event("resync")
        .data(serde_json::json!({"reason": reason}).to_string())
}

struct StreamState {
    first: Option<SseEvent>,
    backlog: VecDeque<Arc<Envelope>>,
    rx: tokio::sync::broadcast::Receiver<Arc<Envelope>>,
    stopping: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

/// The stream of typed state-change events (`token.issued`, `client.updated`,
/// `request.logged`, ...), resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/admin/api/events", tag = "events", params(EventsQuery),
    responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events: `id:` the \
        event id, `event:` its type, `data:` the JSON envelope `{id, at, type, data}`; `event: resync` asks the \
        client to refetch", body = String)))]
pub async fn events(State(a): State<AdminState>, headers: HeaderMap, AppQuery(q): AppQuery<EventsQuery>) -> Response {
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or(q.last_event_id);
    let bus = &a.provider.events;
    let (backlog, rx) = bus.subscribe(last_id);
    let newest = bus.next_id().saturating_sub(1);
    let first = match (last_id, backlog.first()) {
        (Some(last), _) if last > newest => Some(resync("Last-Event-ID is from an earlier run of the server")),
        (Some(last), Some(oldest)) if oldest.id > last + 1 => {
            Some(resync("events after Last-Event-ID were dropped from the replay buffer"))
        }
        _ => None,
    };
    // Something goes out at once: a `retry:` field (on the resync, if there is one). Over HTTP/2,
    // WebKitGTK (the desktop window over HTTPS) does not open an EventSource until the first
    // bytes of the body arrive, so a quiet server would look like one that never answers.
    let first = Some(first.unwrap_or_default().retry(RETRY));
    let state = StreamState {
        first,
        backlog: backlog.into(),
        rx,
        stopping: Box::pin(a.stopping()),
    };
    Sse::new(stream_of(state))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

fn stream_of(state: StreamState) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            return Some((Ok(first), st));
        }
        if let Some(env) = st.backlog.pop_front() {
            return Some((Ok(sse_event(&env)), st));
        }
        let next = tokio::select! {
            r = st.rx.recv() => r,
            () = &mut st.stopping => return None,
        };
        match next {
            Ok(env) => Some((Ok(sse_event(&env)), st)),
            Err(RecvError::Lagged(n)) => Some((Ok(resync(&format!("the stream fell behind by {n} events"))), st)),
            Err(RecvError::Closed) => None,
        }
    })
}
