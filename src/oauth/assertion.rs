//! Verifying a JWT assertion (RFC 7523 §3): the checks shared by client assertions
//! (`private_key_jwt`, `client_secret_jwt`; RFC 7523 §2.2, OIDC Core §9) and the JWT bearer
//! grant (RFC 7523 §2.1). The callers decide who the expected issuer is, which keys and
//! algorithms count, and which error code a failure becomes (`invalid_client` or
//! `invalid_grant`).
//!
//! Times (`exp`, `nbf`, `iat`) are stamped by the other party's clock, so they are compared with
//! [`crate::clock::Clock::peer_now`]: real time by default, the virtual clock when
//! `[server] assertion_time = "virtual"`. What was seen, skew included, is kept in an
//! [`AssertionReport`] for the request log.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use super::replay::{JtiSet, Replay};
use crate::clock::PeerTime;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The asymmetric JWS algorithms Latchkey verifies (RFC 7518 §3.1, RFC 8037), for
/// `private_key_jwt` and trusted issuers.
pub const ASYMMETRIC_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];
/// The HMAC algorithms of `client_secret_jwt` (RFC 7518 §3.2).
pub const HMAC_ALGS: &[&str] = &["HS256", "HS384", "HS512"];
/// Tolerance for clocks that disagree a little, in seconds: an `nbf` or `iat` up to this far in
/// the future, and an `exp` up to this far in the past, still pass.
pub const LEEWAY: i64 = 60;
/// Most keys tried for an assertion without `kid`.
const MAX_KEYS_TRIED: usize = 20;

/// Why an assertion was refused; the caller turns it into its RFC error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No key of that `kid` (a `jwks_uri` may be fetched again).
    UnknownKid(String),
    /// The replay set is full: refuse rather than forget a `jti` (docs/security.md, Bounds).
    Busy(String),
    /// Anything else, with a description naming the claim or header.
    Invalid(String),
}

impl Refusal {
    /// The description.
    pub fn message(&self) -> &str {
        match self {
            Refusal::UnknownKid(m) | Refusal::Busy(m) | Refusal::Invalid(m) => m,
        }
    }
}

fn invalid(m: impl Into<String>) -> Refusal {
    Refusal::Invalid(m.into())
}

/// An assertion split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct Peeked {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: String,
}

impl Peeked {
    /// Splits and decodes a compact JWS (RFC 7515 §7.1). Refuses `alg: none` and encrypted
    /// (five-part) tokens.
    pub fn parse(token: &str) -> Result<Peeked, Refusal> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        let [h, c, s] = parts.as_slice() else {
            return Err(invalid(format!(
                "the assertion is not a signed JWT (JWS compact serialization has 3 dot-separated parts, this has {})",
                parts.len()
            )));
        };
        let object = |part: &str, what: &str| -> Result<Map<String, Value>, Refusal> {
            let bytes = B64
                .decode(part.trim_end_matches('='))
                .map_err(|_| invalid(format!("the assertion's {what} is not base64url")))?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(invalid(format!("the assertion's {what} is not a JSON object"))),
            }
        };
        let header = object(h, "header")?;
        let claims = object(c, "payload")?;
        match header.get("alg").and_then(Value::as_str) {
            None => return Err(invalid("the assertion's header has no `alg`")),
            Some(a) if a.eq_ignore_ascii_case("none") => {
                return Err(invalid(
                    "the assertion is unsigned (`alg: none`); sign it (RFC 7523 §3: the JWT MUST be digitally signed or MACed)",
                ));
            }
            Some(_) => {}
        }
        if s.is_empty() {
            return Err(invalid("the assertion has an empty signature"));
        }
        Ok(Peeked {
            header,
            claims,
            signing_input: format!("{h}.{c}"),
            signature: (*s).to_string(),
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    /// The header's `kid`, when a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The signed part, `header.payload` as sent (RFC 7515 §5.2).
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    /// The signature as sent, base64url.
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

/// The keys an assertion may be verified with.
#[derive(Debug, Clone, Copy)]
pub enum VerifyKeys<'a> {
    /// A shared secret (`client_secret_jwt`).
    Secret(&'a [u8]),
    /// Public keys as JWKs (`private_key_jwt`, trusted issuers).
    Jwks(&'a [Map<String, Value>]),
}

/// What the assertion must say.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The required `iss`.
    pub issuer: &'a str,
    /// The required `sub`, when fixed (a client assertion's client id).
    pub subject: Option<&'a str>,
    /// Accepted `aud` values: one of them must be the `aud` string or in the `aud` array.
    pub audiences: &'a [String],
    /// Accepted `alg` values.
    pub algorithms: &'a [&'a str],
    /// Longest accepted lifetime, in seconds: `exp` at most this far after now (and after
    /// `iat`, when present).
    pub max_lifetime: i64,
    /// Whether `jti` is required (it is always checked for replay when present).
    pub jti_required: bool,
    /// The replay namespace (`client:ID`, `issuer:URL`).
    pub replay_scope: String,
    /// Now, on the chosen time basis (UNIX seconds).
    pub now: i64,
    /// Which time basis `now` is.
    pub basis: PeerTime,
}

/// What an assertion said and how it was judged, for the request log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssertionReport {
    /// `client_assertion` (client authentication) or `assertion` (JWT bearer grant).
    pub parameter: String,
    /// The client authentication method the assertion stands for (`private_key_jwt`,
    /// `client_secret_jwt`), or `jwt-bearer` for the grant.
    pub method: String,
    /// Header `alg`.
    pub alg: String,
    /// Header `kid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `aud` as sent (a string or an array).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub aud: Option<Value>,
    /// `jti`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `iat`, UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// `nbf`, UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// `exp`, UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The time the claims were checked against, UNIX seconds.
    pub now: i64,
    /// `real` or `virtual` (`[server] assertion_time`).
    pub time_basis: PeerTime,
    /// `iat` minus now, in seconds (positive: the sender's clock is ahead). Absent without `iat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_seconds: Option<i64>,
    /// Where the key came from: `client_secret`, `jwks`, `jwks_uri`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key_source: String,
    /// Whether it was accepted.
    pub accepted: bool,
    /// Why not, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl AssertionReport {
    /// A report of `peeked` (claims as sent, nothing judged yet).
    pub fn of(parameter: &str, method: &str, peeked: &Peeked, now: i64, basis: PeerTime) -> AssertionReport {
        let int = |n: &str| peeked.claims.get(n).and_then(Value::as_i64);
        AssertionReport {
            parameter: parameter.to_string(),
            method: method.to_string(),
            alg: peeked.alg().to_string(),
            kid: peeked.kid().map(str::to_string),
            iss: peeked.claim_str("iss").map(str::to_string),
            sub: peeked.claim_str("sub").map(str::to_string),
            aud: peeked.claims.get("aud").cloned(),
            jti: peeked.claim_str("jti").map(str::to_string),
            iat: int("iat"),
            nbf: int("nbf"),
            exp: int("exp"),
            now,
            time_basis: basis,
            skew_seconds: int("iat").map(|iat| iat.saturating_sub(now)),
            key_source: String::new(),
            accepted: false,
            refused: None,
        }
    }
}

/// Where the protocol layer leaves the report of the assertion a request carried, for the
/// HTTP layer to attach to the request log entry. Empty when the request had none.
#[derive(Debug, Default)]
pub struct AssertionSeen(Mutex<Option<Arc<AssertionReport>>>);

impl AssertionSeen {
    /// Records `report` (the last one wins).
    pub fn record(&self, report: AssertionReport) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(report));
    }

    /// The recorded report.
    pub fn take(&self) -> Option<Arc<AssertionReport>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Verifies the signature of `peeked` with `keys`, then its claims against `expect`, then
/// records its `jti` in `replay`. The algorithm must be among `expect.algorithms`.
pub fn verify(
    peeked: &Peeked,
    keys: VerifyKeys<'_>,
    expect: &Expectations<'_>,
    replay: &JtiSet,
) -> Result<(), Refusal> {
    let alg_name = peeked.alg();
    if !expect.algorithms.contains(&alg_name) {
        return Err(invalid(format!(
            "the assertion is signed with `{alg_name}`; accepted here: {}",
            expect.algorithms.join(", ")
        )));
    }
    let alg = Algorithm::from_str(alg_name).map_err(|_| invalid(format!("unknown JWS algorithm `{alg_name}`")))?;
    verify_signature(peeked, alg, keys)?;
    check_claims(peeked, expect)?;
    if let Some(jti) = peeked.claims.get("jti") {
        let jti = jti
            .as_str()
            .filter(|j| !j.is_empty())
            .ok_or_else(|| invalid("`jti` must be a non-empty string"))?;
        let exp = peeked.claims.get("exp").and_then(Value::as_i64).unwrap_or(expect.now);
        match replay.insert(&expect.replay_scope, jti, exp.saturating_add(LEEWAY), expect.now) {
            Ok(()) => {}
            Err(Replay::Seen) => {
                return Err(invalid(format!(
                    "`jti` `{jti}` was already used; an assertion is single-use within its lifetime (RFC 7523 §3, item 7)"
                )));
            }
            Err(Replay::Full) => {
                return Err(Refusal::Busy(
                    "too many assertions are live at once to remember their `jti` values; try again in a minute".into(),
                ));
            }
        }
    }
    Ok(())
}

fn verify_signature(peeked: &Peeked, alg: Algorithm, keys: VerifyKeys<'_>) -> Result<(), Refusal> {
    let check = |key: &DecodingKey| {
        jsonwebtoken::crypto::verify(&peeked.signature, peeked.signing_input.as_bytes(), key, alg).unwrap_or(false)
    };
    match keys {
        VerifyKeys::Secret(secret) => {
            if check(&DecodingKey::from_secret(secret)) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "the assertion's {} signature does not verify with the client's secret",
                    peeked.alg()
                )))
            }
        }
        VerifyKeys::Jwks(set) => {
            let usable = |jwk: &&Map<String, Value>| {
                jwk.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig")
                    && jwk.get("alg").and_then(Value::as_str).is_none_or(|a| a == peeked.alg())
            };
            let candidates: Vec<&Map<String, Value>> = match peeked.kid() {
                Some(kid) => {
                    let found: Vec<_> = set
                        .iter()
                        .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                        .collect();
                    if found.is_empty() {
                        return Err(Refusal::UnknownKid(format!(
                            "no key with kid `{kid}` among the {} registered key(s)",
                            set.len()
                        )));
                    }
                    found.into_iter().filter(usable).collect()
                }
                None => set.iter().filter(usable).take(MAX_KEYS_TRIED).collect(),
            };
            if candidates.is_empty() {
                return Err(invalid(format!(
                    "no registered key can verify a `{}` signature (check the keys' `kty`, `alg` and `use`)",
                    peeked.alg()
                )));
            }
            for jwk in &candidates {
                if let Some(key) = decoding_key(jwk)
                    && check(&key)
                {
                    return Ok(());
                }
            }
            Err(invalid(match peeked.kid() {
                Some(kid) => format!("the assertion's signature does not verify with key `{kid}`"),
                None => format!(
                    "the assertion's signature does not verify with any of the {} candidate key(s) (and it names no `kid`)",
                    candidates.len()
                ),
            }))
        }
    }
}

/// The verification key of a public JWK, or `None` when it is not one Latchkey can use.
pub fn decoding_key(jwk: &Map<String, Value>) -> Option<DecodingKey> {
    let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(Value::Object(jwk.clone())).ok()?;
    DecodingKey::from_jwk(&parsed).ok()
}

/// Checks that `jwk` is a usable public key (RFC 7517 §4): `Err` says why not.
pub fn check_public_jwk(jwk: &Map<String, Value>) -> Result<(), String> {
    if jwk.contains_key("d") || jwk.contains_key("k") {
        return Err(
            "holds private or secret key material (`d` or `k`); register the public key only (the private key stays with the client)"
                .into(),
        );
    }
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA" | "EC" | "OKP") => {}
        Some(other) => return Err(format!("has kty `{other}`; use RSA, EC or OKP")),
        None => return Err("has no `kty`".into()),
    }
    if let Some(a) = jwk.get("alg").and_then(Value::as_str)
        && !ASYMMETRIC_ALGS.contains(&a)
    {
        return Err(format!("has alg `{a}`; use one of {}", ASYMMETRIC_ALGS.join(", ")));
    }
    let parsed: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(Value::Object(jwk.clone())).map_err(|e| format!("is not a valid JWK ({e})"))?;
    DecodingKey::from_jwk(&parsed).map_err(|e| format!("is not a usable public key ({e})"))?;
    Ok(())
}

fn time_claim(peeked: &Peeked, name: &str) -> Result<Option<i64>, Refusal> {
    match peeked.claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| {
                invalid(format!(
                    "`{name}` must be a number of seconds since 1970 (RFC 7519 §2 NumericDate)"
                ))
            }),
    }
}

fn check_claims(peeked: &Peeked, expect: &Expectations<'_>) -> Result<(), Refusal> {
    let now = expect.now;
    let basis = expect.basis.as_str();
    match peeked.claim_str("iss") {
        Some(iss) if iss == expect.issuer => {}
        Some(iss) => {
            return Err(invalid(format!("`iss` is `{iss}`; it must be `{}`", expect.issuer)));
        }
        None => return Err(invalid(format!("`iss` is missing; it must be `{}`", expect.issuer))),
    }
    match (peeked.claim_str("sub"), expect.subject) {
        (None, _) => return Err(invalid("`sub` is missing (RFC 7523 §3, item 2)")),
        (Some(sub), Some(want)) if sub != want => {
            return Err(invalid(format!("`sub` is `{sub}`; it must be `{want}`")));
        }
        _ => {}
    }
    let aud_ok = match peeked.claims.get("aud") {
        Some(Value::String(a)) => expect.audiences.iter().any(|x| x == a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| expect.audiences.iter().any(|x| x == a)),
        Some(_) => return Err(invalid("`aud` must be a string or an array of strings")),
        None => return Err(invalid("`aud` is missing (RFC 7523 §3, item 3)")),
    };
    if !aud_ok {
        return Err(invalid(format!(
            "`aud` is {}; it must be (or contain) one of: {}",
            peeked.claims.get("aud").map(Value::to_string).unwrap_or_default(),
            expect.audiences.join(", ")
        )));
    }
    let exp = time_claim(peeked, "exp")?
        .ok_or_else(|| invalid("`exp` is missing; an assertion must expire (RFC 7523 §3, item 4)"))?;
    if exp.saturating_add(LEEWAY) <= now {
        return Err(invalid(format!(
            "the assertion expired at {exp}, {} s before now ({now}, {basis} time; {LEEWAY} s leeway)",
            now - exp
        )));
    }
    if exp.saturating_sub(now) > expect.max_lifetime {
        return Err(invalid(format!(
            "`exp` is {} s after now ({now}, {basis} time); at most {} s is accepted",
            exp - now,
            expect.max_lifetime
        )));
    }
    if let Some(nbf) = time_claim(peeked, "nbf")?
        && nbf > now.saturating_add(LEEWAY)
    {
        return Err(invalid(format!(
            "`nbf` is {nbf}, {} s after now ({now}, {basis} time): not yet valid ({LEEWAY} s leeway)",
            nbf - now
        )));
    }
    if let Some(iat) = time_claim(peeked, "iat")? {
        if iat > now.saturating_add(LEEWAY) {
            return Err(invalid(format!(
                "`iat` is {iat}, {} s in the future ({now}, {basis} time; {LEEWAY} s leeway): is the sender's clock ahead?",
                iat - now
            )));
        }
        if exp.saturating_sub(iat) > expect.max_lifetime {
            return Err(invalid(format!(
                "the assertion lives {} s (`exp` - `iat`); at most {} s is accepted",
                exp - iat,
                expect.max_lifetime
            )));
        }
    }
    if expect.jti_required && peeked.claim_str("jti").is_none_or(str::is_empty) {
        return Err(invalid(
            "`jti` is missing; it is required to detect replays (OIDC Core §9)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.c2ln",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        )
    }

    #[test]
    fn unsigned_and_malformed_assertions_are_refused() {
        let none = token(serde_json::json!({"alg": "none"}), serde_json::json!({}));
        assert!(Peeked::parse(&none).unwrap_err().message().contains("alg: none"));
        assert!(Peeked::parse("a.b").is_err());
        assert!(Peeked::parse("!!.!!.!!").is_err());
    }

    fn expect(now: i64) -> Expectations<'static> {
        static AUD: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        Expectations {
            issuer: "c",
            subject: Some("c"),
            audiences: AUD.get_or_init(|| vec!["http://as/token".to_string()]),
            algorithms: HMAC_ALGS,
            max_lifetime: 600,
            jti_required: true,
            replay_scope: "client:c".into(),
            now,
            basis: PeerTime::Real,
        }
    }

    #[test]
    fn claims_are_checked_one_by_one() {
        let ok = serde_json::json!({"iss": "c", "sub": "c", "aud": ["x", "http://as/token"], "exp": 1_100, "jti": "1"});
        let p = Peeked::parse(&token(serde_json::json!({"alg": "HS256"}), ok)).unwrap();
        assert_eq!(check_claims(&p, &expect(1_000)), Ok(()));
        for (claims, needle) in [
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "http://as/token", "jti": "1"}),
                "`exp` is missing",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "http://as/token", "exp": 900, "jti": "1"}),
                "expired",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "http://as/token", "exp": 9_000, "jti": "1"}),
                "at most 600",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "other", "exp": 1_100, "jti": "1"}),
                "`aud` is",
            ),
            (
                serde_json::json!({"iss": "d", "sub": "c", "aud": "http://as/token", "exp": 1_100, "jti": "1"}),
                "`iss` is `d`",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "d", "aud": "http://as/token", "exp": 1_100, "jti": "1"}),
                "`sub` is `d`",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "http://as/token", "exp": 1_100}),
                "`jti` is missing",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "http://as/token", "exp": 1_100, "jti": "1", "nbf": 1_500}),
                "`nbf`",
            ),
        ] {
            let p = Peeked::parse(&token(serde_json::json!({"alg": "HS256"}), claims)).unwrap();
            let e = check_claims(&p, &expect(1_000)).unwrap_err();
            assert!(e.message().contains(needle), "{needle}: {e:?}");
        }
    }
}
