//! The resource-server simulator (design §2: "the verifier, the profiles, the verdict"): each
//! `[[resources]]` entry is a protected API at `{issuer}/resources/{name}/...` that checks
//! bearer tokens (RFC 6750) as a real API would, JWTs locally against the JWKS it holds
//! (RFC 9068 §4) or through introspection (RFC 7662), and explains every check in a
//! [`Verdict`].
//!
//! No HTTP framework here: the HTTP layer (`crate::http::resources`) extracts a
//! [`BearerInput`], calls [`evaluate`], formats the RFC 6750 challenge from
//! [`Verdict::challenge_pieces`] and records the call ([`ResourceServer::record`]). The
//! explaining proxy is HTTP-layer code over the same functions.
//!
//! The API's clock is Latchkey's clock plus the resource's `clock_offset`; nothing here reads
//! the system time.

pub mod bearer;
pub mod calls;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod metadata;
pub mod pattern;
pub mod profiles;
pub mod proxy;
pub mod verdict;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use utoipa::ToSchema;

pub use calls::{CALLS_PER_RESOURCE, ResourceCall};
pub use profiles::{Policy, Profile};
pub use verdict::{BearerError, ChallengePieces, Check, CheckName, CheckResult, TokenSummary, Verdict};

use crate::events::Event;
use crate::model::{Resource, Validation};
use crate::provider::{Issuer, Provider};

/// The path under the issuer where resources are served (`{issuer}/resources/{name}`).
pub const RESOURCES_PATH: &str = "/resources";
/// The RFC 9728 §3 well-known segment.
pub const METADATA_SEGMENT: &str = "/.well-known/oauth-protected-resource";

/// The resource identifier (RFC 8707 §2, RFC 9728 §1.2): `{issuer}/resources/{name}`.
pub fn identifier(issuer: &Issuer, name: &str) -> String {
    issuer.url(&format!("{RESOURCES_PATH}/{name}"))
}

/// Where RFC 9728 §3.1 puts the resource's metadata: the well-known segment inserted between
/// the host and the identifier's whole path (so before the issuer's own path too).
pub fn metadata_url(issuer: &Issuer, name: &str) -> String {
    format!(
        "{}{METADATA_SEGMENT}{}{RESOURCES_PATH}/{name}",
        issuer.origin, issuer.path
    )
}

/// A resource as the admin API shows it: the stored object plus read-only `identifier`,
/// `metadata_url` and `effective` (the resolved policy). They are ignored when a resource is
/// written (so what was read can be written back).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResourceView {
    /// The resource.
    #[serde(flatten)]
    pub resource: Resource,
    /// `{issuer}/resources/{name}`: tokens whose `aud` is this are accepted (read-only).
    pub identifier: String,
    /// The RFC 9728 metadata URL (read-only).
    pub metadata_url: String,
    /// What the simulated API checks: the profile's defaults with the resource's own keys
    /// applied (read-only).
    pub effective: Policy,
}

impl ResourceView {
    /// The view of `r` under `issuer`.
    pub fn of(issuer: &Issuer, r: Resource) -> ResourceView {
        ResourceView {
            identifier: identifier(issuer, &r.name),
            metadata_url: metadata_url(issuer, &r.name),
            effective: Policy::resolve(&r),
            resource: r,
        }
    }
}

/// A resource ready to answer calls: its policy resolved, its JWKS cache.
pub struct Compiled {
    /// The resource as configured.
    pub resource: Resource,
    /// What it checks.
    pub policy: Policy,
    /// `{issuer}/resources/{name}`.
    pub identifier: String,
    /// The RFC 9728 metadata URL.
    pub metadata_url: String,
    /// The JWKS the API holds.
    pub jwks: jwks::ApiJwks,
}

impl Compiled {
    /// Compiles `r` for `issuer`.
    pub fn new(issuer: &Issuer, r: Resource) -> Compiled {
        Compiled {
            policy: Policy::resolve(&r),
            identifier: identifier(issuer, &r.name),
            metadata_url: metadata_url(issuer, &r.name),
            resource: r,
            jwks: jwks::ApiJwks::default(),
        }
    }
}

/// The runtime side of the simulator, held by the [`Provider`]: the resources (an in-memory
/// mirror of the store, so a call never waits for the database) and their recent calls.
#[derive(Default)]
pub struct ResourceServer {
    resources: RwLock<Arc<HashMap<String, Arc<Compiled>>>>,
    /// The recent calls.
    pub calls: calls::CallLog,
}

impl ResourceServer {
    /// The resource named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Compiled>> {
        let map = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        map.get(name).cloned()
    }

    /// Every resource (unordered).
    pub fn all(&self) -> Vec<Arc<Compiled>> {
        let map = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        map.values().cloned().collect()
    }

    /// Replaces the mirror. A resource whose definition did not change keeps its JWKS cache;
    /// a changed one starts afresh (its simulated API restarts).
    pub fn load(&self, issuer: &Issuer, all: Vec<Resource>) {
        let old = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let map: HashMap<String, Arc<Compiled>> = all
            .into_iter()
            .map(|r| {
                let kept = old.get(&r.name).filter(|c| c.resource == r).cloned();
                let c = kept.unwrap_or_else(|| Arc::new(Compiled::new(issuer, r)));
                (c.resource.name.clone(), c)
            })
            .collect();
        for name in old.keys().filter(|n| !map.contains_key(*n)) {
            self.calls.forget(name);
        }
        match self.resources.write() {
            Ok(mut g) => *g = Arc::new(map),
            Err(p) => *p.into_inner() = Arc::new(map),
        }
    }

    /// Records a call (newest kept, oldest dropped) and publishes `resource.called` to
    /// whoever watches the event stream. Returns the call.
    pub fn record(&self, p: &Provider, verdict: Arc<Verdict>) -> Arc<ResourceCall> {
        self.record_with(p, verdict, None)
    }

    /// [`Self::record`] with what the explaining proxy did (`proxy`), for resources with an
    /// `upstream`; `status` is then what the client got (the upstream's, or Latchkey's own).
    pub fn record_with(
        &self,
        p: &Provider,
        verdict: Arc<Verdict>,
        proxy: Option<(u16, Arc<proxy::ProxyRecord>)>,
    ) -> Arc<ResourceCall> {
        let token = verdict.token.as_ref();
        let (status, proxy) = match proxy {
            Some((status, rec)) => (status, Some(rec)),
            None => (verdict.status, None),
        };
        let call = Arc::new(ResourceCall {
            id: self.calls.next_id(),
            at: p.clock.now_ms(),
            resource: verdict.resource.clone(),
            method: verdict.method.clone(),
            path: verdict.path.clone(),
            status,
            client_id: token.and_then(|t| t.client_id.clone()),
            sub: token.and_then(|t| t.sub.clone()),
            verdict,
            proxy,
        });
        self.calls.push(call.clone());
        p.events
            .publish_if_watched(call.at, || Event::ResourceCalled(Box::new((*call).clone())));
        call
    }
}

/// The credentials a request carried, as the HTTP layer found them (RFC 6750 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerInput {
    /// Every `Authorization` header value, raw (two headers are `invalid_request`).
    pub authorization: Vec<Vec<u8>>,
    /// `access_token` values of an `application/x-www-form-urlencoded` body (§2.2), in order.
    pub body_tokens: Vec<String>,
    /// `access_token` values of the query string (§2.3), in order.
    pub query_tokens: Vec<String>,
}

/// What the API's clock says: Latchkey's clock plus the resource's offset (seconds).
pub fn api_now(p: &Provider, r: &Resource) -> i64 {
    p.clock.now().saturating_add(r.clock_offset.unwrap_or(0))
}

/// Checks a request to resource `c` (`method`, `path` relative to the resource) the way the
/// simulated API would, and explains every check. Reads Latchkey's keys, clock and store
/// (the token cache first); records nothing and publishes nothing. The verdict's
/// `challenge` is left for the HTTP layer to fill from [`Verdict::challenge_pieces`].
pub async fn evaluate(p: &Provider, c: &Compiled, input: &BearerInput, method: &str, path: &str) -> Verdict {
    let required = required_scopes(&c.resource, method, path);
    let mut rows: Vec<Check> = Vec::with_capacity(CheckName::ALL.len());
    let mut summary = None;
    let mut no_token = false;
    match bearer::request_row(&c.policy, input, method) {
        Err(refused) => {
            let bearer::Refused { row, no_token: none } = *refused;
            no_token = none;
            rows.push(row);
            for name in CheckName::ALL.iter().skip(1) {
                rows.push(Check::skipped(*name, "no token to check"));
            }
        }
        Ok((row, token)) => {
            rows.push(row);
            let outcome = match c.resource.validation {
                Validation::Jwt => jwt::check(p, c, &token, &required).await,
                Validation::Introspection => introspection::check(p, c, &token, &required).await,
            };
            rows.extend(outcome.rows);
            summary = outcome.summary;
        }
    }
    verdict_of(c, method, path, required, rows, summary, no_token)
}

/// The scopes `method` and `path` need: `required_scopes`, plus the first matching rule's.
pub fn required_scopes(r: &Resource, method: &str, path: &str) -> Vec<String> {
    let mut out = r.required_scopes.clone();
    if let Some(rule) = pattern::first_match(&r.rules, method, path) {
        for s in &rule.scopes {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// Builds the verdict from the rows: the first failed row decides.
fn verdict_of(
    c: &Compiled,
    method: &str,
    path: &str,
    required_scopes: Vec<String>,
    checks: Vec<Check>,
    token: Option<TokenSummary>,
    no_token: bool,
) -> Verdict {
    let decisive = checks.iter().find(|r| r.result == CheckResult::Failed);
    let (status, error, description, decided_by) = match decisive {
        None => (200, None, None, None),
        Some(row) => {
            let error = match row.check {
                // RFC 6750 §3.1: no error code when the request had no token at all.
                CheckName::Request if no_token => None,
                CheckName::Request => Some(BearerError::InvalidRequest),
                CheckName::Scope => Some(BearerError::InsufficientScope),
                _ => Some(BearerError::InvalidToken),
            };
            let status = error.map_or(401, BearerError::status);
            let description = error.map(|_| {
                let mut d = crate::oauth::bearer::ascii_param(&format!("{}: {}", row.check.as_str(), row.explanation));
                if d.len() > 300 {
                    d.truncate(297);
                    d.push_str("...");
                }
                d
            });
            (status, error, description, Some(row.check))
        }
    };
    Verdict {
        allowed: decided_by.is_none(),
        status,
        resource: c.resource.name.clone(),
        method: method.to_string(),
        path: path.to_string(),
        profile: c
            .resource
            .profile
            .clone()
            .unwrap_or_else(|| profiles::DEFAULT_PROFILE.to_string()),
        validation: c.resource.validation.as_str().to_string(),
        required_scopes,
        decided_by,
        error,
        error_description: description,
        checks,
        challenge: None,
        token,
    }
}

/// The rows a validation mode produced after `request`, and what the token says.
pub struct Outcome {
    /// `format` .. `revocation`, in order.
    pub rows: Vec<Check>,
    /// sub, client_id, scope, when readable.
    pub summary: Option<TokenSummary>,
}

/// The body of a successful call: the resource's `response`, or by default the resource
/// name, method, path and the token's `sub`, `client_id` and `scope`.
pub fn success_body(c: &Compiled, v: &Verdict) -> serde_json::Value {
    if let Some(r) = &c.resource.response {
        return r.clone();
    }
    let t = v.token.clone().unwrap_or_default();
    serde_json::json!({
        "resource": v.resource,
        "method": v.method,
        "path": v.path,
        "sub": t.sub,
        "client_id": t.client_id,
        "scope": t.scope,
    })
}

/// Publishes `resource.checked` for a check made without a call (the admin API's check).
pub fn publish_checked(p: &Provider, v: &Verdict) {
    p.events.publish(
        p.clock.now_ms(),
        Event::ResourceChecked {
            resource: v.resource.clone(),
            verdict: Box::new(v.clone()),
        },
    );
}
