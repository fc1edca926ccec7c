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
pub mod dpop;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod metadata;
pub mod pattern;
pub mod profiles;
pub mod proxy;
pub mod server;
pub mod verdict;
pub mod view;

use std::sync::Arc;

pub use calls::{CALLS_PER_RESOURCE, ResourceCall};
pub use profiles::{Policy, Profile};
pub use server::{
    Compiled, METADATA_SEGMENT, RESOURCES_PATH, ResourceServer, identifier, metadata_url, split_resource_path,
};
pub use verdict::{BearerError, ChallengePieces, Check, CheckName, CheckResult, TokenSummary, Verdict};
pub use view::ResourceView;

use crate::events::Event;
use crate::model::{Resource, Validation};
use crate::provider::Provider;

impl ResourceServer {
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
    /// A form body that was not searched for `access_token` (the explaining proxy streams
    /// bodies larger than [`FORM_BODY_READ`] bytes, or of unannounced length, unread).
    pub body_unread: bool,
    /// Every `DPoP` header value, raw (RFC 9449 §4.1).
    pub dpop_proofs: Vec<Vec<u8>>,
    /// The request's path relative to the issuer, as sent (`/resources/books/1`): what a DPoP
    /// proof's `htu` must name. Empty for a check made without a request (the admin API's).
    pub request_path: String,
}

/// The largest form body (bytes) searched for an `access_token` (RFC 6750 §2.2).
pub const FORM_BODY_READ: usize = 64 * 1024;

/// What the API's clock says: Latchkey's clock plus the resource's offset (seconds).
pub fn api_now(p: &Provider, r: &Resource) -> i64 {
    p.clock.now().saturating_add(r.clock_offset.unwrap_or(0))
}

/// Checks a request to resource `c` (`method`, `path` relative to the resource) the way the
/// simulated API would, and explains every check. Reads Latchkey's keys, clock and store
/// (the token cache first); records nothing and publishes nothing. The verdict's
/// `challenge` is left for the HTTP layer to fill from [`Verdict::challenge_pieces`].
pub async fn evaluate(p: &Provider, c: &Compiled, input: &BearerInput, method: &str, path: &str) -> Verdict {
    let mut rows: Vec<Check> = Vec::with_capacity(CheckName::ALL.len());
    let mut summary = None;
    let mut no_token = false;
    let normalized = match pattern::normalize(path) {
        Ok(n) => n,
        Err(why) => {
            // A path the rules cannot judge is refused, never matched by no rule (fail closed).
            rows.push(Check::failed(
                CheckName::Request,
                serde_json::json!("a path without encoded separators or dot segments"),
                serde_json::json!(path),
                format!("{why}; a rule cannot say which scopes such a call needs"),
                "send the path as the API's routes spell it",
            ));
            for name in CheckName::ALL.iter().skip(1).chain([&CheckName::Dpop]) {
                rows.push(Check::skipped(
                    *name,
                    "the request was refused before its token was checked",
                ));
            }
            let required = c.resource.required_scopes.clone();
            return verdict_of(c, method, path, required, rows, summary, no_token);
        }
    };
    let required = required_scopes(&c.resource, method, &normalized);
    match bearer::request_row(&c.policy, input, method) {
        Err(refused) => {
            let bearer::Refused { row, no_token: none } = *refused;
            no_token = none;
            rows.push(row);
            for name in CheckName::ALL.iter().skip(1).chain([&CheckName::Dpop]) {
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
            let judged = dpop::judge(p, c, input, method, &token).await;
            rows.push(judged.row.clone());
            let mut v = verdict_of(c, method, path, required, rows, summary, no_token);
            judged.apply(&mut v);
            return v;
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
            // The JSON keeps the explanation as written; the challenge folds it to ASCII and
            // shortens it (`Verdict::challenge_pieces`).
            let description = error.map(|_| {
                let name = row.check.as_str();
                if row.explanation.starts_with(name) {
                    row.explanation.clone()
                } else {
                    format!("{name}: {}", row.explanation)
                }
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
        dpop_challenge: false,
        dpop_nonce: None,
        dpop_report: None,
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
