//! The verdict: one row per check, in evaluation order, and what the API answers (RFC 6750 §3).
//!
//! Evaluation order (see [`CheckName`]): `request`, `format`, `kind`, `typ`, `alg`, `kid`,
//! `signature`, `iss`, `aud`, `exp`, `nbf`, `iat`, `scope`, `active`, `revocation`. The first
//! row that fails decides the status (`decided_by`). Rows after it are still evaluated when
//! their inputs exist (so one look shows every problem of a token, e.g. expired *and* the wrong
//! audience); a row that cannot be evaluated is `skipped` with the reason. Claims rows after a
//! failed signature say that they read an unverified payload. The `dpop` row (RFC 9449 §7)
//! follows the token rows: it is not in [`CheckName::ALL`], which lists what a token's
//! validation produces.

use serde::Serialize;

use serde_json::Value;
use utoipa::ToSchema;

/// The longest `error_description` put in a challenge header (bytes, ASCII); the verdict's
/// JSON carries the whole text.
pub const CHALLENGE_DESCRIPTION_MAX: usize = 300;

/// The checks, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// Credentials present and well-formed (RFC 6750 §2).
    Request,
    /// JWS compact serialization, opaque string, or something else.
    Format,
    /// Access token vs id_token vs refresh token.
    Kind,
    /// The JOSE header `typ` (RFC 9068 §4, RFC 8725 §3.11).
    Typ,
    /// The JOSE header `alg` against the allowed list (RFC 8725 §3.1).
    Alg,
    /// The `kid` in the JWKS the simulated API holds.
    Kid,
    /// The JWS signature.
    Signature,
    /// `iss`, exact string comparison (RFC 9068 §4, OIDC Core §3.1.3.7).
    Iss,
    /// `aud` (RFC 7519 §4.1.3, RFC 9068 §4).
    Aud,
    /// `exp` against the API's clock (RFC 7519 §4.1.4).
    Exp,
    /// `nbf` against the API's clock (RFC 7519 §4.1.5).
    Nbf,
    /// `iat` against the API's clock (RFC 7519 §4.1.6).
    Iat,
    /// The required scopes (RFC 6750 §3.1 `insufficient_scope`).
    Scope,
    /// Introspection `active` (RFC 7662 §2.2), introspection mode only.
    Active,
    /// The status Latchkey recorded for the token (revoked, consumed).
    Revocation,
    /// DPoP (RFC 9449 §7): the scheme, the proof (`htm`, `htu`, `iat`, `jti`, `ath`) and the
    /// key the token is bound to (`cnf.jkt`).
    Dpop,
}

impl CheckName {
    /// Every check, in evaluation order.
    pub const ALL: [CheckName; 15] = [
        CheckName::Request,
        CheckName::Format,
        CheckName::Kind,
        CheckName::Typ,
        CheckName::Alg,
        CheckName::Kid,
        CheckName::Signature,
        CheckName::Iss,
        CheckName::Aud,
        CheckName::Exp,
        CheckName::Nbf,
        CheckName::Iat,
        CheckName::Scope,
        CheckName::Active,
        CheckName::Revocation,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Request => "request",
            CheckName::Format => "format",
            CheckName::Kind => "kind",
            CheckName::Typ => "typ",
            CheckName::Alg => "alg",
            CheckName::Kid => "kid",
            CheckName::Signature => "signature",
            CheckName::Iss => "iss",
            CheckName::Aud => "aud",
            CheckName::Exp => "exp",
            CheckName::Nbf => "nbf",
            CheckName::Iat => "iat",
            CheckName::Scope => "scope",
            CheckName::Active => "active",
            CheckName::Revocation => "revocation",
            CheckName::Dpop => "dpop",
        }
    }
}

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// The check was made and passed.
    Passed,
    /// The check was made and failed.
    Failed,
    /// Not made (not applicable, not done by this profile, or its input is missing); the
    /// explanation says why.
    Skipped,
}

/// One row of a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Check {
    /// Which check.
    pub check: CheckName,
    /// Its outcome.
    pub result: CheckResult,
    /// What the API expects (any JSON; `null` when nothing is compared).
    #[schema(value_type = Object)]
    pub expected: Value,
    /// What the token (or request) has.
    #[schema(value_type = Object)]
    pub actual: Value,
    /// One sentence: what was compared and what happened.
    pub explanation: String,
    /// One sentence: how to fix it (`null` when passed).
    pub fix: Option<String>,
}

impl Check {
    /// A passed row.
    pub fn passed(check: CheckName, expected: Value, actual: Value, explanation: impl Into<String>) -> Check {
        Check {
            check,
            result: CheckResult::Passed,
            expected,
            actual,
            explanation: explanation.into(),
            fix: None,
        }
    }

    /// A failed row.
    pub fn failed(
        check: CheckName,
        expected: Value,
        actual: Value,
        explanation: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            check,
            result: CheckResult::Failed,
            expected,
            actual,
            explanation: explanation.into(),
            fix: Some(fix.into()),
        }
    }

    /// A skipped row.
    pub fn skipped(check: CheckName, explanation: impl Into<String>) -> Check {
        Check {
            check,
            result: CheckResult::Skipped,
            expected: Value::Null,
            actual: Value::Null,
            explanation: explanation.into(),
            fix: None,
        }
    }

    /// The same row with `fix` set (a skipped row can still carry advice).
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// The same row with expected/actual values.
    #[must_use]
    pub fn with_values(mut self, expected: Value, actual: Value) -> Check {
        self.expected = expected;
        self.actual = actual;
        self
    }
}

/// The RFC 6750 error code of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BearerError {
    /// §3.1: malformed request (400).
    InvalidRequest,
    /// §3.1: the token is expired, revoked, malformed or invalid for other reasons (401).
    InvalidToken,
    /// §3.1: the token lacks the scopes the call needs (403).
    InsufficientScope,
    /// RFC 9449 §7.1: the DPoP proof is missing or wrong (401, `DPoP` challenge).
    InvalidDpopProof,
    /// RFC 9449 §9: the proof lacks the server's nonce (401, `DPoP-Nonce` header).
    UseDpopNonce,
}

impl BearerError {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
            BearerError::InvalidDpopProof => "invalid_dpop_proof",
            BearerError::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status §3.1 gives it.
    pub fn status(self) -> u16 {
        match self {
            BearerError::InvalidRequest => 400,
            BearerError::InvalidToken | BearerError::InvalidDpopProof | BearerError::UseDpopNonce => 401,
            BearerError::InsufficientScope => 403,
        }
    }
}

/// The pieces of an RFC 6750 §3 `WWW-Authenticate: Bearer` challenge. Values are plain text;
/// the HTTP layer quotes them (and keeps `error_description` to the characters §3 allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengePieces {
    /// `realm`.
    pub realm: String,
    /// `error`: absent when the request carried no token at all (§3.1).
    pub error: Option<BearerError>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `scope`: the scopes the call needs (with `insufficient_scope`).
    pub scope: Option<String>,
    /// `resource_metadata` (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
}

/// A summary of the presented token (what a successful call and the call list show).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct TokenSummary {
    /// `sub`.
    pub sub: Option<String>,
    /// `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    /// The scopes found (from `scope` or `scp`), space-separated.
    pub scope: Option<String>,
    /// `jti`, or Latchkey's token id.
    pub jti: Option<String>,
    /// `access_token`, `id_token`, `refresh_token`, `authorization_code`, or `unknown`.
    pub kind: Option<String>,
}

/// The outcome of checking one request against one resource.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Verdict {
    /// Whether the API accepts the call.
    pub allowed: bool,
    /// The HTTP status the API answers (200, 400, 401 or 403).
    pub status: u16,
    /// The resource's name.
    pub resource: String,
    /// The request method.
    pub method: String,
    /// The path relative to the resource (`/books/1`).
    pub path: String,
    /// The profile in force (`latchkey` when none is set).
    pub profile: String,
    /// `jwt` or `introspection`.
    pub validation: String,
    /// The scopes this method and path need (required_scopes plus the matching rule).
    pub required_scopes: Vec<String>,
    /// The check whose failure decided the status.
    pub decided_by: Option<CheckName>,
    /// The RFC 6750 error code, when refused.
    pub error: Option<BearerError>,
    /// A one-sentence reason, when refused: the deciding row's explanation (the challenge
    /// carries it folded to the RFC 6750 §3 characters, at most [`CHALLENGE_DESCRIPTION_MAX`] bytes).
    pub error_description: Option<String>,
    /// The rows, in evaluation order.
    pub checks: Vec<Check>,
    /// The `WWW-Authenticate` value the API answers with (`null` when allowed).
    pub challenge: Option<String>,
    /// What the token says (sub, client_id, scope), when it could be read.
    pub token: Option<TokenSummary>,
    /// The challenge is `WWW-Authenticate: DPoP` (RFC 9449 §7.1): the request used the DPoP
    /// scheme, the token is DPoP-bound, or the `dpop` row decided.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dpop_challenge: bool,
    /// The nonce to send as `DPoP-Nonce` (RFC 9449 §9), when the server requires nonces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_nonce: Option<String>,
    /// The DPoP proof as judged, for the request log.
    #[serde(skip)]
    pub dpop_report: Option<std::sync::Arc<crate::oauth::dpop::ProofReport>>,
}

impl Verdict {
    /// The row for `check`, if any.
    pub fn row(&self, check: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == check)
    }

    /// The RFC 6750 challenge pieces of this verdict (`None` when allowed). `realm` and
    /// `resource_metadata` come from the resource.
    pub fn challenge_pieces(&self, realm: &str, resource_metadata: Option<&str>) -> Option<ChallengePieces> {
        if self.allowed {
            return None;
        }
        Some(ChallengePieces {
            realm: realm.to_string(),
            error: self.error,
            error_description: self.error.and(self.error_description.as_deref()).map(|d| {
                let mut d = crate::oauth::bearer::ascii_param(d);
                if d.len() > CHALLENGE_DESCRIPTION_MAX {
                    d.truncate(CHALLENGE_DESCRIPTION_MAX - 3);
                    d.push_str("...");
                }
                d
            }),
            scope: match self.error {
                Some(BearerError::InsufficientScope) => Some(self.required_scopes.join(" ")),
                _ => None,
            },
            resource_metadata: resource_metadata.map(str::to_string),
        })
    }
}
