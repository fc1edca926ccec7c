//! The admin API handlers (design §3.4): extract, make one call into [`crate::admin`], convert.
//!
//! Routes are registered with utoipa-axum from the handlers' `#[utoipa::path]` attributes, so
//! the router and the OpenAPI 3.1 document served at `/admin/api/openapi.json` are built from
//! the same source and cannot drift.

use std::sync::OnceLock;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::no_store;
use crate::admin::decode_json;
use crate::admin::device::{self as admin_device, ApproveRequest, DeviceCodeView};
use crate::admin::faults::{self as admin_faults, SaveScenario};
use crate::admin::jwks_fetch::{self, FetchJwksRequest, FetchedJwks};
use crate::admin::keys::{KeyView, RotateRequest};
use crate::admin::registry::{self, ClockChange, ClockView, ImportSummary, ScopeView, Status, UserView};
use crate::admin::requests::LoggedRequest;
use crate::admin::resources::{self as admin_resources, CheckRequest};
use crate::admin::tokens::{self, MintRequest, Minted, Revoked, TokenDetail, TokenItem, TokenQuery};
use crate::admin::{AdminError, ErrorBody, ErrorKind, FieldIssue, Page};
use crate::faults::stats::StatsView;
use crate::faults::{FaultRule, RuleView, Scenario};
use crate::model::{Client, Resource, Scope, Settings, TrustedIssuer, User};
use crate::resources::{Profile, ResourceCall, ResourceView, Verdict};

/// Shared state of the admin routes.
pub use super::extract::{AdminState, AppQuery};

type Res<T> = Result<T, AdminError>;

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match self.kind {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut resp = no_store((status, Json(self.body())).into_response());
        if self.kind == ErrorKind::Unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(crate::admin::guard::CHALLENGE),
            );
        }
        resp
    }
}

/// A JSON body whose failures are admin errors: malformed JSON is 400, a well-formed body of
/// the wrong shape is 422 naming the field (axum's error-handling example, with
/// serde_path_to_error for the field path).
pub struct AppJson<T>(pub T);

fn is_json(ct: Option<&HeaderValue>) -> bool {
    ct.and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(AdminError::bad_request(
                "the body must be JSON: send `Content-Type: application/json`",
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AdminError::bad_request(format!("the body is larger than {} KiB", super::MAX_BODY / 1024))
            } else {
                AdminError::bad_request(format!("the body could not be read: {e}"))
            }
        })?;
        decode_json(&body).map(AppJson)
    }
}

fn ok<T: Serialize>(v: T) -> Response {
    no_store(Json(v).into_response())
}

fn created<T: Serialize>(v: T) -> Response {
    no_store((StatusCode::CREATED, Json(v)).into_response())
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn respond<T: Serialize>(r: Res<T>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => e.into_response(),
    }
}

fn respond_created<T: Serialize>(r: Res<T>) -> Response {
    match r {
        Ok(v) => created(v),
        Err(e) => e.into_response(),
    }
}

fn respond_empty(r: Res<()>) -> Response {
    match r {
        Ok(()) => no_content(),
        Err(e) => e.into_response(),
    }
}

// ---- clients ----

/// Lists every client (secrets included).
#[utoipa::path(get, path = "/admin/api/clients", tag = "clients",
    responses((status = 200, body = [Client])))]
pub async fn list_clients(State(a): State<AdminState>) -> Response {
    ok(registry::list_clients(&a.provider))
}

/// Creates a client. A confidential client without `client_secret` gets a generated one.
#[utoipa::path(post, path = "/admin/api/clients", tag = "clients", request_body = Client,
    responses((status = 201, body = Client), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_client(State(a): State<AdminState>, AppJson(c): AppJson<Client>) -> Response {
    respond_created(registry::create_client(&a.provider, c).await)
}

/// One client.
#[utoipa::path(get, path = "/admin/api/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client id")),
    responses((status = 200, body = Client), (status = 404, body = ErrorBody)))]
pub async fn get_client(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    respond(registry::get_client(&a.provider, &id))
}

/// Replaces a client. Without `client_secret`, the current secret is kept.
#[utoipa::path(put, path = "/admin/api/clients/{client_id}", tag = "clients", request_body = Client,
    params(("client_id" = String, Path, description = "The client id")),
    responses((status = 200, body = Client), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_client(
    State(a): State<AdminState>,
    Path(id): Path<String>,
    AppJson(c): AppJson<Client>,
) -> Response {
    respond(registry::replace_client(&a.provider, &id, c).await)
}

/// Deletes a client (its tokens stay recorded).
#[utoipa::path(delete, path = "/admin/api/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_client(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    respond_empty(registry::delete_client(&a.provider, &id).await)
}

/// Gives a client a new random secret and returns the client with it.
#[utoipa::path(post, path = "/admin/api/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = "The client id")),
    responses((status = 200, body = Client), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn regenerate_secret(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    respond(registry::regenerate_secret(&a.provider, &id).await)
}

// ---- scopes ----

/// Lists built-in and custom scopes, with the clients allowed to request each.
#[utoipa::path(get, path = "/admin/api/scopes", tag = "scopes",
    responses((status = 200, body = [ScopeView])))]
pub async fn list_scopes(State(a): State<AdminState>) -> Response {
    ok(registry::list_scopes(&a.provider))
}

/// Creates a custom scope.
#[utoipa::path(post, path = "/admin/api/scopes", tag = "scopes", request_body = Scope,
    responses((status = 201, body = ScopeView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_scope(State(a): State<AdminState>, AppJson(s): AppJson<Scope>) -> Response {
    respond_created(registry::create_scope(&a.provider, s).await)
}

/// Replaces a custom scope (built-in scopes are read-only: 403).
#[utoipa::path(put, path = "/admin/api/scopes/{name}", tag = "scopes", request_body = Scope,
    params(("name" = String, Path, description = "The scope")),
    responses((status = 200, body = ScopeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_scope(
    State(a): State<AdminState>,
    Path(name): Path<String>,
    AppJson(s): AppJson<Scope>,
) -> Response {
    respond(registry::replace_scope(&a.provider, &name, s).await)
}

/// Deletes a custom scope that no client or resource uses (built-in: 403; in use: 409).
#[utoipa::path(delete, path = "/admin/api/scopes/{name}", tag = "scopes",
    params(("name" = String, Path, description = "The scope")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_scope(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond_empty(registry::delete_scope(&a.provider, &name).await)
}

// ---- users ----

/// Lists users (never their passwords).
#[utoipa::path(get, path = "/admin/api/users", tag = "users",
    responses((status = 200, body = [UserView])))]
pub async fn list_users(State(a): State<AdminState>) -> Response {
    respond(registry::list_users(&a.provider).await)
}

/// Creates a user; a `password` is stored hashed and never returned.
#[utoipa::path(post, path = "/admin/api/users", tag = "users", request_body = User,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(State(a): State<AdminState>, AppJson(u): AppJson<User>) -> Response {
    respond_created(registry::create_user(&a.provider, u).await)
}

/// One user.
#[utoipa::path(get, path = "/admin/api/users/{username}", tag = "users",
    params(("username" = String, Path, description = "The username")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_user(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(registry::get_user(&a.provider, &name).await)
}

/// Replaces a user; without `password` the current one is kept.
#[utoipa::path(put, path = "/admin/api/users/{username}", tag = "users", request_body = User,
    params(("username" = String, Path, description = "The username")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_user(
    State(a): State<AdminState>,
    Path(name): Path<String>,
    AppJson(u): AppJson<User>,
) -> Response {
    respond(registry::replace_user(&a.provider, &name, u).await)
}

/// Deletes a user.
#[utoipa::path(delete, path = "/admin/api/users/{username}", tag = "users",
    params(("username" = String, Path, description = "The username")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_user(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond_empty(registry::delete_user(&a.provider, &name).await)
}

// ---- trusted issuers ----

/// Lists the trusted issuers of JWT bearer assertions (RFC 7523 §2.1, `[[trusted_issuers]]`).
#[utoipa::path(get, path = "/admin/api/trusted-issuers", tag = "trusted-issuers",
    responses((status = 200, body = [TrustedIssuer])))]
pub async fn list_trusted_issuers(State(a): State<AdminState>) -> Response {
    ok(registry::list_trusted_issuers(&a.provider))
}

/// Adds a trusted issuer: its `issuer`, its keys (`jwks` inline or `jwks_uri`), the subjects it
/// may assert and extra accepted audiences.
#[utoipa::path(post, path = "/admin/api/trusted-issuers", tag = "trusted-issuers", request_body = TrustedIssuer,
    responses((status = 201, body = TrustedIssuer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_trusted_issuer(State(a): State<AdminState>, AppJson(t): AppJson<TrustedIssuer>) -> Response {
    respond_created(registry::create_trusted_issuer(&a.provider, t).await)
}

/// One trusted issuer (the `issuer` percent-encoded in the path).
#[utoipa::path(get, path = "/admin/api/trusted-issuers/{issuer}", tag = "trusted-issuers",
    params(("issuer" = String, Path, description = "The issuer identifier, percent-encoded")),
    responses((status = 200, body = TrustedIssuer), (status = 404, body = ErrorBody)))]
pub async fn get_trusted_issuer(State(a): State<AdminState>, Path(issuer): Path<String>) -> Response {
    respond(registry::get_trusted_issuer(&a.provider, &issuer))
}

/// Replaces a trusted issuer.
#[utoipa::path(put, path = "/admin/api/trusted-issuers/{issuer}", tag = "trusted-issuers", request_body = TrustedIssuer,
    params(("issuer" = String, Path, description = "The issuer identifier, percent-encoded")),
    responses((status = 200, body = TrustedIssuer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_trusted_issuer(
    State(a): State<AdminState>,
    Path(issuer): Path<String>,
    AppJson(t): AppJson<TrustedIssuer>,
) -> Response {
    respond(registry::replace_trusted_issuer(&a.provider, &issuer, t).await)
}

/// Removes a trusted issuer; its assertions are refused from then on.
#[utoipa::path(delete, path = "/admin/api/trusted-issuers/{issuer}", tag = "trusted-issuers",
    params(("issuer" = String, Path, description = "The issuer identifier, percent-encoded")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_trusted_issuer(State(a): State<AdminState>, Path(issuer): Path<String>) -> Response {
    respond_empty(registry::delete_trusted_issuer(&a.provider, &issuer).await)
}

// ---- resources ----

/// Lists the simulated protected APIs, each with its read-only `identifier`,
/// `metadata_url` and `effective` (the resolved policy).
#[utoipa::path(get, path = "/admin/api/resources", tag = "resources",
    responses((status = 200, body = [ResourceView])))]
pub async fn list_resources(State(a): State<AdminState>) -> Response {
    ok(admin_resources::list(&a.provider))
}

/// Reads a resource body: JSON, with the read-only `identifier`, `metadata_url` and `effective` ignored.
async fn resource_body(req: Request) -> Result<Resource, AdminError> {
    if !is_json(req.headers().get(header::CONTENT_TYPE)) {
        return Err(AdminError::bad_request(
            "the body must be JSON: send `Content-Type: application/json`",
        ));
    }
    let body = Bytes::from_request(req, &())
        .await
        .map_err(|e| AdminError::bad_request(format!("the body could not be read: {e}")))?;
    admin_resources::decode_resource(&body)
}

/// Creates a resource (read-only `identifier`, `metadata_url` and `effective` in the body are ignored).
#[utoipa::path(post, path = "/admin/api/resources", tag = "resources", request_body = Resource,
    responses((status = 201, body = ResourceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resource(State(a): State<AdminState>, req: Request) -> Response {
    match resource_body(req).await {
        Ok(r) => respond_created(registry::create_resource(&a.provider, r).await),
        Err(e) => e.into_response(),
    }
}

/// One resource.
#[utoipa::path(get, path = "/admin/api/resources/{name}", tag = "resources",
    params(("name" = String, Path, description = "The resource name")),
    responses((status = 200, body = ResourceView), (status = 404, body = ErrorBody)))]
pub async fn get_resource(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_resources::get(&a.provider, &name))
}

/// Replaces a resource (read-only `identifier`, `metadata_url` and `effective` in the body are ignored).
#[utoipa::path(put, path = "/admin/api/resources/{name}", tag = "resources", request_body = Resource,
    params(("name" = String, Path, description = "The resource name")),
    responses((status = 200, body = ResourceView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_resource(State(a): State<AdminState>, Path(name): Path<String>, req: Request) -> Response {
    match resource_body(req).await {
        Ok(r) => respond(registry::replace_resource(&a.provider, &name, r).await),
        Err(e) => e.into_response(),
    }
}

/// Deletes a resource.
#[utoipa::path(delete, path = "/admin/api/resources/{name}", tag = "resources",
    params(("name" = String, Path, description = "The resource name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_resource(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond_empty(registry::delete_resource(&a.provider, &name).await)
}

/// The resource profiles: what each checks and the defaults it gives a resource.
#[utoipa::path(get, path = "/admin/api/resource-profiles", tag = "resources",
    responses((status = 200, body = [Profile])))]
pub async fn resource_profiles() -> Response {
    ok(admin_resources::profiles())
}

/// Checks a token against a resource as a call with `method` and `path` would, without
/// recording a call; publishes `resource.checked`.
#[utoipa::path(post, path = "/admin/api/resources/{name}/check", tag = "resources", request_body = CheckRequest,
    params(("name" = String, Path, description = "The resource name")),
    responses((status = 200, body = Verdict), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check_resource(
    State(a): State<AdminState>,
    Path(name): Path<String>,
    AppJson(r): AppJson<CheckRequest>,
) -> Response {
    match admin_resources::check(&a.provider, &name, r).await {
        Ok((c, mut verdict)) => {
            super::resources::fill_challenge(&c, &mut verdict);
            crate::resources::publish_checked(&a.provider, &verdict);
            ok(verdict)
        }
        Err(e) => e.into_response(),
    }
}

/// The resource's recent calls with their verdicts, newest first (the last 100 per resource).
#[utoipa::path(get, path = "/admin/api/resources/{name}/calls", tag = "resources",
    params(("name" = String, Path, description = "The resource name")),
    responses((status = 200, body = [ResourceCall]), (status = 404, body = ErrorBody)))]
pub async fn resource_calls(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_resources::calls(&a.provider, &name))
}

/// One recent call with its verdict (the `Latchkey-Verdict` header of a call links here).
#[utoipa::path(get, path = "/admin/api/resources/{name}/calls/{id}", tag = "resources",
    params(("name" = String, Path, description = "The resource name"), ("id" = i64, Path, description = "The call id")),
    responses((status = 200, body = ResourceCall), (status = 404, body = ErrorBody)))]
pub async fn resource_call(State(a): State<AdminState>, Path((name, id)): Path<(String, String)>) -> Response {
    let r = id
        .parse::<i64>()
        .map_err(|_| AdminError::not_found(format!("call `{id}`")))
        .and_then(|id| admin_resources::call(&a.provider, &name, id));
    respond(r)
}

// ---- tokens ----

/// Lists tokens newest first, filtered by client, user, kind and live status, paginated.
#[utoipa::path(get, path = "/admin/api/tokens", tag = "tokens", params(TokenQuery),
    responses((status = 200, body = Page<TokenItem>), (status = 422, body = ErrorBody)))]
pub async fn list_tokens(State(a): State<AdminState>, AppQuery(q): AppQuery<TokenQuery>) -> Response {
    respond(tokens::list(&a.provider, q).await)
}

/// Mints an access token for a client (and user) with chosen scopes, lifetime and claims.
#[utoipa::path(post, path = "/admin/api/tokens", tag = "tokens", request_body = MintRequest,
    responses((status = 201, body = Minted), (status = 422, body = ErrorBody)))]
pub async fn mint_token(State(a): State<AdminState>, AppJson(r): AppJson<MintRequest>) -> Response {
    respond_created(tokens::mint(&a.provider, r).await)
}

/// One token: raw value, decoded header and payload, signature check, live status and the
/// introspection answer.
#[utoipa::path(get, path = "/admin/api/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token id (jti)")),
    responses((status = 200, body = TokenDetail), (status = 404, body = ErrorBody)))]
pub async fn get_token(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    respond(tokens::get(&a.provider, &id).await)
}

/// Revokes a token (a refresh token: its whole grant) and publishes `token.revoked`.
#[utoipa::path(post, path = "/admin/api/tokens/{id}/revoke", tag = "tokens",
    params(("id" = String, Path, description = "The token id (jti)")),
    responses((status = 200, body = Revoked), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    respond(tokens::revoke(&a.provider, &id).await)
}

/// The body of `POST /admin/api/tokens/inspect`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    /// Any token: one of ours, a JWT from elsewhere, or a string to check.
    pub token: String,
}

/// Decodes and checks any pasted token, ours or not.
#[utoipa::path(post, path = "/admin/api/tokens/inspect", tag = "tokens", request_body = InspectRequest,
    responses((status = 200, body = TokenDetail), (status = 422, body = ErrorBody)))]
pub async fn inspect_token(State(a): State<AdminState>, AppJson(r): AppJson<InspectRequest>) -> Response {
    respond(tokens::inspect(&a.provider, &r.token).await)
}

// ---- device codes (RFC 8628) ----

/// Lists the live device authorization requests, newest first (the device code itself is
/// never shown).
#[utoipa::path(get, path = "/admin/api/device-codes", tag = "device codes",
    responses((status = 200, body = Vec<DeviceCodeView>)))]
pub async fn list_device_codes(State(a): State<AdminState>) -> Response {
    ok(admin_device::list(&a.provider))
}

/// Approves a pending device request as a user (headless tests): the device's next poll gets
/// tokens for that user.
#[utoipa::path(post, path = "/admin/api/device-codes/{user_code}/approve", tag = "device codes",
    request_body = ApproveRequest,
    params(("user_code" = String, Path, description = "The user code, XXXX-XXXX (case and dash do not matter)")),
    responses((status = 200, body = DeviceCodeView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve_device_code(
    State(a): State<AdminState>,
    Path(user_code): Path<String>,
    AppJson(r): AppJson<ApproveRequest>,
) -> Response {
    respond(admin_device::approve(&a.provider, &user_code, r).await)
}

/// Denies a pending device request: the device's next poll gets `access_denied`.
#[utoipa::path(post, path = "/admin/api/device-codes/{user_code}/deny", tag = "device codes",
    params(("user_code" = String, Path, description = "The user code, XXXX-XXXX (case and dash do not matter)")),
    responses((status = 200, body = DeviceCodeView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny_device_code(State(a): State<AdminState>, Path(user_code): Path<String>) -> Response {
    respond(admin_device::deny(&a.provider, &user_code).await)
}

// ---- tools ----

/// Fetches a JWK Set from a loopback URL for the token inspector (the UI's CSP keeps the
/// browser on its own origin). Only `127.0.0.0/8`, `[::1]` and names resolving only to them;
/// only a JSON object with a `keys` array comes back (RFC 7517 §5); 422 naming `url` otherwise.
#[utoipa::path(post, path = "/admin/api/tools/fetch-jwks", tag = "tokens", request_body = FetchJwksRequest,
    responses((status = 200, body = FetchedJwks), (status = 422, body = ErrorBody)))]
pub async fn fetch_jwks(AppJson(r): AppJson<FetchJwksRequest>) -> Response {
    respond(fetch_jwks_from(&r.url).await)
}

async fn fetch_jwks_from(raw: &str) -> Result<FetchedJwks, AdminError> {
    let (url, name) = jwks_fetch::check_url(raw)?;
    if let Some(name) = name {
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<std::net::IpAddr> = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map(|it| it.map(|a| a.ip()).collect())
            .unwrap_or_default();
        jwks_fetch::check_resolved(&name, &addrs)?;
    }
    let (status, body) = super::upstream::get_small(&url, jwks_fetch::MAX_JWKS_BYTES, jwks_fetch::FETCH_TIMEOUT)
        .await
        .map_err(|m| AdminError::field("url", m))?;
    jwks_fetch::parse_answer(&url, status, &body)
}

// ---- requests ----

/// Paging of the request log.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

/// The request log, newest first: parameters redacted, response summary, `curl` command.
#[utoipa::path(get, path = "/admin/api/requests", tag = "requests", params(PageQuery),
    responses((status = 200, body = Page<LoggedRequest>)))]
pub async fn list_requests(State(a): State<AdminState>, AppQuery(q): AppQuery<PageQuery>) -> Response {
    respond(a.requests.list(q.limit, q.cursor))
}

/// One logged request.
#[utoipa::path(get, path = "/admin/api/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "The request id")),
    responses((status = 200, body = LoggedRequest), (status = 404, body = ErrorBody)))]
pub async fn get_request(State(a): State<AdminState>, Path(id): Path<String>) -> Response {
    let r = id
        .parse::<i64>()
        .map_err(|_| AdminError::not_found(format!("request `{id}`")))
        .and_then(|id| a.requests.get(id));
    respond(r)
}

// ---- keys ----

/// The signing keys: active, retired (still published until `expires_at`) and unpublished
/// (left the JWKS; public metadata only).
#[utoipa::path(get, path = "/admin/api/keys", tag = "keys",
    responses((status = 200, body = [KeyView])))]
pub async fn list_keys(State(a): State<AdminState>) -> Response {
    respond(crate::admin::keys::list(&a.provider).await)
}

/// The `retention` query of the rotation preview.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetentionQuery {
    /// Seconds the active key would stay published (default: as for a rotation).
    pub retention: Option<u64>,
}

/// What rotating now with `retention` would do: how many live tokens of the active key would
/// stop verifying, and when. Changes nothing.
#[utoipa::path(get, path = "/admin/api/keys/rotation-preview", tag = "keys", params(RetentionQuery),
    responses((status = 200, body = crate::admin::keys::RotationPreview), (status = 422, body = ErrorBody)))]
pub async fn rotation_preview(State(a): State<AdminState>, AppQuery(q): AppQuery<RetentionQuery>) -> Response {
    respond(crate::admin::keys::preview(&a.provider, q.retention).await)
}

/// Rotates the signing key; the old key stays in the JWKS for `retention` seconds.
#[utoipa::path(post, path = "/admin/api/keys/rotate", tag = "keys", request_body = Option<RotateRequest>,
    responses((status = 200, body = [KeyView]), (status = 422, body = ErrorBody)))]
pub async fn rotate_key(State(a): State<AdminState>, body: Bytes) -> Response {
    // An empty body means the defaults.
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(RotateRequest::default())
    } else {
        decode_json::<RotateRequest>(&body)
    };
    match req {
        Ok(r) => respond(crate::admin::keys::rotate(&a.provider, r).await),
        Err(e) => e.into_response(),
    }
}

// ---- reset ----

/// `?keys=true` on `POST /admin/api/reset`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResetQuery {
    /// Also replace the signing keys (as `{"keys": true}` in the body).
    pub keys: Option<bool>,
}

/// Back to the state the server started with (the config file's): tokens, consents, sessions,
/// the request log, resource calls and the clock offset cleared; clients, scopes, users,
/// resources and settings changed since start restored. Keys are kept unless `keys` is true
/// (body `{"keys": true}` or `?keys=true`). Publishes `server.reset`.
#[utoipa::path(post, path = "/admin/api/reset", tag = "status", params(ResetQuery),
    request_body = Option<crate::admin::reset::ResetRequest>,
    responses((status = 200, body = crate::admin::reset::ResetSummary), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reset_server(State(a): State<AdminState>, AppQuery(q): AppQuery<ResetQuery>, body: Bytes) -> Response {
    // An empty body means the defaults.
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(crate::admin::reset::ResetRequest::default())
    } else {
        decode_json::<crate::admin::reset::ResetRequest>(&body)
    };
    match req {
        Ok(mut r) => {
            r.keys |= q.keys.unwrap_or(false);
            respond(crate::admin::reset::reset(&a, r).await)
        }
        Err(e) => e.into_response(),
    }
}

// ---- settings, clock ----

/// The server settings.
#[utoipa::path(get, path = "/admin/api/settings", tag = "settings",
    responses((status = 200, body = Settings)))]
pub async fn get_settings(State(a): State<AdminState>) -> Response {
    ok(&*a.provider.settings())
}

/// Replaces the server settings (lifetimes at least 1 s).
#[utoipa::path(put, path = "/admin/api/settings", tag = "settings", request_body = Settings,
    responses((status = 200, body = Settings), (status = 422, body = ErrorBody)))]
pub async fn put_settings(State(a): State<AdminState>, AppJson(s): AppJson<Settings>) -> Response {
    respond(registry::set_settings(&a.provider, s).await)
}

/// The virtual clock.
#[utoipa::path(get, path = "/admin/api/clock", tag = "settings",
    responses((status = 200, body = ClockView)))]
pub async fn get_clock(State(a): State<AdminState>) -> Response {
    ok(registry::clock(&a.provider))
}

/// Moves the virtual clock (`advance` or `offset`, in seconds); publishes `clock.moved`.
#[utoipa::path(post, path = "/admin/api/clock", tag = "settings", request_body = ClockChange,
    responses((status = 200, body = ClockView), (status = 422, body = ErrorBody)))]
pub async fn move_clock(State(a): State<AdminState>, AppJson(c): AppJson<ClockChange>) -> Response {
    respond(registry::move_clock(&a.provider, c))
}

// ---- config, status ----

/// What an export includes.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Include dynamically registered clients (RFC 7591)? Default true; `false` skips them.
    pub dynamic_clients: Option<bool>,
}

/// The registry and settings as a `latchkey.toml` (users without passwords).
#[utoipa::path(get, path = "/admin/api/config", tag = "config", params(ExportQuery),
    responses((status = 200, content_type = "application/toml", body = String)))]
pub async fn get_config(State(a): State<AdminState>, AppQuery(q): AppQuery<ExportQuery>) -> Response {
    match registry::export_toml(&a.provider, q.dynamic_clients.unwrap_or(true)).await {
        Ok(toml) => no_store(([(header::CONTENT_TYPE, "application/toml; charset=utf-8")], toml).into_response()),
        Err(e) => e.into_response(),
    }
}

/// How the imported file is named in errors.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The uploaded file's name, used in error messages (`latchkey.toml line 3: ...`); at most
    /// 200 characters, its directory part dropped. Default: `the uploaded file`.
    pub filename: Option<String>,
}

/// The name an import's errors use: the file's base name, printable, at most 200 characters.
fn import_name(filename: Option<&str>) -> String {
    let base = filename
        .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))
        .map(|f| f.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
        .filter(|f| !f.trim().is_empty());
    base.unwrap_or_else(|| "the uploaded file".to_string())
}

/// Imports a `latchkey.toml` (upsert: what it names is created or replaced). Errors carry
/// the line and the key.
#[utoipa::path(put, path = "/admin/api/config", tag = "config", params(ImportQuery),
    request_body(content = String, content_type = "application/toml"),
    responses((status = 200, body = ImportSummary), (status = 400, body = ErrorBody)))]
pub async fn put_config(State(a): State<AdminState>, AppQuery(q): AppQuery<ImportQuery>, body: Bytes) -> Response {
    let src = match std::str::from_utf8(&body) {
        Ok(s) => s,
        Err(_) => return AdminError::bad_request("the config file is not valid UTF-8").into_response(),
    };
    respond(registry::import_config(&a.provider, &import_name(q.filename.as_deref()), src).await)
}

/// Version, issuer, uptime, clock, active key and counts.
#[utoipa::path(get, path = "/admin/api/status", tag = "status",
    responses((status = 200, body = Status)))]
pub async fn status(State(a): State<AdminState>) -> Response {
    respond(registry::status(&a).await)
}

// ---- fault rules, scenarios, call counts ----

/// Every fault rule with its counters (`matched`, `fired`, `active`), in the order they are tried.
#[utoipa::path(get, path = "/admin/api/faults", tag = "faults",
    responses((status = 200, body = [RuleView])))]
pub async fn list_faults(State(a): State<AdminState>) -> Response {
    ok(admin_faults::list(&a.provider))
}

/// Adds a fault rule (docs/faults.md); it is tried after the existing ones.
#[utoipa::path(post, path = "/admin/api/faults", tag = "faults", request_body = FaultRule,
    responses((status = 201, body = RuleView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_fault(State(a): State<AdminState>, AppJson(r): AppJson<FaultRule>) -> Response {
    respond_created(admin_faults::create(&a.provider, r).await)
}

/// Replaces every fault rule at once (`[]` removes them all).
#[utoipa::path(put, path = "/admin/api/faults", tag = "faults", request_body = [FaultRule],
    responses((status = 200, body = [RuleView]), (status = 422, body = ErrorBody)))]
pub async fn replace_faults(State(a): State<AdminState>, AppJson(r): AppJson<Vec<FaultRule>>) -> Response {
    respond(admin_faults::replace_all(&a.provider, r).await)
}

/// One fault rule with its counters.
#[utoipa::path(get, path = "/admin/api/faults/{name}", tag = "faults",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody)))]
pub async fn get_fault(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::get(&a.provider, &name))
}

/// Replaces (or creates) a fault rule; the body may rename it. Its counters restart.
#[utoipa::path(put, path = "/admin/api/faults/{name}", tag = "faults", request_body = FaultRule,
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = RuleView), (status = 201, body = RuleView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_fault(
    State(a): State<AdminState>,
    Path(name): Path<String>,
    AppJson(r): AppJson<FaultRule>,
) -> Response {
    match admin_faults::replace(&a.provider, &name, r).await {
        Ok((true, v)) => created(v),
        Ok((false, v)) => ok(v),
        Err(e) => e.into_response(),
    }
}

/// Deletes a fault rule.
#[utoipa::path(delete, path = "/admin/api/faults/{name}", tag = "faults",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_fault(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond_empty(admin_faults::delete(&a.provider, &name).await)
}

/// Turns a fault rule on (its counters are kept).
#[utoipa::path(post, path = "/admin/api/faults/{name}/enable", tag = "faults",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody)))]
pub async fn enable_fault(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::enable(&a.provider, &name, true).await)
}

/// Turns a fault rule off (its counters are kept).
#[utoipa::path(post, path = "/admin/api/faults/{name}/disable", tag = "faults",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody)))]
pub async fn disable_fault(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::enable(&a.provider, &name, false).await)
}

/// Puts one rule's counters back to zero (a rule used up by `times` fires again).
#[utoipa::path(post, path = "/admin/api/faults/{name}/reset", tag = "faults",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = [RuleView]), (status = 404, body = ErrorBody)))]
pub async fn reset_fault(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::reset_counters(&a.provider, Some(&name)))
}

/// Puts every rule's counters back to zero.
#[utoipa::path(post, path = "/admin/api/fault-counters/reset", tag = "faults",
    responses((status = 200, body = [RuleView])))]
pub async fn reset_fault_counters(State(a): State<AdminState>) -> Response {
    respond(admin_faults::reset_counters(&a.provider, None))
}

/// Call counts per endpoint, per client and per user since start or the last reset.
#[utoipa::path(get, path = "/admin/api/stats", tag = "faults",
    responses((status = 200, body = StatsView)))]
pub async fn get_stats(State(a): State<AdminState>) -> Response {
    ok(admin_faults::stats(&a.provider))
}

/// Starts the call counts afresh (`POST /admin/api/reset` does too).
#[utoipa::path(post, path = "/admin/api/stats/reset", tag = "faults",
    responses((status = 200, body = StatsView)))]
pub async fn reset_stats(State(a): State<AdminState>) -> Response {
    ok(admin_faults::reset_stats(&a.provider))
}

/// Every scenario.
#[utoipa::path(get, path = "/admin/api/scenarios", tag = "scenarios",
    responses((status = 200, body = [Scenario])))]
pub async fn list_scenarios(State(a): State<AdminState>) -> Response {
    respond(admin_faults::scenarios(&a.provider).await)
}

/// Creates a scenario.
#[utoipa::path(post, path = "/admin/api/scenarios", tag = "scenarios", request_body = Scenario,
    responses((status = 201, body = Scenario), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_scenario(State(a): State<AdminState>, AppJson(s): AppJson<Scenario>) -> Response {
    respond_created(admin_faults::create_scenario(&a.provider, s).await)
}

/// One scenario.
#[utoipa::path(get, path = "/admin/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path, description = "The scenario's name")),
    responses((status = 200, body = Scenario), (status = 404, body = ErrorBody)))]
pub async fn get_scenario(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::scenario(&a.provider, &name).await)
}

/// Creates or replaces a scenario (the body's `name` must match the URL).
#[utoipa::path(put, path = "/admin/api/scenarios/{name}", tag = "scenarios", request_body = Scenario,
    params(("name" = String, Path, description = "The scenario's name")),
    responses((status = 200, body = Scenario), (status = 201, body = Scenario), (status = 422, body = ErrorBody)))]
pub async fn replace_scenario(
    State(a): State<AdminState>,
    Path(name): Path<String>,
    AppJson(s): AppJson<Scenario>,
) -> Response {
    match admin_faults::replace_scenario(&a.provider, &name, s).await {
        Ok((true, v)) => created(v),
        Ok((false, v)) => ok(v),
        Err(e) => e.into_response(),
    }
}

/// Deletes a scenario.
#[utoipa::path(delete, path = "/admin/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path, description = "The scenario's name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_scenario(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond_empty(admin_faults::delete_scenario(&a.provider, &name).await)
}

/// Saves the current state (clock offset, fault rules, settings; optionally every client and
/// user) as the scenario `name`, replacing one of that name. The body is optional.
#[utoipa::path(post, path = "/admin/api/scenarios/{name}/save", tag = "scenarios", request_body = Option<SaveScenario>,
    params(("name" = String, Path, description = "The scenario's name")),
    responses((status = 200, body = Scenario), (status = 422, body = ErrorBody)))]
pub async fn save_scenario(State(a): State<AdminState>, Path(name): Path<String>, body: Bytes) -> Response {
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(SaveScenario::default())
    } else {
        decode_json::<SaveScenario>(&body)
    };
    match req {
        Ok(r) => respond(admin_faults::save_current(&a.provider, &name, r).await),
        Err(e) => e.into_response(),
    }
}

/// Applies a scenario: sets the clock offset, replaces every fault rule (counters start at
/// zero), creates or updates its clients and users, applies its settings.
#[utoipa::path(post, path = "/admin/api/scenarios/{name}/apply", tag = "scenarios",
    params(("name" = String, Path, description = "The scenario's name")),
    responses((status = 200, body = Scenario), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply_scenario(State(a): State<AdminState>, Path(name): Path<String>) -> Response {
    respond(admin_faults::apply(&a.provider, &name).await)
}

/// This document: the OpenAPI 3.1 description of the admin API.
#[utoipa::path(get, path = "/admin/api/openapi.json", tag = "status",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi_json(State(a): State<AdminState>) -> Response {
    let mut doc = openapi().clone();
    doc.servers = Some(vec![utoipa::openapi::Server::new(
        a.provider.issuer.id.trim_end_matches('/'),
    )]);
    ok(doc)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Latchkey admin API",
        description = "Manage a local Latchkey OAuth 2.0 / OpenID Connect provider: clients, scopes, users, \
            resources, tokens, the request log, signing keys, settings, the virtual clock and the config file. \
            Live changes stream as Server-Sent Events from /admin/api/events."
    ),
    components(schemas(FieldIssue))
)]
struct ApiDoc;

/// The admin API's routes and their OpenAPI document, built from the same handler list.
pub fn api() -> (axum::Router<AdminState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, replace_client, delete_client))
        .routes(routes!(regenerate_secret))
        .routes(routes!(list_scopes, create_scope))
        .routes(routes!(replace_scope, delete_scope))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, replace_user, delete_user))
        .routes(routes!(list_trusted_issuers, create_trusted_issuer))
        .routes(routes!(
            get_trusted_issuer,
            replace_trusted_issuer,
            delete_trusted_issuer
        ))
        .routes(routes!(list_resources, create_resource))
        .routes(routes!(get_resource, replace_resource, delete_resource))
        .routes(routes!(resource_profiles))
        .routes(routes!(check_resource))
        .routes(routes!(resource_calls))
        .routes(routes!(resource_call))
        .routes(routes!(list_tokens, mint_token))
        .routes(routes!(inspect_token))
        .routes(routes!(fetch_jwks))
        .routes(routes!(get_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_device_codes))
        .routes(routes!(approve_device_code))
        .routes(routes!(deny_device_code))
        .routes(routes!(list_requests))
        .routes(routes!(get_request))
        .routes(routes!(list_keys))
        .routes(routes!(rotate_key))
        .routes(routes!(rotation_preview))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(get_clock, move_clock))
        .routes(routes!(get_config, put_config))
        // Dynamic client registration and metadata documents (src/http/registration.rs).
        .routes(routes!(super::registration::delete_dynamic_clients))
        .routes(routes!(
            super::registration::list_client_documents,
            super::registration::clear_client_documents
        ))
        .routes(routes!(status))
        .routes(routes!(list_faults, create_fault, replace_faults))
        .routes(routes!(get_fault, replace_fault, delete_fault))
        .routes(routes!(enable_fault))
        .routes(routes!(disable_fault))
        .routes(routes!(reset_fault))
        .routes(routes!(reset_fault_counters))
        .routes(routes!(get_stats))
        .routes(routes!(reset_stats))
        .routes(routes!(list_scenarios, create_scenario))
        .routes(routes!(get_scenario, replace_scenario, delete_scenario))
        .routes(routes!(save_scenario))
        .routes(routes!(apply_scenario))
        .routes(routes!(super::admin_sessions::list_sessions))
        .routes(routes!(
            super::admin_sessions::get_session,
            super::admin_sessions::end_session
        ))
        .routes(routes!(super::admin_sessions::send_logout))
        .routes(routes!(reset_server))
        .routes(routes!(openapi_json))
        .routes(routes!(super::sse::events))
        .split_for_parts()
}

/// The OpenAPI document (built once).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api().1)
}

/// `/` redirects to the admin UI.
async fn to_admin(State(a): State<AdminState>) -> Response {
    let target = format!("{}/admin/", a.provider.issuer.path);
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// The admin routes (API and the `/` redirect), mounted under the issuer's path.
pub fn routes(admin: AdminState) -> axum::Router {
    let issuer_path = admin.provider.issuer.path.clone();
    let (api, _) = api();
    let api = api.with_state(admin.clone());
    let root = axum::Router::new()
        .route("/", axum::routing::get(to_admin))
        .with_state(admin);
    if issuer_path.is_empty() {
        root.merge(api)
    } else {
        root.nest(&issuer_path, api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field() {
        let e = decode_json::<Client>(br#"{"client_id": "a", "redirect_uris": [1]}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.fields[0].field, "redirect_uris[0]");
        let e = decode_json::<Client>(br#"{"name": "x"}"#).unwrap_err();
        assert_eq!(e.fields[0].field, "client_id");
        let e = decode_json::<Client>(br#"{"client_id": "a", "colour": 1}"#).unwrap_err();
        assert_eq!(e.fields[0].field, "colour");
        let e = decode_json::<Client>(b"{not json").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest);
    }

    #[test]
    fn the_document_is_openapi_3_1_and_lists_the_event_stream() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/admin/api/events"]["get"].is_object());
        assert!(doc["paths"]["/admin/api/clients/{client_id}"]["put"].is_object());
    }
}
