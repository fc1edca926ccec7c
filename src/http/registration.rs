//! Handlers of dynamic client registration (RFC 7591) and client management (RFC 7592) at
//! `/register` and `/register/{client_id}`, with their own CORS policy (any origin, no
//! credentials: browser-based tools such as MCP inspectors register from their own pages), and
//! the admin API's routes for dynamically registered clients and metadata documents. Each
//! handler extracts, makes one call into `crate::oauth::registration` (or the provider), and
//! converts.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{bearer_error, no_store};
use super::extract::{AdminState, AppQuery};
use super::oauth::AppState;
use crate::admin::{AdminError, ErrorBody};
use crate::oauth::client_metadata_document::DocumentView;
use crate::oauth::registration::{self, Caller};
use crate::oauth::{ErrorCode, OAuthError};

/// The registration routes (relative to the issuer), with their CORS layer.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(registration::REGISTER_PATH, post(register))
        .route(
            &format!("{}/{{client_id}}", registration::REGISTER_PATH),
            axum::routing::get(read).put(update).delete(delete),
        )
        .layer(middleware::from_fn_with_state(state, cors))
}

/// CORS for `/register`: any origin (`*`), no credentials; `Authorization` and `Content-Type`
/// allowed, `WWW-Authenticate` readable.
async fn cors(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let policy = super::cors::Policy {
        public: true,
        methods: "GET, POST, PUT, DELETE, OPTIONS",
        expose: "WWW-Authenticate",
    };
    super::cors::apply(&p, policy, req, next).await
}

fn text(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(h: &HeaderMap) -> Result<(), OAuthError> {
    let ok = text(h, header::CONTENT_TYPE)
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "send the client metadata as JSON with Content-Type: application/json (RFC 7591 §3.1)",
        ))
    }
}

fn answer(r: Result<serde_json::Value, OAuthError>, status: StatusCode) -> Response {
    match r {
        Ok(v) => no_store((status, Json(v)).into_response()),
        Err(e) => error(e),
    }
}

fn error(e: OAuthError) -> Response {
    if e.code == ErrorCode::InvalidToken {
        bearer_error(e)
    } else {
        e.into_response()
    }
}

macro_rules! caller {
    ($h:expr, $auth:ident) => {{
        $auth = $h
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes())
            .collect::<Vec<&[u8]>>();
        Caller {
            authorization: &$auth,
            origin: text(&$h, header::ORIGIN),
            user_agent: text(&$h, header::USER_AGENT),
        }
    }};
}

/// `POST /register` (RFC 7591 §3.1): 201 with the client information response.
async fn register(State(p): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = json_body(&headers) {
        return error(e);
    }
    let auth;
    let caller = caller!(headers, auth);
    answer(registration::register(&p, &caller, &body).await, StatusCode::CREATED)
}

/// `GET /register/{client_id}` (RFC 7592 §2.1).
async fn read(State(p): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let auth;
    let caller = caller!(headers, auth);
    answer(registration::read(&p, &caller, &id).await, StatusCode::OK)
}

/// `PUT /register/{client_id}` (RFC 7592 §2.2).
async fn update(State(p): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = json_body(&headers) {
        return error(e);
    }
    let auth;
    let caller = caller!(headers, auth);
    answer(registration::update(&p, &caller, &id, &body).await, StatusCode::OK)
}

/// `DELETE /register/{client_id}` (RFC 7592 §2.3): 204.
async fn delete(State(p): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let auth;
    let caller = caller!(headers, auth);
    match registration::delete(&p, &caller, &id).await {
        Ok(()) => no_store(StatusCode::NO_CONTENT.into_response()),
        Err(e) => error(e),
    }
}

// ---- admin API ----

/// The clients a bulk delete removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedClients {
    /// Their ids.
    pub deleted: Vec<String>,
}

/// Deletes every dynamically registered client (RFC 7591); publishes `client.deleted` for each.
#[utoipa::path(delete, path = "/admin/api/dynamic-clients", tag = "clients",
    responses((status = 200, body = DeletedClients)))]
pub async fn delete_dynamic_clients(State(a): State<AdminState>) -> Response {
    match a.provider.delete_dynamic_clients().await {
        Ok(deleted) => no_store(Json(DeletedClients { deleted }).into_response()),
        Err(e) => AdminError::from(e).into_response(),
    }
}

/// The Client ID Metadata Documents fetched (valid, invalid or failed), most recent first.
#[utoipa::path(get, path = "/admin/api/client-documents", tag = "clients",
    responses((status = 200, body = Vec<DocumentView>)))]
pub async fn list_client_documents(State(a): State<AdminState>) -> Response {
    no_store(Json(a.provider.client_documents.list()).into_response())
}

/// Which documents to forget.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForgetQuery {
    /// One document's URL; absent: all of them.
    pub url: Option<String>,
}

/// Forgets fetched metadata documents, so the next use fetches them again.
#[utoipa::path(delete, path = "/admin/api/client-documents", tag = "clients", params(ForgetQuery),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn clear_client_documents(State(a): State<AdminState>, AppQuery(q): AppQuery<ForgetQuery>) -> Response {
    match q.url {
        None => a.provider.client_documents.clear(),
        Some(u) => {
            if !a.provider.client_documents.forget(&u) {
                return AdminError::not_found(format!("metadata document `{u}`")).into_response();
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
