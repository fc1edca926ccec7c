//! Fault injection: rules that make chosen requests fail on purpose (issue 15), as data.
//!
//! A [`FaultRule`] has a *match* (an [`Endpoint`] and optionally a client id, username, grant
//! type, scope, or a path glob for resources), an *action* ([`ActionKind`] with its fields), a
//! *count* (`times`, `every`), a name and whether it is enabled. Rules live in the provider
//! ([`Faults`]), are persisted by the store and come from `[[faults]]` in the config file or
//! `/admin/api/faults`.
//!
//! This module holds no HTTP code: the one axum middleware (`http::faults`) classifies the
//! request (`http::faults::classify`), gathers [`Facts`] and asks [`Faults::decide`] which rule
//! fires; it then renders the action. With no enabled rule the check is one atomic load.

pub mod scenario;
pub mod stats;
pub mod tamper;

pub use scenario::{Scenario, ScenarioSettings};

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::{FieldError, Path};

/// The longest `delay_ms`, milliseconds (a minute).
pub const MAX_DELAY_MS: u64 = 60_000;
/// The longest `timeout_ms`, milliseconds (five minutes); the default is [`DEFAULT_TIMEOUT_MS`].
pub const MAX_TIMEOUT_MS: u64 = 300_000;
/// How long a `timeout` rule keeps the connection silent when `timeout_ms` is not given.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The most rules the server holds.
pub const MAX_RULES: usize = 1000;
/// `Retry-After` (seconds) sent with a 429 or 503 `status` rule that names none.
pub const DEFAULT_RETRY_AFTER: u64 = 5;

/// What a rule matches: the endpoint a request is for. Add a variant for each new endpoint,
/// with its path in `http::faults::classify` and its actions in [`Endpoint::allows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/token` (RFC 6749 §3.2).
    Token,
    /// `/authorize` (RFC 6749 §3.1).
    Authorize,
    /// `/login` (the login page and form).
    Login,
    /// `/consent` (the consent page and form).
    Consent,
    /// `/userinfo` (OIDC Core §5.3).
    Userinfo,
    /// `/introspect` (RFC 7662).
    Introspect,
    /// `/revoke` (RFC 7009).
    Revoke,
    /// `/jwks` (RFC 7517).
    Jwks,
    /// The metadata documents (OIDC Discovery, RFC 8414).
    Discovery,
    /// `/end_session` (RP-Initiated Logout).
    EndSession,
    /// The simulated APIs, `/resources/{name}/...`.
    Resources,
    /// `/device_authorization` (RFC 8628 §3.1).
    DeviceAuthorization,
    /// `/device` (RFC 8628 §3.3: the verification page and its forms).
    Device,
    /// `/par` (RFC 9126 §2: pushed authorization requests).
    Par,
    /// `/register` and `/register/{client_id}` (RFC 7591, RFC 7592).
    Register,
}

impl Endpoint {
    /// Every endpoint, in the order the GUI offers them.
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::Token,
        Endpoint::Authorize,
        Endpoint::Login,
        Endpoint::Consent,
        Endpoint::Userinfo,
        Endpoint::Introspect,
        Endpoint::Revoke,
        Endpoint::Jwks,
        Endpoint::Discovery,
        Endpoint::EndSession,
        Endpoint::Resources,
        Endpoint::DeviceAuthorization,
        Endpoint::Device,
        Endpoint::Par,
        Endpoint::Register,
    ];

    /// The wire name (`token`, `end_session`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Authorize => "authorize",
            Endpoint::Login => "login",
            Endpoint::Consent => "consent",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Introspect => "introspect",
            Endpoint::Revoke => "revoke",
            Endpoint::Jwks => "jwks",
            Endpoint::Discovery => "discovery",
            Endpoint::EndSession => "end_session",
            Endpoint::Resources => "resources",
            Endpoint::DeviceAuthorization => "device_authorization",
            Endpoint::Device => "device",
            Endpoint::Par => "par",
            Endpoint::Register => "register",
        }
    }

    /// A bit per endpoint, for masks.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Whether `action` makes sense here: `tamper` only where tokens are issued (`token`),
    /// `jwks` only at `jwks`; an OAuth `error` everywhere but the JWKS and discovery documents
    /// (they have no error format); the transport faults everywhere.
    pub fn allows(self, action: ActionKind) -> bool {
        match action {
            ActionKind::Tamper => self == Endpoint::Token,
            ActionKind::Jwks => self == Endpoint::Jwks,
            // The verification page is a page for people: an OAuth error body means nothing there.
            ActionKind::Error => !matches!(self, Endpoint::Jwks | Endpoint::Discovery | Endpoint::Device),
            ActionKind::Status | ActionKind::Delay | ActionKind::Timeout | ActionKind::Drop | ActionKind::Malformed => {
                true
            }
        }
    }

    /// Whether the endpoint delivers errors to the client's redirect URI (RFC 6749 §4.1.2.1)
    /// rather than in the response.
    pub fn redirects_errors(self) -> bool {
        matches!(self, Endpoint::Authorize | Endpoint::Login | Endpoint::Consent)
    }

    /// Which optional match fields mean something at this endpoint.
    pub fn matches_on(self) -> &'static [&'static str] {
        match self {
            Endpoint::Token => &["client_id", "username", "grant_type", "scope"],
            Endpoint::Authorize => &["client_id", "scope"],
            Endpoint::Login | Endpoint::Consent => &["client_id", "username", "scope"],
            Endpoint::Introspect | Endpoint::Revoke => &["client_id"],
            Endpoint::Resources => &["path"],
            Endpoint::EndSession => &["client_id"],
            Endpoint::DeviceAuthorization | Endpoint::Par => &["client_id", "scope"],
            Endpoint::Userinfo | Endpoint::Jwks | Endpoint::Discovery | Endpoint::Device | Endpoint::Register => &[],
        }
    }
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// An OAuth error response (`error`, `error_description`, `status`); at the authorization,
    /// login and consent endpoints delivered to the client's redirect URI (RFC 6749 §4.1.2.1)
    /// in the request's response mode.
    Error,
    /// A plain HTTP status (`status`, `body`; `Retry-After` for 429 and 503).
    Status,
    /// The normal answer, `delay_ms` later.
    Delay,
    /// No answer: the connection stays silent for `timeout_ms`, then closes.
    Timeout,
    /// The connection closes at once without an answer.
    Drop,
    /// A broken body (`malformed`).
    Malformed,
    /// A token in the response changed (`tamper`, `token`, `claim`).
    Tamper,
    /// A different JWK Set (`jwks`).
    Jwks,
}

impl ActionKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Error => "error",
            ActionKind::Status => "status",
            ActionKind::Delay => "delay",
            ActionKind::Timeout => "timeout",
            ActionKind::Drop => "drop",
            ActionKind::Malformed => "malformed",
            ActionKind::Tamper => "tamper",
            ActionKind::Jwks => "jwks",
        }
    }
}

/// How a `malformed` rule breaks the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// The JSON body cut in half (`Content-Length` matches the cut body).
    TruncatedJson,
    /// An HTML error page with status 200 where JSON was expected (a captive portal, a proxy).
    Html,
    /// The real body with `Content-Type: text/plain`.
    WrongContentType,
}

/// How a `tamper` rule changes a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// The signature's bytes are changed.
    BadSignature,
    /// The header names a `kid` the JWKS does not have.
    UnknownKid,
    /// `alg: none` and no signature (RFC 7519 §6, the classic attack).
    AlgNone,
    /// `iss` is another issuer.
    WrongIss,
    /// `aud` is another audience.
    WrongAud,
    /// `exp` is in the past.
    Expired,
    /// `nbf` is an hour in the future.
    NbfFuture,
    /// `iat` is an hour in the future.
    IatFuture,
    /// No `scope` claim.
    MissingScope,
    /// An extra claim (`claim`, default `latchkey_tampered`) with value `true`.
    ExtraClaim,
    /// A claim removed (`claim`, default `sub`).
    RemovedClaim,
}

/// Which token a `tamper` rule changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenField {
    /// `access_token` (a JWT access token; with opaque access tokens nothing changes).
    #[default]
    AccessToken,
    /// `id_token`.
    IdToken,
}

/// How a `jwks` rule changes the JWK Set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JwksFault {
    /// `{"keys": []}`.
    Empty,
    /// The current signing key (or `kid`) left out.
    KeyMissing,
    /// Only the keys before the current one (none if there was no rotation).
    PreviousOnly,
    /// 503 with `Retry-After`.
    Unavailable,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A fault rule, as `[[faults]]` in the config file and as `/admin/api/faults` takes and
/// returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Unique name, shown in the request log and the banner.
    pub name: String,
    /// Whether the rule is on (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// The endpoint it matches.
    pub endpoint: Endpoint,
    /// Only requests of this client (Basic auth or `client_id`; at login and consent the
    /// client of the authorization request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Only this user: the username typed or picked at login, the signed-in user at consent,
    /// `username` of a password grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Only this `grant_type` (token endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Only requests asking for this scope (one scope token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Resources only: a glob over the path after `/resources/` (`orders/*`, `*`; `*` matches
    /// any characters, including `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What it does.
    pub action: ActionKind,
    /// `error`: the error code (`invalid_grant`, `temporarily_unavailable`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `error`: the description (default: says a fault rule produced it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `error` and `status`: the HTTP status (error: 400, or 401 for `invalid_client` and
    /// `invalid_token`; status: required, 400-599).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `status`: the body (JSON if it parses as JSON, else text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `status` 429/503 and `jwks = "unavailable"`: `Retry-After` in seconds (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `delay`: milliseconds before the normal answer (at most 60,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `timeout`: milliseconds of silence before the connection closes (default 30,000, at
    /// most 300,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// `malformed`: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<Malformed>,
    /// `tamper`: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tamper: Option<Tamper>,
    /// `tamper`: which token (default `access_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenField>,
    /// `tamper` `extra_claim` / `removed_claim`: the claim's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// `jwks`: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwksFault>,
    /// `jwks = "key_missing"`: the key to leave out (default the current signing key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// How many times it fires (1 = once); omitted: until removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire only on every Nth matching request (2 = the 2nd, 4th, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
}

impl FaultRule {
    /// A rule with only the required fields (enabled, until removed).
    pub fn new(name: &str, endpoint: Endpoint, action: ActionKind) -> FaultRule {
        FaultRule {
            name: name.to_string(),
            enabled: true,
            endpoint,
            client_id: None,
            username: None,
            grant_type: None,
            scope: None,
            path: None,
            action,
            error: None,
            error_description: None,
            status: None,
            body: None,
            retry_after: None,
            delay_ms: None,
            timeout_ms: None,
            malformed: None,
            tamper: None,
            token: None,
            claim: None,
            jwks: None,
            kid: None,
            times: None,
            every: None,
        }
    }

    /// Whether the rule's match fields accept these facts (the endpoint is compared by the
    /// caller).
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        fn eq(want: &Option<String>, got: Option<&str>) -> bool {
            want.as_deref().is_none_or(|w| got == Some(w))
        }
        eq(&self.client_id, f.client_id)
            && eq(&self.username, f.username)
            && eq(&self.grant_type, f.grant_type)
            && self
                .scope
                .as_deref()
                .is_none_or(|w| f.scope.is_some_and(|s| s.split(' ').any(|x| x == w)))
            && self
                .path
                .as_deref()
                .is_none_or(|g| glob(g, f.resource_path.unwrap_or("")))
    }

    /// A short account of what the rule does, for the log and the banner (`503`,
    /// `invalid_grant`, `tamper expired`).
    pub fn summary(&self) -> String {
        match self.action {
            ActionKind::Error => format!("error {}", self.error.as_deref().unwrap_or("server_error")),
            ActionKind::Status => format!("status {}", self.status.unwrap_or(500)),
            ActionKind::Delay => format!("delay {} ms", self.delay_ms.unwrap_or(0)),
            ActionKind::Timeout => format!("timeout {} ms", self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)),
            ActionKind::Drop => "connection dropped".into(),
            ActionKind::Malformed => format!("malformed {}", self.malformed.map_or("", |m| m.as_str())),
            ActionKind::Tamper => format!(
                "tamper {} ({})",
                self.tamper.map_or("", |t| t.as_str()),
                self.token.unwrap_or_default().as_str()
            ),
            ActionKind::Jwks => format!("jwks {}", self.jwks.map_or("", |j| j.as_str())),
        }
    }
}

macro_rules! wire_names {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }
        }
    };
}
wire_names!(Malformed { TruncatedJson => "truncated_json", Html => "html", WrongContentType => "wrong_content_type" });
wire_names!(Tamper {
    BadSignature => "bad_signature", UnknownKid => "unknown_kid", AlgNone => "alg_none", WrongIss => "wrong_iss",
    WrongAud => "wrong_aud", Expired => "expired", NbfFuture => "nbf_future", IatFuture => "iat_future",
    MissingScope => "missing_scope", ExtraClaim => "extra_claim", RemovedClaim => "removed_claim",
});
wire_names!(TokenField { AccessToken => "access_token", IdToken => "id_token" });
wire_names!(JwksFault { Empty => "empty", KeyMissing => "key_missing", PreviousOnly => "previous_only", Unavailable => "unavailable" });

/// Error codes an `error` rule may use: RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009,
/// OIDC Core §3.1.2.6, RFC 8628 §3.5 and RFC 9449 (the IANA "OAuth Extensions Error Registry").
pub const ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "unsupported_token_type",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "invalid_target",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    // RFC 7591 §3.2.2 (dynamic client registration).
    "invalid_redirect_uri",
    "invalid_client_metadata",
    "invalid_software_statement",
    "unapproved_software_statement",
];

/// `*` matches any run of characters (including `/`); everything else literally.
pub fn glob(pattern: &str, s: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = s.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Checks a rule: names, fields that belong to its action, bounds, and what the endpoint
/// allows. Errors name the field under `at`.
pub fn validate(r: &FaultRule, at: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut err = |k: &str, m: String| errs.push(FieldError::new(at.then(k), m));
    if r.name.trim().is_empty() || r.name.len() > 100 || r.name.chars().any(char::is_control) {
        err("name", "must be 1-100 characters without control characters".into());
    }
    if !r.endpoint.allows(r.action) {
        let why = match r.action {
            ActionKind::Tamper => "tamper applies to the token endpoint only",
            ActionKind::Jwks => "jwks applies to the jwks endpoint only",
            _ if r.endpoint == Endpoint::Device => {
                "the device verification page is for people and has no OAuth error format; use status"
            }
            _ => "the JWKS and discovery documents have no OAuth error format; use status",
        };
        err(
            "action",
            format!("`{}` at `{}`: {why}", r.action.as_str(), r.endpoint.as_str()),
        );
    }
    let allowed = r.endpoint.matches_on();
    for (k, set) in [
        ("client_id", r.client_id.is_some()),
        ("username", r.username.is_some()),
        ("grant_type", r.grant_type.is_some()),
        ("scope", r.scope.is_some()),
        ("path", r.path.is_some()),
    ] {
        if set && !allowed.contains(&k) {
            let can = if allowed.is_empty() {
                "nothing but the endpoint".to_string()
            } else {
                allowed.join(", ")
            };
            err(k, format!("the `{}` endpoint can match on {can}", r.endpoint.as_str()));
        }
    }
    let a = r.action;
    let only = |k: &str, set: bool, for_: &[ActionKind]| (set && !for_.contains(&a)).then(|| k.to_string());
    let stray: Vec<String> = [
        only("error", r.error.is_some(), &[ActionKind::Error]),
        only("error_description", r.error_description.is_some(), &[ActionKind::Error]),
        only("status", r.status.is_some(), &[ActionKind::Error, ActionKind::Status]),
        only("body", r.body.is_some(), &[ActionKind::Status]),
        only(
            "retry_after",
            r.retry_after.is_some(),
            &[ActionKind::Status, ActionKind::Jwks],
        ),
        only("delay_ms", r.delay_ms.is_some(), &[ActionKind::Delay]),
        only("timeout_ms", r.timeout_ms.is_some(), &[ActionKind::Timeout]),
        only("malformed", r.malformed.is_some(), &[ActionKind::Malformed]),
        only("tamper", r.tamper.is_some(), &[ActionKind::Tamper]),
        only("token", r.token.is_some(), &[ActionKind::Tamper]),
        only("claim", r.claim.is_some(), &[ActionKind::Tamper]),
        only("jwks", r.jwks.is_some(), &[ActionKind::Jwks]),
        only("kid", r.kid.is_some(), &[ActionKind::Jwks]),
    ]
    .into_iter()
    .flatten()
    .collect();
    for k in stray {
        err(&k, format!("does not apply to action `{}`", a.as_str()));
    }
    match a {
        ActionKind::Error => match r.error.as_deref() {
            None => err("error", "required: the OAuth error code, e.g. `invalid_grant`".into()),
            Some(e) if !ERROR_CODES.contains(&e) => err(
                "error",
                format!(
                    "`{e}` is not a registered OAuth error code; one of: {}",
                    ERROR_CODES.join(", ")
                ),
            ),
            Some(_) => {}
        },
        ActionKind::Status if r.status.is_none() => {
            err("status", "required: the HTTP status to answer with (400-599)".into());
        }
        ActionKind::Delay => match r.delay_ms {
            None => err("delay_ms", "required: milliseconds to wait".into()),
            Some(d) if d > MAX_DELAY_MS => err("delay_ms", format!("at most {MAX_DELAY_MS} (a minute)")),
            Some(_) => {}
        },
        ActionKind::Timeout if r.timeout_ms.is_some_and(|t| t == 0 || t > MAX_TIMEOUT_MS) => {
            err("timeout_ms", format!("1 to {MAX_TIMEOUT_MS} (five minutes)"));
        }
        ActionKind::Malformed if r.malformed.is_none() => err(
            "malformed",
            "required: truncated_json, html or wrong_content_type".into(),
        ),
        ActionKind::Tamper => {
            if r.tamper.is_none() {
                err("tamper", "required: how to change the token, e.g. `expired`".into());
            }
            if r.claim.is_some() && !matches!(r.tamper, Some(Tamper::ExtraClaim | Tamper::RemovedClaim)) {
                err("claim", "applies to extra_claim and removed_claim only".into());
            }
        }
        ActionKind::Jwks => {
            if r.jwks.is_none() {
                err(
                    "jwks",
                    "required: empty, key_missing, previous_only or unavailable".into(),
                );
            }
            if r.kid.is_some() && r.jwks != Some(JwksFault::KeyMissing) {
                err("kid", "applies to key_missing only".into());
            }
            if r.retry_after.is_some() && r.jwks != Some(JwksFault::Unavailable) {
                err("retry_after", "applies to unavailable only".into());
            }
        }
        _ => {}
    }
    if let Some(s) = r.status {
        let lo = if a == ActionKind::Error { 400 } else { 200 };
        if !(lo..=599).contains(&s) {
            err("status", format!("must be {lo}-599"));
        }
    }
    if r.body.as_ref().is_some_and(|b| b.len() > 16 * 1024) {
        err("body", "at most 16 KiB".into());
    }
    if r.retry_after.is_some_and(|s| s > 86_400) {
        err("retry_after", "at most 86400 seconds".into());
    }
    if r.times == Some(0) {
        err("times", "at least 1 (omit it for \"until removed\")".into());
    }
    if r.every.is_some_and(|n| n == 0) {
        err("every", "at least 1".into());
    }
    for (k, v) in [
        ("client_id", &r.client_id),
        ("username", &r.username),
        ("grant_type", &r.grant_type),
        ("scope", &r.scope),
        ("path", &r.path),
        ("claim", &r.claim),
        ("kid", &r.kid),
        ("error_description", &r.error_description),
    ] {
        if v.as_ref().is_some_and(|v| v.is_empty() || v.len() > 1024) {
            err(k, "must be 1-1024 characters (omit it to match anything)".into());
        }
    }
    if r.error_description
        .as_ref()
        .is_some_and(|d| d.chars().any(|c| c == '"' || c == '\\' || !(' '..='~').contains(&c)))
    {
        err(
            "error_description",
            "printable ASCII without `\"` or `\\` (RFC 6749 §5.2)".into(),
        );
    }
    errs
}

/// Checks a list of rules: each one ([`validate`]), unique names, at most [`MAX_RULES`].
/// `at` is the list's path (`faults`); errors name `faults[i].field`.
pub fn validate_set(rules: &[FaultRule], at: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, r) in rules.iter().enumerate() {
        errs.extend(validate(r, &at.at(i)));
        if !seen.insert(r.name.as_str()) {
            errs.push(FieldError::new(
                at.at(i).then("name"),
                format!("a rule named `{}` is defined twice", r.name),
            ));
        }
    }
    if rules.len() > MAX_RULES {
        errs.push(FieldError::new(at.clone(), format!("at most {MAX_RULES} rules")));
    }
    errs
}

/// What a rule changed in a response: the request log shows it on the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FaultMark {
    /// The rule's name.
    pub rule: String,
    /// What changed, in words (`status 503, Retry-After 5`).
    pub change: String,
}

/// What the HTTP layer knows about a request, for matching.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// The client, when the request names one.
    pub client_id: Option<&'a str>,
    /// The user, when known.
    pub username: Option<&'a str>,
    /// `grant_type` (token endpoint).
    pub grant_type: Option<&'a str>,
    /// The requested scope string.
    pub scope: Option<&'a str>,
    /// Resources: the path after `/resources/`.
    pub resource_path: Option<&'a str>,
}

/// A rule with its counters.
#[derive(Debug)]
pub struct LiveRule {
    /// The rule.
    pub rule: FaultRule,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    matched: u64,
    fired: u64,
    last_fired_ms: Option<i64>,
}

/// A rule as the admin API lists it: the rule and its counters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    /// The rule.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Matching requests seen since the rule was created or its counters reset.
    pub matched: u64,
    /// Times it changed a response.
    pub fired: u64,
    /// Whether it will still fire (enabled and `times` not used up).
    pub active: bool,
    /// When it last fired, UNIX milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_fired_ms: Option<i64>,
    /// What it does, in words (`status 503`).
    pub summary: String,
}

impl LiveRule {
    fn new(rule: FaultRule) -> LiveRule {
        LiveRule {
            rule,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the rule can still fire.
    pub fn active(&self) -> bool {
        self.rule.enabled && self.rule.times.is_none_or(|t| self.counts().fired < t)
    }

    /// Counts a matching request and says whether the rule fires for it (`every`, `times`).
    fn try_fire(&self, now_ms: i64) -> bool {
        let mut c = self.counts();
        if self.rule.times.is_some_and(|t| c.fired >= t) {
            return false;
        }
        c.matched += 1;
        if self.rule.every.is_some_and(|n| !c.matched.is_multiple_of(n)) {
            return false;
        }
        c.fired += 1;
        c.last_fired_ms = Some(now_ms);
        true
    }

    /// The rule with its counters.
    pub fn view(&self) -> RuleView {
        let c = *self.counts();
        RuleView {
            rule: self.rule.clone(),
            matched: c.matched,
            fired: c.fired,
            active: self.active(),
            last_fired_ms: c.last_fired_ms,
            summary: self.rule.summary(),
        }
    }
}

#[derive(Debug, Default)]
struct Snapshot {
    rules: Vec<Arc<LiveRule>>,
    /// The enabled rules of each endpoint (indexed by `Endpoint as usize`), in order: a
    /// request only walks its own endpoint's rules.
    by_endpoint: Vec<Vec<Arc<LiveRule>>>,
    /// Bit per [`Endpoint`] with at least one enabled rule.
    endpoints: u32,
}

/// The rules in force, read on every request: an `Arc` snapshot replaced on each change, and
/// an atomic endpoint mask so that with no enabled rule a request pays one relaxed load.
#[derive(Debug, Default)]
pub struct Faults {
    /// Bit per [`Endpoint`] with an enabled rule (the snapshot's `endpoints`), read without
    /// the lock: with no rule for an endpoint a request pays one relaxed load.
    mask: AtomicU32,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Bumped whenever the set changes (the GUI banner refetches on `fault.changed`).
    version: AtomicU64,
}

/// A rule that fired for a request.
#[derive(Debug, Clone)]
pub struct Fired {
    /// The rule (its state at the time).
    pub rule: Arc<LiveRule>,
}

impl Faults {
    fn snap(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Whether any rule is enabled for `e` (cheap: one atomic load when none is enabled).
    #[inline]
    pub fn watches(&self, e: Endpoint) -> bool {
        self.mask.load(Ordering::Relaxed) & e.bit() != 0
    }

    /// The first enabled rule for `endpoint` that matches and fires (its counters are
    /// updated). Rules are tried in the order they were created.
    pub fn decide(&self, endpoint: Endpoint, facts: &Facts<'_>, now_ms: i64) -> Option<Fired> {
        if !self.watches(endpoint) {
            return None;
        }
        let snap = self.snap();
        if snap.endpoints & endpoint.bit() == 0 {
            return None;
        }
        snap.by_endpoint
            .get(endpoint as usize)?
            .iter()
            .filter(|r| r.rule.matches(facts))
            .find(|r| r.try_fire(now_ms))
            .map(|r| Fired { rule: r.clone() })
    }

    /// Every rule with its counters, in order.
    pub fn list(&self) -> Vec<RuleView> {
        self.snap().rules.iter().map(|r| r.view()).collect()
    }

    /// One rule with its counters.
    pub fn get(&self, name: &str) -> Option<RuleView> {
        self.snap().rules.iter().find(|r| r.rule.name == name).map(|r| r.view())
    }

    /// Whether any rule is enabled and can still fire.
    pub fn any_active(&self) -> bool {
        self.snap().rules.iter().any(|r| r.active())
    }

    /// The rules only (what the store and the config file hold).
    pub fn rules(&self) -> Vec<FaultRule> {
        self.snap().rules.iter().map(|r| r.rule.clone()).collect()
    }

    /// Replaces the whole set. Counters of a rule whose definition is unchanged are kept.
    pub fn replace(&self, rules: Vec<FaultRule>) {
        let old = self.snap();
        let rules: Vec<Arc<LiveRule>> = rules
            .into_iter()
            .map(|r| match old.rules.iter().find(|o| o.rule == r) {
                Some(o) => o.clone(),
                None => Arc::new(LiveRule::new(r)),
            })
            .collect();
        self.install(rules);
    }

    /// Turns the rule `name` on or off, keeping its counters.
    pub fn set_enabled(&self, name: &str, enabled: bool) {
        let old = self.snap();
        let rules = old
            .rules
            .iter()
            .map(|r| {
                if r.rule.name != name {
                    return r.clone();
                }
                let mut rule = r.rule.clone();
                rule.enabled = enabled;
                Arc::new(LiveRule {
                    rule,
                    counts: Mutex::new(*r.counts()),
                })
            })
            .collect();
        self.install(rules);
    }

    /// Puts every counter back to zero (a rule used up by `times` fires again).
    pub fn reset_counters(&self, name: Option<&str>) -> bool {
        let snap = self.snap();
        let mut found = false;
        for r in snap.rules.iter().filter(|r| name.is_none_or(|n| n == r.rule.name)) {
            *r.counts() = Counts::default();
            found = true;
        }
        self.version.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn install(&self, rules: Vec<Arc<LiveRule>>) {
        let endpoints = rules
            .iter()
            .filter(|r| r.rule.enabled)
            .fold(0, |m, r| m | r.rule.endpoint.bit());
        let mut by_endpoint = vec![Vec::new(); Endpoint::ALL.len()];
        for r in rules.iter().filter(|r| r.rule.enabled) {
            if let Some(list) = by_endpoint.get_mut(r.rule.endpoint as usize) {
                list.push(r.clone());
            }
        }
        let snap = Arc::new(Snapshot {
            rules,
            by_endpoint,
            endpoints,
        });
        match self.snapshot.write() {
            Ok(mut g) => *g = snap,
            Err(p) => *p.into_inner() = snap,
        }
        self.mask.store(endpoints, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: ActionKind) -> FaultRule {
        FaultRule::new("r", Endpoint::Token, action)
    }

    #[test]
    fn globs() {
        assert!(glob("*", "a/b"));
        assert!(glob("orders/*", "orders/1/items"));
        assert!(!glob("orders/*", "order/1"));
        assert!(glob("*/items", "orders/1/items"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXbY"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn validation_names_the_field_and_knows_the_endpoint() {
        let at = Path::key("faults").at(0);
        let mut r = rule(ActionKind::Status);
        assert_eq!(
            validate(&r, &at)[0].to_string(),
            "faults[0].status: required: the HTTP status to answer with (400-599)"
        );
        r.status = Some(503);
        assert!(validate(&r, &at).is_empty());
        r.delay_ms = Some(5);
        assert!(validate(&r, &at)[0].to_string().contains("delay_ms"));
        let mut j = FaultRule::new("j", Endpoint::Token, ActionKind::Jwks);
        j.jwks = Some(JwksFault::Empty);
        assert!(validate(&j, &at)[0].to_string().contains("jwks endpoint only"));
        let mut e = FaultRule::new("e", Endpoint::Token, ActionKind::Error);
        e.error = Some("nope".into());
        assert!(validate(&e, &at)[0].to_string().contains("not a registered"));
        e.error = Some("invalid_grant".into());
        e.path = Some("*".into());
        assert!(validate(&e, &at)[0].to_string().contains("faults[0].path"));
    }

    #[test]
    fn counts_once_n_times_and_every_nth() {
        let f = Faults::default();
        let mut once = rule(ActionKind::Drop);
        once.times = Some(1);
        f.replace(vec![once]);
        let facts = Facts::default();
        assert!(f.decide(Endpoint::Token, &facts, 0).is_some());
        assert!(f.decide(Endpoint::Token, &facts, 0).is_none());
        assert!(!f.any_active());
        assert!(f.reset_counters(None));
        assert!(f.decide(Endpoint::Token, &facts, 0).is_some());

        let mut nth = rule(ActionKind::Drop);
        nth.every = Some(3);
        nth.times = Some(2);
        f.replace(vec![nth]);
        let fired: Vec<bool> = (0..9).map(|_| f.decide(Endpoint::Token, &facts, 0).is_some()).collect();
        assert_eq!(fired, [false, false, true, false, false, true, false, false, false]);
        assert_eq!(f.list()[0].fired, 2);
        assert!(f.decide(Endpoint::Jwks, &facts, 0).is_none());
    }

    #[test]
    fn match_fields_narrow() {
        let mut r = rule(ActionKind::Drop);
        r.client_id = Some("app".into());
        r.scope = Some("read".into());
        let f = Facts {
            client_id: Some("app"),
            scope: Some("openid read"),
            ..Facts::default()
        };
        assert!(r.matches(&f));
        assert!(!r.matches(&Facts {
            client_id: Some("other"),
            ..f
        }));
        assert!(!r.matches(&Facts {
            scope: Some("reader"),
            ..f
        }));
        assert!(!r.matches(&Facts::default()));
    }

    #[test]
    fn a_disabled_rule_costs_nothing_and_never_fires() {
        let f = Faults::default();
        let mut r = rule(ActionKind::Drop);
        r.enabled = false;
        f.replace(vec![r]);
        assert!(!f.watches(Endpoint::Token));
        assert!(f.decide(Endpoint::Token, &Facts::default(), 0).is_none());
    }
}
