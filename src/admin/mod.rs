//! The admin use-cases behind `/admin/api/` (design §3.4): the registry (clients, scopes, users,
//! resources, settings, clock, config), tokens (list, inspect, revoke, mint), the request log
//! and the signing keys. No HTTP framework here: `crate::http::admin` only extracts and converts.
//!
//! Every change goes through [`Provider`] methods (which validate, persist and publish events)
//! or publishes its own event, so the live UI never needs to poll.

pub mod device;
pub mod faults;
pub mod guard;
pub mod jwks_fetch;
pub mod keys;
pub mod log_entry;
pub mod registry;
pub mod requests;
pub mod reset;
pub mod resources;
pub mod sessions;
pub mod tokens;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::keys::KeyError;
use crate::oauth::OAuthError;
use crate::provider::{ChangeError, Provider};
use crate::store::StoreError;
use crate::validate::FieldError;

pub use requests::RequestLog;

/// The admin side of a running server: the provider plus what only the admin API needs.
pub struct Admin {
    /// The provider.
    pub provider: Arc<Provider>,
    /// The in-memory request log of the protocol endpoints.
    pub requests: RequestLog,
    /// When the server started (for `uptime`; monotonic, not the virtual clock).
    pub started: Instant,
    /// The bearer token the admin API requires, if any (`--admin-token`).
    pub token: Option<String>,
    /// The port the server is bound to (the loopback origins the guard accepts).
    pub port: u16,
    shutdown: watch::Sender<bool>,
}

impl Admin {
    /// The admin context of a server bound to `port`.
    pub fn new(provider: Arc<Provider>, token: Option<String>, port: u16) -> Admin {
        let (shutdown, _) = watch::channel(false);
        Admin {
            requests: RequestLog::new(requests::CAPACITY, provider.events.clone()),
            provider,
            started: Instant::now(),
            token,
            port,
            shutdown,
        }
    }

    /// Tells long-lived responses (the event stream) that the server is stopping.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves when the server starts shutting down.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            // An error means the sender is gone: the server is gone too.
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

/// What kind of failure an admin request met; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed input (400).
    BadRequest,
    /// Well-formed but invalid: `fields` says which (422).
    Invalid,
    /// Credentials missing or wrong (401).
    Unauthorized,
    /// Not allowed: a built-in object, or the security guard (403).
    Forbidden,
    /// No such object (404).
    NotFound,
    /// Conflicts with the current state (409).
    Conflict,
    /// A server-side fault (500).
    Internal,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldIssue {
    /// The field's path in the request body, e.g. `redirect_uris[0]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// For a config file: the 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// For a config file: the 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl FieldIssue {
    /// An issue with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldIssue {
        FieldIssue {
            field: field.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

impl From<FieldError> for FieldIssue {
    fn from(e: FieldError) -> Self {
        FieldIssue::new(e.path.to_string(), e.message)
    }
}

/// The error body of every admin API failure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A machine-readable code (`invalid`, `not_found`, `conflict`, `read_only`, ...).
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// The invalid fields, when the input was invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldIssue>,
}

/// An admin API failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AdminError {
    /// Decides the status.
    pub kind: ErrorKind,
    /// The machine-readable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// Invalid fields.
    pub fields: Vec<FieldIssue>,
}

impl AdminError {
    /// A failure of `kind` with `code`.
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError {
            kind,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError::new(ErrorKind::BadRequest, "bad_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(what: impl std::fmt::Display) -> AdminError {
        AdminError::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> AdminError {
        AdminError::new(ErrorKind::Conflict, "conflict", message)
    }

    /// 422 `invalid` for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AdminError {
        AdminError::invalid(vec![FieldIssue::new(field, message)])
    }

    /// 422 `invalid` for several fields.
    pub fn invalid(fields: Vec<FieldIssue>) -> AdminError {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        AdminError {
            kind: ErrorKind::Invalid,
            code: "invalid",
            message,
            fields,
        }
    }

    /// 500 `internal`: a server-side fault (the cause is logged, not leaked in detail).
    pub fn internal(cause: impl std::fmt::Display) -> AdminError {
        tracing::error!(error = %cause, "admin API failure");
        AdminError::new(
            ErrorKind::Internal,
            "internal",
            format!("internal error: {cause}; see the Latchkey log"),
        )
    }

    /// The body to send.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code.to_string(),
            message: self.message.clone(),
            fields: self.fields.clone(),
        }
    }
}

impl From<ChangeError> for AdminError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(errs) => AdminError::invalid(errs.into_iter().map(FieldIssue::from).collect()),
            ChangeError::NotFound(what) => AdminError::not_found(what),
            ChangeError::ReadOnly(m) => AdminError::new(ErrorKind::Forbidden, "read_only", m),
            ChangeError::Conflict(m) => AdminError::conflict(m),
            ChangeError::Store(e) => AdminError::from(e),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AdminError::conflict(m),
            other => AdminError::internal(other),
        }
    }
}

impl From<KeyError> for AdminError {
    fn from(e: KeyError) -> Self {
        AdminError::internal(e)
    }
}

impl From<OAuthError> for AdminError {
    fn from(e: OAuthError) -> Self {
        use crate::oauth::ErrorCode;
        match e.code {
            ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable => AdminError::internal(e.description),
            ErrorCode::InvalidScope => AdminError::field("scopes", e.description),
            _ => AdminError::bad_request(e.description),
        }
    }
}

/// A page of a newest-first list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// The default and the largest page size.
pub const PAGE_DEFAULT: usize = 50;
/// The largest page size.
pub const PAGE_MAX: usize = 500;

/// Checks a `limit` parameter.
pub fn page_limit(limit: Option<usize>) -> Result<usize, AdminError> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(0) => Err(AdminError::field("limit", "must be at least 1")),
        Some(n) if n > PAGE_MAX => Err(AdminError::field("limit", format!("must be at most {PAGE_MAX}"))),
        Some(n) => Ok(n),
    }
}

/// The field named by a serde error at the root (`missing field `x``, `unknown field `x``).
fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message.get(start..)?.find('`')?;
    message.get(start..end).map(str::to_string)
}

/// Decodes a JSON body into `T`, naming the offending field.
pub fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." || path.is_empty() {
                    field_of(&inner.to_string()).unwrap_or_else(|| "body".into())
                } else {
                    path
                };
                AdminError::field(field, inner.to_string())
            }
            _ => AdminError::bad_request(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| AdminError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}
