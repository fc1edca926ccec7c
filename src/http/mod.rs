//! The HTTP layer (axum): routing, extraction, the one error-to-response mapping, the request
//! log line, timeouts and limits. No protocol decisions are made here.

pub mod admin;
pub mod admin_sessions;
pub mod capture;
pub mod cors;
pub mod device;
pub mod device_pages;
pub mod error;
pub mod extract;
pub mod faults;
pub mod guard;
pub mod headers;
pub mod logout_sender;
pub mod oauth;
pub mod oidc;
pub mod pages;
pub mod proxy;
pub mod registration;
pub mod resources;
pub mod serve;
pub mod sse;
pub mod ui;
pub mod upstream;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use self::error::http_error;
use self::oauth::AppState;
use crate::oauth::paths;

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;
/// How long a client may take to send a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a protocol request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The protocol routes, relative to the issuer's path.
fn protocol_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(paths::OPENID_CONFIGURATION, get(oauth::discovery))
        .route(paths::OAUTH_METADATA, get(oauth::discovery))
        .route(paths::JWKS, get(oauth::jwks))
        .route(paths::TOKEN, post(oauth::token))
        .route(paths::INTROSPECT, post(oauth::introspect))
        .route(paths::REVOKE, post(oauth::revoke))
        .route(paths::USERINFO, get(oidc::userinfo).post(oidc::userinfo))
        .route(paths::AUTHORIZE, get(oidc::authorize_get).post(oidc::authorize_post))
        .route(paths::LOGIN, get(oidc::login_get).post(oidc::login_post))
        .route(paths::CONSENT, get(oidc::consent_get).post(oidc::consent_post))
        .route(paths::END_SESSION, get(oidc::end_session).post(oidc::end_session))
        .route(paths::DEVICE_AUTHORIZATION, post(device::device_authorization))
        .route(paths::DEVICE, get(device::device_get).post(device::device_post))
        .route(paths::PAR, post(oauth::par))
        .layer(middleware::from_fn_with_state(state.clone(), oidc::cors))
        // RFC 7591 / 7592, with their own CORS (any origin).
        .merge(registration::routes(state))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

/// The resource-server simulator's routes, relative to the issuer's path (their own CORS).
/// A resource with an `upstream` is served by the explaining proxy instead, outside the 30 s
/// request timeout (it has its own connect and first-byte timeouts, and streams).
fn resource_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/resources/{name}", any(resources::call))
        .route("/resources/{name}/", any(resources::call))
        .route("/resources/{name}/{*path}", any(resources::call))
        .layer(middleware::from_fn_with_state(state.clone(), resources::cors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn_with_state(state, proxy::intercept))
}

fn state_for_keys(admin: &self::admin::AdminState) -> AppState {
    admin.provider.clone()
}

/// Whether a request is answered without the signing key: the well-known metadata documents
/// (they only name the algorithm) and the admin UI's files.
fn needs_no_key(path: &str, issuer_path: &str) -> bool {
    let rest = path.strip_prefix(issuer_path).unwrap_or(path);
    let ui = rest == "/admin" || (rest.starts_with("/admin/") && !rest.starts_with("/admin/api/"));
    path.starts_with("/.well-known/") || rest.starts_with("/.well-known/") || ui || rest.is_empty() || rest == "/"
}

/// Holds a request that needs the signing key until [`crate::keys::Keys::ready`] (only while a
/// fresh database's first key is generated, about 100 ms for RSA after start); if making the key
/// failed, answers 500 `server_error` saying so.
async fn wait_for_keys(axum::extract::State(p): axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    if p.keys.is_ready() || needs_no_key(req.uri().path(), &p.issuer.path) {
        return next.run(req).await;
    }
    match p.keys.ready().await {
        Ok(()) => next.run(req).await,
        Err(e) => http_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()),
    }
}

/// The whole application, with an admin API that requires no token and trusts the issuer's
/// port (see [`router_with`]).
pub fn router(state: AppState) -> Router {
    let port = url::Url::parse(&state.issuer.id)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let admin = std::sync::Arc::new(crate::admin::Admin::new(state.clone(), None, port));
    router_with(state, admin)
}

/// The whole application: protocol routes, the admin API (guarded) and the request log.
pub fn router_with(state: AppState, admin: self::admin::AdminState) -> Router {
    let issuer_path = state.issuer.path.clone();
    // Back-channel logouts are POSTed by the HTTP layer and logged in this admin's request log.
    state
        .sessions
        .set_sender(std::sync::Arc::new(logout_sender::HttpLogoutSender {
            admin: std::sync::Arc::downgrade(&admin),
        }));
    // RFC 9728 §3.1: the well-known segment goes between the host and the identifier's whole
    // path, so before the issuer's path too.
    let mut app = Router::new().route(
        &format!(
            "{}{}{}/{{name}}",
            crate::resources::METADATA_SEGMENT,
            issuer_path,
            crate::resources::RESOURCES_PATH
        ),
        get(resources::metadata),
    );
    let routes = protocol_routes(state.clone()).merge(resource_routes(state.clone()));
    if issuer_path.is_empty() {
        app = app.merge(routes);
    } else {
        // An issuer with a path (`http://localhost:8000/realms/dev`) serves its endpoints under
        // that path, and RFC 8414 §3.1's path-inserted metadata URL at the root.
        app = app.nest(&issuer_path, routes).route(
            &format!("{}{}", paths::OAUTH_METADATA, issuer_path),
            get(oauth::discovery),
        );
    }
    let app = app.fallback(not_found).with_state(state);
    // Wrapped in an outer router so the middleware below sees each response as the client
    // will (axum adds `Allow` to a 405 as the inner router returns it).
    let keys_state = state_for_keys(&admin);
    Router::new()
        .merge(self::admin::routes(admin.clone()))
        .merge(self::ui::routes(&issuer_path))
        .fallback_service(app)
        .layer(middleware::from_fn_with_state(keys_state, wait_for_keys))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(middleware::from_fn(log_and_shape))
        // Inside the request log (which records what the rule changed), outside the routes.
        .layer(middleware::from_fn_with_state(state_for_keys(&admin), faults::apply))
        .layer(middleware::from_fn_with_state(admin.clone(), capture::capture))
        .layer(middleware::from_fn_with_state(admin, guard::guard))
        .layer(CatchPanicLayer::custom(|_| {
            http_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal server error; see the Latchkey log".into(),
            )
        }))
        // Outermost, so every answer (a page, a refused admin request, a 404, even a caught
        // panic) gets the security headers.
        .layer(middleware::map_response(headers::security_headers))
}

async fn not_found(req: Request) -> Response {
    http_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint at {} {}", req.method(), req.uri().path()),
    )
}

/// Logs one line per request (method, path without the query, status, time; never a secret
/// or token) and gives framework-level errors (405, 413, 408) the same JSON shape as every
/// other error.
async fn log_and_shape(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let status = resp.status();
    // JSON errors and Latchkey's own HTML pages (login, consent, error pages) keep their body,
    // and so does whatever an upstream answered through the explaining proxy.
    let is_json_or_page = resp.extensions().get::<proxy::Passthrough>().is_some()
        || resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html"));
    if !is_json_or_page {
        let shaped = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                let allow = resp
                    .headers()
                    .get_all(header::ALLOW)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(http_error(
                    status,
                    "invalid_request",
                    format!("method {method} is not allowed on {path}; allowed: {allow}"),
                ))
            }
            StatusCode::PAYLOAD_TOO_LARGE => Some(http_error(
                status,
                "invalid_request",
                format!("the request body is larger than {} KiB", MAX_BODY / 1024),
            )),
            StatusCode::REQUEST_TIMEOUT => Some(http_error(
                status,
                "invalid_request",
                "the request took too long to arrive or to answer".into(),
            )),
            StatusCode::BAD_REQUEST => Some(http_error(
                status,
                "invalid_request",
                "the request could not be read".into(),
            )),
            _ => None,
        };
        if let Some(mut shaped) = shaped {
            if let Some(allow) = resp.headers().get(header::ALLOW).cloned() {
                shaped.headers_mut().insert(header::ALLOW, allow);
            }
            resp = shaped;
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "latchkey::http", "{method} {path} {} {ms:.1}ms", status.as_u16());
    resp
}
