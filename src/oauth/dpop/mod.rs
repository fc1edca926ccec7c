//! DPoP: demonstrating proof of possession (RFC 9449).
//!
//! - [`proof`]: validating one proof, explaining every check ([`proof::validate`]).
//! - [`nonce`]: the server-provided nonces of `[server] use_dpop_nonce` (§8, §9).
//! - Here: what the endpoints call. [`at_token_endpoint`] (§5: a proof with any grant; the
//!   client's `dpop_bound_access_tokens`), [`at_par_endpoint`] (§10.1: the key a pushed request
//!   binds its code to), [`at_resource`] (§7: userinfo and the protected resources, `ath`, a
//!   bound token sent as Bearer), and the binding in force while a token request is served
//!   ([`bind`], [`bound_jkt`], [`require_key`]): issuing reads it to put `cnf.jkt` in access
//!   tokens (§6) and to bind public clients' refresh tokens (§5).
//!
//! No HTTP framework here: the HTTP layer passes the `DPoP` header values, the method and the
//! path ([`ProofRequest`]), and maps the errors (`invalid_dpop_proof`, `use_dpop_nonce`, with
//! `DPoP-Nonce` and `WWW-Authenticate: DPoP`) in `http::error`.

pub mod nonce;
pub mod proof;

use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub use nonce::Nonces;
pub use proof::{ALGS, Proof, ProofCheck, ProofCheckResult, ProofError, ProofErrorCode, ProofReport};

use super::bearer::{self, BearerRequest};
use super::error::{ErrorCode, OAuthError};
use crate::model::Client;
use crate::provider::Provider;

tokio::task_local! {
    /// The thumbprint of the key the token request proved possession of.
    static BINDING: Option<String>;
}

/// Runs `f` (a token request's grant) with `jkt` as the DPoP binding: the access tokens it
/// issues carry `cnf.jkt` (RFC 9449 §6.1), and a public client's refresh tokens are bound to the
/// key (§5).
pub async fn bind<F: Future>(jkt: Option<String>, f: F) -> F::Output {
    BINDING.scope(jkt, f).await
}

/// The DPoP binding of the token request being served, if any (see [`bind`]).
pub fn bound_jkt() -> Option<String> {
    BINDING.try_with(Clone::clone).ok().flatten()
}

/// The `cnf` claim of a token bound to `jkt` (RFC 9449 §6.1, RFC 7800 §3.1).
pub fn cnf(jkt: &str) -> Value {
    serde_json::json!({ "jkt": jkt })
}

/// The `cnf.jkt` of a token's claims, when it is DPoP-bound.
pub fn jkt_of(claims: &Value) -> Option<&str> {
    claims.get("cnf").and_then(|c| c.get("jkt")).and_then(Value::as_str)
}

/// Within a token request: a code or refresh token bound to `expected` (by `dpop_jkt` at
/// authorization, §10, or `cnf.jkt`, §5) needs a proof from that key. `what` names the grant
/// in the description.
///
/// Errors: no proof: `invalid_dpop_proof`; a proof from another key: `invalid_grant`.
pub fn require_key(expected: Option<&str>, what: &str) -> Result<(), OAuthError> {
    let Some(want) = expected else { return Ok(()) };
    match bound_jkt() {
        Some(got) if got == want => Ok(()),
        Some(got) => Err(OAuthError::invalid_grant(format!(
            "{what} is bound to the DPoP key with thumbprint `{want}`, but the proof is signed with `{got}` (RFC 9449 §5, §10)"
        ))),
        None => Err(invalid_proof(format!(
            "{what} is bound to the DPoP key with thumbprint `{want}`: send a DPoP proof signed with that key (RFC 9449 §5, §10)"
        ))),
    }
}

/// `invalid_dpop_proof` (RFC 9449 §5).
pub fn invalid_proof(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, description)
}

/// Where the protocol layer leaves the report of the DPoP proof a request carried, for the
/// HTTP layer to attach to the request log entry.
#[derive(Debug, Default)]
pub struct DpopSeen(Mutex<Option<Arc<ProofReport>>>);

impl DpopSeen {
    /// Records `report` (the last one wins).
    pub fn record(&self, report: ProofReport) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(report));
    }

    /// The recorded report.
    pub fn take(&self) -> Option<Arc<ProofReport>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A request's DPoP inputs, as the HTTP layer found them.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// Every `DPoP` header value, raw (RFC 9449 §4.3 item 1: exactly one).
    pub proofs: &'a [&'a [u8]],
    /// The request's method (`htm`).
    pub method: &'a str,
    /// The request's path relative to the issuer (`/token`, `/resources/books/1`): `htu` must
    /// be this path on the issuer's origin (or the back channel's).
    pub path: &'a str,
}

impl ProofRequest<'_> {
    /// Whether the request carried a `DPoP` header.
    pub fn present(&self) -> bool {
        !self.proofs.is_empty()
    }
}

/// The URLs `htu` may name for `path`: the issuer's and, when set, the back channel's.
fn endpoint_urls(p: &Provider, path: &str) -> Vec<String> {
    let mut out: Vec<String> = proof::normalize_htu(&p.issuer.url(path)).into_iter().collect();
    if let Some(b) = p.back_channel()
        && let Some(u) = proof::normalize_htu(&b.url(path))
        && !out.contains(&u)
    {
        out.push(u);
    }
    out
}

/// Validates the request's proof, if it has one: `Ok(None)` without a `DPoP` header. The
/// report (every check) is left in `seen`. `access_token`: the token sent with it (`ath`);
/// `jkt`: the key it must be signed with.
///
/// Errors: several `DPoP` headers or a bad proof: `invalid_dpop_proof`; a missing or stale
/// nonce (with `use_dpop_nonce`): `use_dpop_nonce` with a fresh nonce (RFC 9449 §8).
pub fn check(
    p: &Provider,
    req: &ProofRequest<'_>,
    access_token: Option<&str>,
    jkt: Option<&str>,
    endpoint: &str,
    seen: &DpopSeen,
) -> Result<Option<Proof>, OAuthError> {
    let raw = match req.proofs {
        [] => return Ok(None),
        [one] => std::str::from_utf8(one).map_err(|_| invalid_proof("the DPoP header is not valid UTF-8"))?,
        many => {
            return Err(invalid_proof(format!(
                "the request has {} DPoP headers; exactly one proof is sent (RFC 9449 §4.3 item 1)",
                many.len()
            )));
        }
    };
    let settings = p.settings();
    let htu = endpoint_urls(p, req.path);
    let expect = proof::Expect {
        htm: req.method,
        htu: &htu,
        access_token,
        jkt,
        require_nonce: settings.use_dpop_nonce,
        now: p.clock.peer_now(settings.assertion_time),
        basis: settings.assertion_time,
        server_now: p.clock.now(),
    };
    match proof::validate(raw.trim(), &expect, &p.jtis, &p.dpop_nonces, endpoint) {
        Ok(proof) => {
            seen.record(proof.report.clone());
            Ok(Some(proof))
        }
        Err(e) => {
            seen.record(e.report.clone());
            Err(refused(*e))
        }
    }
}

fn refused(e: ProofError) -> OAuthError {
    let code = match e.code {
        ProofErrorCode::InvalidDpopProof => ErrorCode::InvalidDpopProof,
        ProofErrorCode::UseDpopNonce => ErrorCode::UseDpopNonce,
    };
    let mut err = OAuthError::new(code, e.description);
    err.dpop_nonce = e.nonce;
    err
}

/// The nonce to advertise in a response's `DPoP-Nonce` header, when the server requires
/// nonces (RFC 9449 §8.2: a server may supply a new one in any response).
pub fn fresh_nonce(p: &Provider) -> Option<String> {
    p.settings()
        .use_dpop_nonce
        .then(|| p.dpop_nonces.current(p.clock.now()))
}

/// At the token endpoint (RFC 9449 §5), after client authentication: the proof, if any, is
/// validated and its key's thumbprint returned (the tokens are then bound to it, [`bind`]).
///
/// Errors: `invalid_dpop_proof` for a bad proof, or none when the client is registered with
/// `dpop_bound_access_tokens` (§5.2); `use_dpop_nonce` (§8).
pub fn at_token_endpoint(
    p: &Provider,
    client: &Client,
    req: &ProofRequest<'_>,
    seen: &DpopSeen,
) -> Result<Option<String>, OAuthError> {
    match check(p, req, None, None, "token", seen)? {
        Some(proof) => Ok(Some(proof.jkt)),
        None if client.dpop_bound_access_tokens => Err(invalid_proof(format!(
            "client `{}` is registered with dpop_bound_access_tokens: every token request needs a DPoP header \
             with a proof (RFC 9449 §5.2)",
            client.client_id
        ))),
        None => Ok(None),
    }
}

/// At the pushed authorization request endpoint (RFC 9449 §10.1), for the PAR handler: the
/// optional proof is validated like at the token endpoint, and the key the authorization code
/// must be bound to is returned: the proof's thumbprint, or the `dpop_jkt` parameter when no
/// proof was sent.
///
/// Errors: a bad proof (`invalid_dpop_proof`, `use_dpop_nonce`); a `dpop_jkt` that is not a
/// thumbprint or differs from the proof's key (`invalid_dpop_proof`, §10.1: "MUST ... check
/// that the dpop_jkt parameter value matches the JWK thumbprint"); no proof for a client with
/// `dpop_bound_access_tokens` is allowed here (the token request still needs one).
pub fn at_par_endpoint(
    p: &Provider,
    req: &ProofRequest<'_>,
    dpop_jkt: Option<&str>,
    seen: &DpopSeen,
) -> Result<Option<String>, OAuthError> {
    if let Some(j) = dpop_jkt
        && !proof::is_thumbprint(j)
    {
        return Err(OAuthError::invalid_request(
            "dpop_jkt must be a JWK SHA-256 thumbprint: 43 base64url characters (RFC 9449 §10, RFC 7638)",
        ));
    }
    let proof = check(p, req, None, None, "par", seen)?;
    match (proof, dpop_jkt) {
        (Some(proof), Some(j)) if proof.jkt != j => Err(invalid_proof(format!(
            "dpop_jkt `{j}` is not the thumbprint of the DPoP proof's key (`{}`) (RFC 9449 §10.1)",
            proof.jkt
        ))),
        (Some(proof), _) => Ok(Some(proof.jkt)),
        (None, j) => Ok(j.map(str::to_string)),
    }
}

/// The authorization scheme an access token came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer` (RFC 6750 §2.1), or a form body token.
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    DPoP,
}

/// The request's access token and its scheme: `Authorization: DPoP <token>` (RFC 9449 §7.1),
/// otherwise what [`bearer::access_token`] finds (RFC 6750 §2).
pub fn presented_token(r: &BearerRequest<'_>) -> Result<(Scheme, String), OAuthError> {
    if let [raw] = r.authorization
        && let Ok(value) = std::str::from_utf8(raw)
        && let Some((scheme, rest)) = value.trim().split_once(' ')
        && scheme.eq_ignore_ascii_case("dpop")
    {
        if r.form_token.is_some() || r.query_token {
            return Err(OAuthError::invalid_request(
                "the access token was sent by more than one method (Authorization header, form body, query); use exactly one",
            ));
        }
        let token = rest.trim_start_matches(' ');
        if !bearer::is_b64token(token) {
            return Err(OAuthError::invalid_request(
                "the DPoP token is malformed: `Authorization: DPoP <token>` carries one token68 (RFC 9449 §7.1)",
            ));
        }
        return Ok((Scheme::DPoP, token.to_string()));
    }
    bearer::access_token(r).map(|t| (Scheme::Bearer, t))
}

/// Why a resource refused a request on DPoP grounds (RFC 9449 §7.1, §7.2).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRefusal {
    /// `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`.
    pub code: ErrorCode,
    /// What went wrong.
    pub description: String,
    /// How to fix it.
    pub fix: String,
    /// With `use_dpop_nonce`: the nonce to send as `DPoP-Nonce`.
    pub nonce: Option<String>,
}

impl From<ResourceRefusal> for OAuthError {
    fn from(r: ResourceRefusal) -> Self {
        let mut e = OAuthError::new(r.code, r.description);
        e.dpop_nonce = r.nonce;
        e.dpop_challenge = true;
        e
    }
}

/// At a protected resource or userinfo (RFC 9449 §7): the token (presented with `scheme`) and
/// the token's binding (`bound`: its `cnf.jkt`) are checked against the request's proof.
/// `Ok(None)`: an unbound token sent as Bearer (DPoP plays no part); `Ok(Some(proof))`: a bound
/// token with a valid proof from its key, `ath` included.
///
/// Errors: a bound token sent as Bearer (§7.2), an unbound token sent as DPoP, or no proof:
/// `invalid_token`/`invalid_dpop_proof`; a bad proof: `invalid_dpop_proof` or `use_dpop_nonce`.
pub fn at_resource(
    p: &Provider,
    scheme: Scheme,
    token: &str,
    bound: Option<&str>,
    req: &ProofRequest<'_>,
    endpoint: &str,
    seen: &DpopSeen,
) -> Result<Option<Proof>, ResourceRefusal> {
    let refuse = |code, description: String, fix: &str| ResourceRefusal {
        code,
        description,
        fix: fix.to_string(),
        nonce: None,
    };
    match (scheme, bound) {
        (Scheme::Bearer, None) => Ok(None),
        (Scheme::Bearer, Some(jkt)) => Err(refuse(
            ErrorCode::InvalidToken,
            format!(
                "the access token is DPoP-bound (cnf.jkt `{jkt}`) but was sent as a Bearer token; a bound token is \
                 only accepted with Authorization: DPoP and a proof (RFC 9449 §7.2)"
            ),
            "send `Authorization: DPoP <token>` with a DPoP header signed by the bound key",
        )),
        (Scheme::DPoP, None) => Err(refuse(
            ErrorCode::InvalidToken,
            "the access token was sent with the DPoP scheme but is not DPoP-bound (it has no cnf.jkt); it was \
             issued without a DPoP proof at the token endpoint"
                .to_string(),
            "send an unbound token as `Authorization: Bearer <token>`, or request the token with a DPoP proof",
        )),
        (Scheme::DPoP, Some(jkt)) => {
            if !req.present() {
                return Err(refuse(
                    ErrorCode::InvalidDpopProof,
                    "Authorization: DPoP needs a DPoP header with a proof for this request (RFC 9449 §7.1)".into(),
                    "send a DPoP proof with htm, htu and ath for this request",
                ));
            }
            match check(p, req, Some(token), Some(jkt), endpoint, seen) {
                Ok(Some(proof)) => Ok(Some(proof)),
                Ok(None) => Err(refuse(
                    ErrorCode::InvalidDpopProof,
                    "no DPoP proof".into(),
                    "send a DPoP proof",
                )),
                Err(e) => Err(ResourceRefusal {
                    code: e.code,
                    fix: if e.code == ErrorCode::UseDpopNonce {
                        "retry with the nonce from the DPoP-Nonce response header".into()
                    } else {
                        "see the proof's checks in the request log".into()
                    },
                    description: e.description,
                    nonce: e.dpop_nonce,
                }),
            }
        }
    }
}

/// The `algs` of a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1): the accepted proof
/// algorithms, space-separated.
pub fn challenge_algs() -> String {
    ALGS.join(" ")
}
