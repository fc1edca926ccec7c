//! The `dpop` row (RFC 9449 §7): how the simulated API treats DPoP. An API whose profile checks
//! DPoP ([`super::Policy::dpop`]) accepts `Authorization: DPoP <token>` with a proof from the key
//! the token is bound to (`cnf.jkt`), checks `htm`, `htu`, `iat`, `jti`, `ath` (and the nonce
//! with `[server] use_dpop_nonce`), and refuses a bound token sent as Bearer (§7.2). Profiles
//! that reproduce a JWT library skip the row: the library does not look at DPoP.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::verdict::{BearerError, Check, CheckName, Verdict};
use super::{BearerInput, Compiled};
use crate::ids;
use crate::oauth::dpop::{self, DpopSeen, ProofReport, ProofRequest, Scheme};
use crate::oauth::error::ErrorCode;
use crate::provider::Provider;

/// The `dpop` row and what it changes in the verdict.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The row.
    pub row: Check,
    /// The error when the row failed (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`).
    pub error: Option<BearerError>,
    /// The challenge is `DPoP` (the request used the scheme, or the token is bound).
    pub dpop_challenge: bool,
    /// `DPoP-Nonce` to send.
    pub nonce: Option<String>,
    /// The proof as judged.
    pub report: Option<Arc<ProofReport>>,
}

impl Judged {
    /// Applies the row's error (when it decided the verdict), the challenge scheme and the
    /// nonce to `v`.
    pub fn apply(self, v: &mut Verdict) {
        if v.decided_by == Some(CheckName::Dpop)
            && let Some(e) = self.error
        {
            v.error = Some(e);
            v.status = e.status();
        }
        v.dpop_challenge = self.dpop_challenge;
        v.dpop_nonce = self.nonce;
        v.dpop_report = self.report;
    }
}

/// The scheme of the request's `Authorization` header.
fn scheme_of(input: &BearerInput) -> Scheme {
    let dpop = input
        .authorization
        .first()
        .is_some_and(|raw| raw.len() > 5 && raw[..4].eq_ignore_ascii_case(b"dpop") && raw[4] == b' ');
    if dpop { Scheme::DPoP } else { Scheme::Bearer }
}

/// The `cnf.jkt` the token is bound to: from the record Latchkey keeps of the tokens it issued
/// (opaque ones included), else from a JWT's payload as sent (the signature rows judge it).
async fn bound_jkt(p: &Provider, token: &str) -> Option<String> {
    if let Ok(Some(rec)) = p.store.find_token_by_hash(ids::token_hash(token)).await {
        return dpop::jkt_of(&rec.claims).map(str::to_string);
    }
    let payload = token.split('.').nth(1)?;
    let bytes = B64.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    dpop::jkt_of(&claims).map(str::to_string)
}

/// Judges DPoP for a call to `c` with `token` (already found by the `request` row).
pub async fn judge(p: &Provider, c: &Compiled, input: &BearerInput, method: &str, token: &str) -> Judged {
    let scheme = scheme_of(input);
    let bound = bound_jkt(p, token).await;
    if !c.policy.dpop {
        let mut row = Check::skipped(
            CheckName::Dpop,
            match &bound {
                Some(jkt) => format!(
                    "profile `{}` reproduces a library that does not check DPoP: this DPoP-bound token (cnf.jkt `{jkt}`) is \
                     accepted without a proof, which RFC 9449 §7.2 forbids",
                    c.resource
                        .profile
                        .as_deref()
                        .unwrap_or(super::profiles::DEFAULT_PROFILE)
                ),
                None => format!(
                    "profile `{}` reproduces a library that does not check DPoP proofs",
                    c.resource
                        .profile
                        .as_deref()
                        .unwrap_or(super::profiles::DEFAULT_PROFILE)
                ),
            },
        );
        if bound.is_some() {
            row = row.with_fix(
                "check the DPoP proof in the API's own code (RFC 9449 §7.1), or use the latchkey or rfc9068 profile to see what a DPoP-aware API does",
            );
        }
        return Judged {
            row,
            error: None,
            dpop_challenge: false,
            nonce: None,
            report: None,
        };
    }
    if input.request_path.is_empty() {
        // A check made without a request (the admin API's "would this API accept it?"): there
        // is no proof to judge, only what a call will need.
        return Judged {
            row: Check::skipped(
                CheckName::Dpop,
                match &bound {
                    Some(jkt) => format!(
                        "checked without a request: a call needs Authorization: DPoP and a DPoP proof signed by the key \
                         with thumbprint `{jkt}` (sent as Bearer, this bound token is refused, RFC 9449 §7.2)"
                    ),
                    None => "the token is not DPoP-bound: a call sends it as Bearer".to_string(),
                },
            ),
            error: None,
            dpop_challenge: false,
            nonce: None,
            report: None,
        };
    }
    let proofs: Vec<&[u8]> = input.dpop_proofs.iter().map(Vec::as_slice).collect();
    let req = ProofRequest {
        proofs: &proofs,
        method,
        path: &input.request_path,
    };
    let seen = DpopSeen::default();
    let outcome = dpop::at_resource(p, scheme, token, bound.as_deref(), &req, "resource", &seen);
    let report = seen.take();
    let actual = json!({
        "scheme": match scheme { Scheme::DPoP => "DPoP", Scheme::Bearer => "Bearer" },
        "cnf_jkt": bound,
        "proof_jkt": report.as_ref().and_then(|r| r.jkt.clone()),
        "proof_checks": report.as_ref().map(|r| r.checks.iter().map(|c| json!({"check": c.check, "result": c.result})).collect::<Vec<_>>()),
    });
    let dpop_challenge = scheme == Scheme::DPoP || bound.is_some();
    let expected = match &bound {
        Some(jkt) => json!({"scheme": "DPoP", "proof_jkt": jkt}),
        None => json!({"scheme": "Bearer"}),
    };
    match outcome {
        Ok(None) => Judged {
            row: Check::skipped(
                CheckName::Dpop,
                "the token is not DPoP-bound and was sent as Bearer: no proof is needed",
            )
            .with_values(expected, actual),
            error: None,
            dpop_challenge,
            nonce: dpop::fresh_nonce(p),
            report,
        },
        Ok(Some(proof)) => Judged {
            row: Check::passed(
                CheckName::Dpop,
                expected,
                actual,
                format!(
                    "Authorization: DPoP with a valid proof from the bound key `{}` (htm, htu, iat, jti and ath checked)",
                    proof.jkt
                ),
            ),
            error: None,
            dpop_challenge,
            nonce: dpop::fresh_nonce(p),
            report,
        },
        Err(refusal) => {
            let error = match refusal.code {
                ErrorCode::UseDpopNonce => BearerError::UseDpopNonce,
                ErrorCode::InvalidDpopProof => BearerError::InvalidDpopProof,
                _ => BearerError::InvalidToken,
            };
            Judged {
                row: Check::failed(CheckName::Dpop, expected, actual, refusal.description, refusal.fix),
                error: Some(error),
                dpop_challenge: true,
                nonce: refusal.nonce.or_else(|| dpop::fresh_nonce(p)),
                report,
            }
        }
    }
}
