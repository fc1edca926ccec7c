//! Validating one DPoP proof (RFC 9449 §4.3), explaining every check.
//!
//! [`validate`] runs every check it can (a failed `htm` does not hide a stale `iat`), records
//! each in a [`ProofReport`] row, and returns the key's JWK thumbprint (RFC 7638) or a
//! [`ProofError`] carrying the report. The report is what the request log shows.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::nonce::Nonces;
use crate::clock::PeerTime;
use crate::oauth::assertion::{Peeked, decoding_key};
use crate::oauth::replay::{JtiSet, Replay};

/// The proof's JOSE header `typ` (RFC 9449 §4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// The JWS algorithms accepted in proofs (advertised as `dpop_signing_alg_values_supported`,
/// RFC 9449 §5.1): asymmetric only (§4.3 item 6: never `none` nor a MAC).
pub const ALGS: &[&str] = &[
    "ES256", "ES384", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
];
/// How long after its `iat` a proof is accepted, in seconds (RFC 9449 §11.1 leaves the window
/// to the server; its `jti` is remembered this long).
pub const MAX_AGE: i64 = 300;
/// How far in the future a proof's `iat` may be (a client clock slightly ahead), in seconds.
pub const FUTURE_LEEWAY: i64 = 60;
/// The largest proof read, in bytes (a proof carries one public key; an RSA-4096 one is about
/// 1.5 KiB).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// What a proof is checked against.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// The request's method (`htm`, RFC 9449 §4.3 item 8).
    pub htm: &'a str,
    /// The URLs of the endpoint as this server is reached (the front channel and, when set,
    /// the back channel), normalised ([`normalize_htu`]): `htu` must be one of them.
    pub htu: &'a [String],
    /// At a resource (userinfo, the protected resources): the access token, whose SHA-256 must
    /// be `ath` (§4.3 item 11, §7).
    pub access_token: Option<&'a str>,
    /// The thumbprint the proof's key must have (a bound refresh token or access token, a code
    /// bound with `dpop_jkt`); checked as the `jkt` row.
    pub jkt: Option<&'a str>,
    /// Whether the server requires a nonce it issued (`[server] use_dpop_nonce`, §8, §9).
    pub require_nonce: bool,
    /// Now, on the [`PeerTime`] basis (UNIX seconds): proofs are stamped by the client's clock.
    pub now: i64,
    /// Which time basis `now` is (`[server] assertion_time`).
    pub basis: PeerTime,
    /// Now on the server's clock (nonce lifetimes).
    pub server_now: i64,
}

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofCheckResult {
    /// Checked and passed.
    Passed,
    /// Checked and failed.
    Failed,
    /// Not checked (not applicable, or its input is missing); the explanation says why.
    Skipped,
}

/// One check of a proof.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProofCheck {
    /// `header`, `typ`, `alg`, `jwk`, `signature`, `htm`, `htu`, `iat`, `jti`, `nonce`, `ath`,
    /// `jkt`.
    pub check: String,
    /// Its outcome.
    pub result: ProofCheckResult,
    /// What was expected (any JSON; `null` when nothing is compared).
    #[schema(value_type = Object)]
    pub expected: Value,
    /// What the proof has.
    #[schema(value_type = Object)]
    pub actual: Value,
    /// One sentence: what was compared and what happened.
    pub explanation: String,
    /// How to fix it, when failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The error a refused proof is answered with (RFC 9449 §5, §7.1, §8, §12.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofErrorCode {
    /// `invalid_dpop_proof`: the proof is missing, malformed or wrong.
    InvalidDpopProof,
    /// `use_dpop_nonce`: the proof lacks the nonce the server requires, or has a stale one;
    /// the response's `DPoP-Nonce` header carries a fresh one.
    UseDpopNonce,
}

impl ProofErrorCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ProofErrorCode::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

/// A proof decoded, with every check, for the request log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProofReport {
    /// The proof's JOSE header as sent (`typ`, `alg`, `jwk`).
    #[schema(value_type = Object)]
    pub header: Value,
    /// The proof's claims as sent (`jti`, `htm`, `htu`, `iat`, `nonce`, `ath`).
    #[schema(value_type = Object)]
    pub claims: Value,
    /// The JWK SHA-256 thumbprint of the proof's key (RFC 7638), when the key was usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// The time `iat` was checked against, UNIX seconds.
    pub now: i64,
    /// `real` or `virtual` (`[server] assertion_time`).
    pub time_basis: PeerTime,
    /// `iat` minus now, in seconds (positive: the client's clock is ahead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_seconds: Option<i64>,
    /// The checks, in order.
    pub checks: Vec<ProofCheck>,
    /// Whether the proof was accepted.
    pub accepted: bool,
    /// The error, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProofErrorCode>,
    /// Why, when refused: the first failed check's explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Where the proof was checked: `token`, `par`, `userinfo` or `resource`.
    pub endpoint: String,
}

impl ProofReport {
    fn row(&mut self, check: &str, result: ProofCheckResult, expected: Value, actual: Value, explanation: String) {
        self.checks.push(ProofCheck {
            check: check.to_string(),
            result,
            expected,
            actual,
            explanation,
            fix: None,
        });
    }

    fn pass(&mut self, check: &str, expected: Value, actual: Value, explanation: impl Into<String>) {
        self.row(check, ProofCheckResult::Passed, expected, actual, explanation.into());
    }

    fn fail(&mut self, check: &str, expected: Value, actual: Value, explanation: impl Into<String>, fix: &str) {
        self.row(check, ProofCheckResult::Failed, expected, actual, explanation.into());
        if let Some(r) = self.checks.last_mut() {
            r.fix = Some(fix.to_string());
        }
    }

    fn skip(&mut self, check: &str, explanation: impl Into<String>) {
        self.row(
            check,
            ProofCheckResult::Skipped,
            Value::Null,
            Value::Null,
            explanation.into(),
        );
    }

    /// The first failed row.
    pub fn first_failure(&self) -> Option<&ProofCheck> {
        self.checks.iter().find(|c| c.result == ProofCheckResult::Failed)
    }
}

/// A refused proof: the error and the report with every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofError {
    /// `invalid_dpop_proof` or `use_dpop_nonce`.
    pub code: ProofErrorCode,
    /// What went wrong (the first failed check).
    pub description: String,
    /// With `use_dpop_nonce`: the nonce to use (sent as `DPoP-Nonce`).
    pub nonce: Option<String>,
    /// Every check.
    pub report: ProofReport,
}

/// An accepted proof.
#[derive(Debug, Clone, PartialEq)]
pub struct Proof {
    /// The JWK SHA-256 thumbprint of its key (RFC 7638), base64url: what tokens are bound to
    /// (`cnf.jkt`, RFC 9449 §6.1).
    pub jkt: String,
    /// Every check.
    pub report: ProofReport,
}

/// `htu` normalised for comparison (RFC 9449 §4.3 item 9, RFC 3986 §6.2.2, §6.2.3): scheme and
/// host lower-cased, the default port dropped, an empty path made `/`, query and fragment
/// removed. `None` for something that is not an absolute http(s) URL.
pub fn normalize_htu(raw: &str) -> Option<String> {
    let mut u = url::Url::parse(raw).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    u.set_query(None);
    u.set_fragment(None);
    Some(u.to_string())
}

/// The JWK SHA-256 thumbprint (RFC 7638 §3) of a public JWK, base64url without padding: the
/// required members of its `kty` in lexicographic order, no white space. `None` when a
/// required member is missing or `kty` is not EC, RSA or OKP.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let canonical = match s("kty")? {
        "EC" => json!({"crv": s("crv")?, "kty": "EC", "x": s("x")?, "y": s("y")?}),
        "RSA" => json!({"e": s("e")?, "kty": "RSA", "n": s("n")?}),
        "OKP" => json!({"crv": s("crv")?, "kty": "OKP", "x": s("x")?}),
        _ => return None,
    };
    // serde_json's maps keep keys sorted (no `preserve_order` feature), which is RFC 7638's
    // lexicographic order for these ASCII names.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.to_string().as_bytes());
    Some(B64.encode(digest.as_ref()))
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
pub fn ath_of(access_token: &str) -> String {
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

/// Whether `s` looks like a JWK SHA-256 thumbprint (43 base64url characters), for `dpop_jkt`.
pub fn is_thumbprint(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

const NOT_READ: &str = "not checked: the proof could not be read";

/// Validates the proof `raw` (the `DPoP` header's value) against `expect` (RFC 9449 §4.3,
/// items 1 to 12, plus the nonce of §8 and the binding of §5 and §10). The proof's `jti` is
/// recorded in `jtis` (namespace `dpop:<jkt>`, kept [`MAX_AGE`] plus [`FUTURE_LEEWAY`]
/// seconds) only when every other check passed.
///
/// Errors: [`ProofErrorCode::UseDpopNonce`] when the nonce is the only problem (missing or
/// stale), with a fresh nonce; [`ProofErrorCode::InvalidDpopProof`] otherwise.
pub fn validate(
    raw: &str,
    expect: &Expect<'_>,
    jtis: &JtiSet,
    nonces: &Nonces,
    endpoint: &str,
) -> Result<Proof, Box<ProofError>> {
    let mut r = ProofReport {
        now: expect.now,
        time_basis: expect.basis,
        endpoint: endpoint.to_string(),
        ..ProofReport::default()
    };
    let peeked = if raw.len() > MAX_PROOF_BYTES {
        r.fail(
            "header",
            json!(format!("at most {MAX_PROOF_BYTES} bytes")),
            json!(raw.len()),
            format!(
                "the DPoP proof is {} bytes; at most {MAX_PROOF_BYTES} are read",
                raw.len()
            ),
            "send one compact JWS signed with the key, with only the public key in `jwk`",
        );
        None
    } else {
        match Peeked::parse(raw) {
            Ok(p) => {
                r.pass(
                    "header",
                    json!("one JWS compact serialization"),
                    json!("JWS"),
                    "the DPoP header holds one signed JWT",
                );
                Some(p)
            }
            Err(e) => {
                r.fail(
                    "header",
                    json!("one JWS compact serialization"),
                    Value::Null,
                    e.message().replace("the assertion", "the DPoP proof"),
                    "send a signed JWT (header.payload.signature, base64url) in the DPoP header (RFC 9449 §4.2)",
                );
                None
            }
        }
    };
    let Some(peeked) = peeked else {
        for c in [
            "typ",
            "alg",
            "jwk",
            "signature",
            "htm",
            "htu",
            "iat",
            "jti",
            "nonce",
            "ath",
            "jkt",
        ] {
            r.skip(c, NOT_READ);
        }
        return Err(refuse(r, nonces, expect));
    };
    r.header = Value::Object(peeked.header.clone());
    r.claims = Value::Object(peeked.claims.clone());
    check_typ(&mut r, &peeked);
    let alg = check_alg(&mut r, &peeked);
    let jwk = check_jwk(&mut r, &peeked);
    let jkt = jwk.as_ref().and_then(thumbprint);
    r.jkt = jkt.clone();
    match (&alg, &jwk) {
        (Some(alg), Some(jwk)) => {
            let ok = decoding_key(jwk).is_some_and(|key| {
                jsonwebtoken::crypto::verify(peeked.signature(), peeked.signing_input().as_bytes(), &key, *alg)
                    .unwrap_or(false)
            });
            if ok {
                r.pass(
                    "signature",
                    Value::Null,
                    Value::Null,
                    "the signature verifies with the key in the header's jwk",
                );
            } else {
                r.fail(
                    "signature",
                    json!("a signature by the jwk's private key"),
                    json!(peeked.alg()),
                    format!(
                        "the {} signature does not verify with the public key in the header's jwk",
                        peeked.alg()
                    ),
                    "sign the proof with the private key whose public half is in `jwk`, over the exact header and payload sent",
                );
            }
        }
        _ => r.skip("signature", "not checked: no usable alg and jwk"),
    }
    check_htm(&mut r, &peeked, expect);
    check_htu(&mut r, &peeked, expect);
    check_iat(&mut r, &peeked, expect);
    let jti = peeked.claim_str("jti").filter(|j| !j.is_empty()).map(str::to_string);
    match &jti {
        Some(j) if j.len() <= 256 => r.pass(
            "jti",
            json!("a unique identifier"),
            json!(j),
            "present (checked for replay once every other check passed)",
        ),
        Some(j) => r.fail(
            "jti",
            json!("at most 256 characters"),
            json!(j.len()),
            "`jti` is longer than 256 characters",
            "use a random identifier of about 16 bytes, base64url",
        ),
        None => r.fail(
            "jti",
            json!("a unique identifier"),
            Value::Null,
            "`jti` is missing (RFC 9449 §4.2: every proof has a unique identifier)",
            "put a fresh random `jti` in every proof",
        ),
    }
    let nonce_ok = check_nonce(&mut r, &peeked, expect, nonces);
    check_ath(&mut r, &peeked, expect);
    match (expect.jkt, &jkt) {
        (None, _) => r.skip("jkt", "no key binding to compare with here"),
        (Some(want), Some(got)) if want == got => r.pass(
            "jkt",
            json!(want),
            json!(got),
            "the proof's key is the one the token or code is bound to",
        ),
        (Some(want), got) => r.fail(
            "jkt",
            json!(want),
            json!(got),
            "the proof is signed with another key than the one the token or code is bound to",
            "sign proofs with the same key pair for the whole grant (the one whose thumbprint is expected)",
        ),
    }
    let others_failed = r
        .checks
        .iter()
        .any(|c| c.result == ProofCheckResult::Failed && c.check != "nonce");
    if others_failed || !nonce_ok {
        return Err(refuse(r, nonces, expect));
    }
    // Every check passed: only now is the `jti` spent (a refused proof can be fixed and resent).
    let (Some(jti), Some(jkt)) = (jti, jkt) else {
        return Err(refuse(r, nonces, expect));
    };
    let iat = peeked.claims.get("iat").and_then(Value::as_i64).unwrap_or(expect.now);
    let until = iat.max(expect.now).saturating_add(MAX_AGE + FUTURE_LEEWAY);
    match jtis.insert(&format!("dpop:{jkt}"), &jti, until, expect.now) {
        Ok(()) => {}
        Err(Replay::Seen) => {
            if let Some(row) = r.checks.iter_mut().find(|c| c.check == "jti") {
                row.result = ProofCheckResult::Failed;
                row.explanation = format!(
                    "`jti` `{jti}` was already used by a proof of this key within the last {MAX_AGE} s: a proof is single-use (RFC 9449 §11.1)"
                );
                row.fix = Some("make a new proof, with a fresh `jti`, for every request".into());
            }
            return Err(refuse(r, nonces, expect));
        }
        Err(Replay::Full) => {
            if let Some(row) = r.checks.iter_mut().find(|c| c.check == "jti") {
                row.result = ProofCheckResult::Failed;
                row.explanation =
                    "too many proofs are live at once to remember their `jti` values; refused rather than forgotten"
                        .into();
                row.fix = Some("try again in a minute".into());
            }
            return Err(refuse(r, nonces, expect));
        }
    }
    r.accepted = true;
    Ok(Proof { jkt, report: r })
}

fn refuse(mut r: ProofReport, nonces: &Nonces, expect: &Expect<'_>) -> Box<ProofError> {
    let first = r.first_failure().cloned();
    let only_nonce = first.as_ref().is_some_and(|c| c.check == "nonce")
        && r.checks
            .iter()
            .filter(|c| c.result == ProofCheckResult::Failed)
            .all(|c| c.check == "nonce");
    let code = if only_nonce {
        ProofErrorCode::UseDpopNonce
    } else {
        ProofErrorCode::InvalidDpopProof
    };
    let description = match &first {
        Some(c) => format!("DPoP proof {}: {}", c.check, c.explanation),
        None => "the DPoP proof was refused".to_string(),
    };
    r.accepted = false;
    r.error = Some(code);
    r.error_description = Some(description.clone());
    let nonce = expect.require_nonce.then(|| nonces.current(expect.server_now));
    Box::new(ProofError {
        code,
        description,
        nonce,
        report: r,
    })
}

fn check_typ(r: &mut ProofReport, p: &Peeked) {
    match p.header.get("typ").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case(PROOF_TYP) => {
            r.pass("typ", json!(PROOF_TYP), json!(t), "the header's typ is dpop+jwt");
        }
        other => r.fail(
            "typ",
            json!(PROOF_TYP),
            json!(other),
            match other {
                Some(t) => format!("the header's typ is `{t}`; a DPoP proof has typ `dpop+jwt` (RFC 9449 §4.2)"),
                None => "the header has no typ; a DPoP proof has typ `dpop+jwt` (RFC 9449 §4.2)".to_string(),
            },
            "set the JOSE header's typ to dpop+jwt",
        ),
    }
}

fn check_alg(r: &mut ProofReport, p: &Peeked) -> Option<Algorithm> {
    let alg = p.alg();
    if ALGS.contains(&alg)
        && let Ok(a) = Algorithm::from_str(alg)
    {
        r.pass(
            "alg",
            json!(ALGS.join(" ")),
            json!(alg),
            format!("{alg} is an accepted asymmetric algorithm"),
        );
        return Some(a);
    }
    let why = if alg.starts_with("HS") {
        format!("`{alg}` is a MAC; a DPoP proof is signed with an asymmetric key (RFC 9449 §4.3 item 6)")
    } else {
        format!("`{alg}` is not accepted; accepted: {}", ALGS.join(", "))
    };
    r.fail(
        "alg",
        json!(ALGS.join(" ")),
        json!(alg),
        why,
        "sign with an asymmetric algorithm this server advertises in dpop_signing_alg_values_supported",
    );
    None
}

fn check_jwk(r: &mut ProofReport, p: &Peeked) -> Option<Map<String, Value>> {
    let expected = json!("a public JWK (EC, RSA or OKP) without private parts");
    let Some(jwk) = p.header.get("jwk") else {
        r.fail(
            "jwk",
            expected,
            Value::Null,
            "the header has no `jwk`; a DPoP proof carries its public key (RFC 9449 §4.2)",
            "put the public key as a JWK in the JOSE header's jwk",
        );
        return None;
    };
    let Some(map) = jwk.as_object() else {
        r.fail(
            "jwk",
            expected,
            json!("not an object"),
            "the header's `jwk` is not a JSON object",
            "put the public key as a JWK object in the JOSE header's jwk",
        );
        return None;
    };
    let private: Vec<&str> = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .collect();
    if !private.is_empty() {
        r.fail(
            "jwk",
            expected,
            json!({"kty": map.get("kty"), "private_members": private}),
            format!(
                "the header's jwk holds private key material ({}): it must be the public key only (RFC 9449 §4.3 item 7)",
                private.join(", ")
            ),
            "send only the public members (kty, crv, x, y or kty, n, e); the private key never leaves the client",
        );
        return None;
    }
    let kty = map.get("kty").and_then(Value::as_str);
    let usable = decoding_key(map).is_some() && thumbprint(map).is_some();
    if !usable {
        r.fail(
            "jwk",
            expected,
            json!({"kty": kty}),
            "the header's jwk is not a usable public key (EC P-256/P-384, RSA or Ed25519 with every required member)",
            "send the full public JWK of the signing key",
        );
        return None;
    }
    let alg_family_ok = match (kty, p.alg()) {
        (Some("EC"), a) => a.starts_with("ES"),
        (Some("RSA"), a) => a.starts_with("RS") || a.starts_with("PS"),
        (Some("OKP"), a) => a == "EdDSA",
        _ => false,
    };
    if !alg_family_ok && ALGS.contains(&p.alg()) {
        r.fail(
            "jwk",
            json!(format!("a key for {}", p.alg())),
            json!({"kty": kty}),
            format!(
                "the jwk is a {} key, which cannot make {} signatures",
                kty.unwrap_or("?"),
                p.alg()
            ),
            "make alg match the key type",
        );
        return None;
    }
    r.pass(
        "jwk",
        expected,
        json!({"kty": kty, "crv": map.get("crv")}),
        "a public key, no private parts",
    );
    Some(map.clone())
}

fn check_htm(r: &mut ProofReport, p: &Peeked, e: &Expect<'_>) {
    match p.claim_str("htm") {
        Some(m) if m == e.htm => r.pass("htm", json!(e.htm), json!(m), "the proof is for this request's method"),
        other => r.fail(
            "htm",
            json!(e.htm),
            json!(other),
            match other {
                Some(m) => format!(
                    "`htm` is `{m}` but the request is {}; methods are compared exactly (RFC 9449 §4.3 item 8)",
                    e.htm
                ),
                None => "`htm` is missing (RFC 9449 §4.2)".to_string(),
            },
            "make a proof per request with htm set to the request's method, upper case",
        ),
    }
}

fn check_htu(r: &mut ProofReport, p: &Peeked, e: &Expect<'_>) {
    let expected = match e.htu {
        [one] => json!(one),
        many => json!(many),
    };
    let Some(raw) = p.claim_str("htu") else {
        r.fail(
            "htu",
            expected,
            Value::Null,
            "`htu` is missing (RFC 9449 §4.2)",
            "set htu to the URL the request is sent to, without query or fragment",
        );
        return;
    };
    match normalize_htu(raw) {
        Some(n) if e.htu.contains(&n) => r.pass(
            "htu",
            expected,
            json!(raw),
            "the proof is for this URL (compared without query and fragment, scheme and host case-insensitive, default port dropped)",
        ),
        Some(n) => {
            let same_path = e
                .htu
                .iter()
                .filter_map(|u| url::Url::parse(u).ok())
                .any(|u| url::Url::parse(&n).is_ok_and(|m| m.path() == u.path()));
            let why = if same_path {
                format!(
                    "`htu` is `{raw}`, which names this endpoint on another origin than Latchkey's issuer; behind a proxy or \
                     with another host name, start Latchkey with --issuer set to the URL clients use"
                )
            } else {
                format!("`htu` is `{raw}`, which is not this endpoint's URL")
            };
            r.fail(
                "htu",
                expected,
                json!(raw),
                why,
                "set htu to the endpoint URL as discovery advertises it",
            );
        }
        None => r.fail(
            "htu",
            expected,
            json!(raw),
            format!("`htu` is `{raw}`, which is not an absolute http(s) URL"),
            "set htu to the endpoint URL as discovery advertises it",
        ),
    }
}

fn check_iat(r: &mut ProofReport, p: &Peeked, e: &Expect<'_>) {
    let basis = e.basis.as_str();
    let iat = p.claims.get("iat").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    });
    let expected = json!(format!(
        "within {MAX_AGE} s before and {FUTURE_LEEWAY} s after {} ({basis} time)",
        e.now
    ));
    let Some(iat) = iat else {
        r.fail(
            "iat",
            expected,
            p.claims.get("iat").cloned().unwrap_or(Value::Null),
            "`iat` is missing or not a number of seconds since 1970 (RFC 9449 §4.2)",
            "stamp every proof with the current time in seconds",
        );
        return;
    };
    let skew = iat.saturating_sub(e.now);
    r.skew_seconds = Some(skew);
    if skew > FUTURE_LEEWAY {
        r.fail(
            "iat",
            expected,
            json!(iat),
            format!(
                "`iat` is {skew} s in the future ({basis} time; {FUTURE_LEEWAY} s leeway): is the client's clock ahead?"
            ),
            "correct the client's clock, or set [server] assertion_time to match how the client stamps proofs",
        );
    } else if -skew > MAX_AGE {
        r.fail(
            "iat",
            expected,
            json!(iat),
            format!(
                "`iat` is {} s in the past; proofs are accepted for {MAX_AGE} s ({basis} time): a stale proof, or the client's clock is behind",
                -skew
            ),
            "make a fresh proof for every request; check the client's clock",
        );
    } else {
        r.pass(
            "iat",
            expected,
            json!(iat),
            format!("issued {} s from now ({basis} time)", skew),
        );
    }
}

fn check_nonce(r: &mut ProofReport, p: &Peeked, e: &Expect<'_>, nonces: &Nonces) -> bool {
    let sent = p.claim_str("nonce");
    if !e.require_nonce {
        match sent {
            Some(n) => r.pass(
                "nonce",
                Value::Null,
                json!(n),
                "a nonce was sent; this server does not require one ([server] use_dpop_nonce = false)",
            ),
            None => r.skip(
                "nonce",
                "this server does not require a nonce ([server] use_dpop_nonce = false)",
            ),
        }
        return true;
    }
    let expected = json!("the nonce from the latest DPoP-Nonce header");
    match sent {
        Some(n) if nonces.accepts(n, e.server_now) => {
            r.pass(
                "nonce",
                expected,
                json!(n),
                "the nonce is one this server issued and is still current",
            );
            true
        }
        Some(n) => {
            r.fail(
                "nonce",
                expected,
                json!(n),
                "the nonce is stale or was not issued by this server; the DPoP-Nonce header of this response has a fresh one (RFC 9449 §8)",
                "retry with the nonce from the DPoP-Nonce response header",
            );
            false
        }
        None => {
            r.fail(
                "nonce",
                expected,
                Value::Null,
                "this server requires a nonce in DPoP proofs ([server] use_dpop_nonce); the DPoP-Nonce header of this response has one (RFC 9449 §8)",
                "retry with the nonce from the DPoP-Nonce response header",
            );
            false
        }
    }
}

fn check_ath(r: &mut ProofReport, p: &Peeked, e: &Expect<'_>) {
    let sent = p.claim_str("ath");
    match e.access_token {
        None => r.skip("ath", "no access token accompanies a proof at this endpoint"),
        Some(token) => {
            let want = ath_of(token);
            match sent {
                Some(a) if a == want => r.pass(
                    "ath",
                    json!(want),
                    json!(a),
                    "`ath` is the SHA-256 of the access token sent with it",
                ),
                Some(a) => r.fail(
                    "ath",
                    json!(want),
                    json!(a),
                    "`ath` is not the SHA-256 hash of the access token this request carries (RFC 9449 §4.3 item 11)",
                    "set ath to base64url(SHA-256(access token)) of the token in the Authorization header",
                ),
                None => r.fail(
                    "ath",
                    json!(want),
                    Value::Null,
                    "`ath` is missing; a proof sent with an access token carries its hash (RFC 9449 §4.2, §7)",
                    "set ath to base64url(SHA-256(access token))",
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_normalised() {
        assert_eq!(
            normalize_htu("HTTP://LocalHost:80/token?x=1#f").as_deref(),
            Some("http://localhost/token")
        );
        assert_eq!(
            normalize_htu("https://as.example:443").as_deref(),
            Some("https://as.example/")
        );
        assert_eq!(
            normalize_htu("http://127.0.0.1:8000/token").as_deref(),
            Some("http://127.0.0.1:8000/token")
        );
        assert!(normalize_htu("urn:x").is_none());
        assert!(normalize_htu("/token").is_none());
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let jwk: Map<String, Value> = serde_json::from_value(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert!(is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
        assert!(!is_thumbprint("short"));
    }

    #[test]
    fn ath_is_base64url_sha256() {
        // RFC 9449 §7.1's example token and ath.
        assert_eq!(
            ath_of("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
