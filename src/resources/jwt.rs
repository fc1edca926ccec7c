//! JWT mode: the API verifies the token itself (RFC 9068 §4, RFC 8725) against the JWKS it
//! holds, then reads the claims. Signature verification is jsonwebtoken's
//! (`jsonwebtoken::crypto::verify`); the time claims are compared here with the API's clock
//! (Latchkey's clock plus `clock_offset`), never the system time.
//!
//! Revocation: an API that validates JWTs locally cannot know that a token was revoked, so in
//! this mode the `revocation` row is informational (`skipped`), saying what Latchkey recorded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};

use super::jwks::KidLookup;
use super::profiles::{IatPolicy, KeyWithoutKid, Policy, ScopeClaim};
use super::verdict::{Check, CheckName, TokenSummary};
use super::{Compiled, Outcome, api_now};
use crate::model::SigningAlg;
use crate::provider::Provider;
use crate::store::{TokenBrief, TokenKind, TokenStatus};

/// What a token string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Three base64url parts with a JSON header carrying `alg` (RFC 7515 §7.1).
    Jws,
    /// Five parts: an encrypted JWT (RFC 7516 §7.1).
    Jwe,
    /// One printable string without dots: a reference token.
    Opaque,
    /// Anything else.
    Other,
}

impl Format {
    /// The name shown in the verdict.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jws => "jws",
            Format::Jwe => "jwe",
            Format::Opaque => "opaque",
            Format::Other => "other",
        }
    }
}

/// A JWS split and decoded (not verified).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The decoded header.
    pub header: Map<String, Value>,
    /// The decoded payload, when it is a JSON object.
    pub payload: Option<Map<String, Value>>,
    /// `header.payload`, the signing input.
    pub signing_input: String,
    /// The signature part (base64url).
    pub signature: String,
}

fn decode_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = B64.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Classifies and (for a JWS) decodes `token`.
pub fn parse(token: &str) -> (Format, Option<Parsed>) {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [h, pl, sig] => match decode_json(h) {
            Some(header) if header.get("alg").is_some_and(Value::is_string) => (
                Format::Jws,
                Some(Parsed {
                    header,
                    payload: decode_json(pl),
                    signing_input: format!("{h}.{pl}"),
                    signature: (*sig).to_string(),
                }),
            ),
            _ => (Format::Other, None),
        },
        [_, _, _, _, _] => (Format::Jwe, None),
        [one] if !one.is_empty() && one.bytes().all(|b| b.is_ascii_graphic()) => (Format::Opaque, None),
        _ => (Format::Other, None),
    }
}

/// The `format` row for JWT mode (a JWS is needed).
pub fn format_row(format: Format, jwt_needed: bool) -> Check {
    let expected = if jwt_needed {
        json!("jws")
    } else {
        json!(["jws", "opaque"])
    };
    let actual = json!(format.as_str());
    match format {
        Format::Jws => Check::passed(
            CheckName::Format,
            expected,
            actual,
            "a signed JWT (JWS compact serialization: header.payload.signature)",
        ),
        Format::Opaque if !jwt_needed => Check::passed(
            CheckName::Format,
            expected,
            actual,
            "an opaque (reference) token: only introspection can say what it stands for",
        ),
        Format::Opaque => Check::failed(
            CheckName::Format,
            expected,
            actual,
            "an opaque (reference) token: an API that verifies JWTs locally cannot read it",
            "issue JWT access tokens (the client's or [server] access_token_format = \"jwt\"), or set the resource's \
             validation = \"introspection\"",
        ),
        Format::Jwe => Check::failed(
            CheckName::Format,
            expected,
            actual,
            "an encrypted JWT (JWE, five parts): this API expects a signed JWT",
            "send the signed access token, not an encrypted one",
        ),
        Format::Other => Check::failed(
            CheckName::Format,
            expected,
            actual,
            "not a token this API can read: neither a JWS (three base64url parts with a JSON header) nor an opaque string",
            "send the access_token value from the token response as is (no quotes, no `Bearer` twice, not truncated)",
        ),
    }
}

/// The `format` row's refusal of a JWS whose `crit` header names extensions, when the policy
/// refuses unknown ones: the simulated API understands no JWS extension (RFC 7515 §4.1.11 says
/// a recipient must then refuse the token).
fn crit_row(policy: &Policy, header: &Map<String, Value>) -> Option<Check> {
    let crit = header.get("crit")?;
    if !policy.reject_unknown_crit {
        return None;
    }
    let names: Vec<&str> = crit
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(Check::failed(
        CheckName::Format,
        json!({"crit": []}),
        json!({"crit": crit}),
        if names.is_empty() {
            "the JWS header has a crit parameter that is not a list of extension names (RFC 7515 §4.1.11)".to_string()
        } else {
            format!(
                "the JWS header marks the extension(s) {} as critical (crit), and this API understands none: RFC \
                 7515 §4.1.11 requires it to refuse the token",
                names.join(", ")
            )
        },
        "send the token exactly as Latchkey issued it (Latchkey never sets crit)",
    ))
}

/// The `format` row's refusal of a claims set in which a claim the policy wants as a string
/// (`sub`, `jti`: RFC 7519 §4.1.2, §4.1.7) is something else.
fn string_claims_row(policy: &Policy, claims: Option<&Map<String, Value>>) -> Option<Check> {
    let claims = claims?;
    let (name, value) = policy
        .string_claims
        .iter()
        .find_map(|n| claims.get(n).filter(|v| !v.is_string()).map(|v| (n, v)))?;
    Some(Check::failed(
        CheckName::Format,
        json!({ name.as_str(): "a string" }),
        json!({ name.as_str(): value }),
        format!("the claim {name} is {value}, not a string (RFC 7519 §4.1): this API refuses such a JWT as malformed"),
        format!("issue the token with {name} as a string"),
    ))
}

/// What kind of token it is, from Latchkey's record or (for tokens it did not record) from
/// the header and claims.
pub fn kind_of(record: Option<TokenKind>, parsed: Option<&Parsed>) -> (&'static str, &'static str) {
    if let Some(kind) = record {
        return (kind.as_str(), "Latchkey's record of this token");
    }
    let Some(p) = parsed else {
        return ("unknown", "not recorded by Latchkey");
    };
    let typ = p.header.get("typ").and_then(Value::as_str).unwrap_or("");
    if normalize_typ(typ) == "at+jwt" {
        return ("access_token", "its typ header");
    }
    let claims = p.payload.as_ref();
    let has = |k: &str| claims.is_some_and(|c| c.contains_key(k));
    if (has("nonce") || has("at_hash") || has("c_hash") || has("auth_time")) && !has("scope") && !has("scp") {
        return ("id_token", "its claims (nonce/at_hash/auth_time, no scope)");
    }
    ("access_token", "its claims (not recorded by Latchkey)")
}

/// The `kind` row.
pub fn kind_row(policy: &Policy, kind: &str, source: &str) -> Check {
    let expected = json!("access_token");
    let actual = json!(kind);
    match kind {
        "access_token" => Check::passed(
            CheckName::Kind,
            expected,
            actual,
            format!("an access token (from {source})"),
        ),
        "unknown" => Check::skipped(
            CheckName::Kind,
            format!("cannot tell what kind of token this is ({source})"),
        )
        .with_values(expected, actual),
        other => {
            let (explanation, fix) = match other {
                "id_token" => (
                    "you sent an id_token: it proves who signed in to the client, it is not meant for APIs (its aud is \
                     the client)",
                    "send the access_token from the token response, not the id_token",
                ),
                "refresh_token" => (
                    "you sent a refresh token: it is only for the token endpoint",
                    "exchange it at the token endpoint and send the access_token you get",
                ),
                _ => (
                    "you sent an authorization code: it is only for the token endpoint",
                    "exchange the code at the token endpoint and send the access_token",
                ),
            };
            if policy.reject_other_kinds {
                Check::failed(CheckName::Kind, expected, actual, explanation, fix)
            } else {
                Check::skipped(
                    CheckName::Kind,
                    format!("not checked by this profile, but note: {explanation}"),
                )
                .with_values(expected, actual)
                .with_fix(fix)
            }
        }
    }
}

/// `typ` compared as RFC 7515 §4.1.9 says: case-insensitive, `application/` optional.
pub fn normalize_typ(t: &str) -> String {
    let lower = t.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) if !rest.contains('/') => rest.to_string(),
        _ => lower,
    }
}

fn typ_row(policy: &Policy, header: &Map<String, Value>) -> Check {
    let typ = header.get("typ");
    let expected = json!(policy.accepted_typ);
    let actual = typ.cloned().unwrap_or(Value::Null);
    if policy.accepted_typ.is_empty() {
        return Check::skipped(CheckName::Typ, "this profile does not check typ").with_values(expected, actual);
    }
    match typ {
        None if policy.typ_required => Check::failed(
            CheckName::Typ,
            expected,
            actual,
            "the header has no typ; this API requires at+jwt (RFC 9068 §4), so an id_token or other JWT cannot pass \
             as an access token",
            "issue RFC 9068 access tokens (typ at+jwt: [server] access_token_typ = \"at+jwt\")",
        ),
        None => Check::passed(CheckName::Typ, expected, actual, "no typ header; this API accepts that"),
        Some(Value::String(t)) => {
            let n = normalize_typ(t);
            if policy.accepted_typ.iter().any(|a| normalize_typ(a) == n) {
                Check::passed(CheckName::Typ, expected, actual, format!("typ {t} is accepted"))
            } else if n == "at+jwt" {
                Check::failed(
                    CheckName::Typ,
                    expected,
                    actual,
                    "typ is at+jwt (RFC 9068), which this API does not accept: older verifiers (Spring Security 5, some \
                     Python and JS libraries) only know JWT",
                    "issue tokens with typ JWT for this client (the client's access_token_typ = \"JWT\"), or accept \
                     at+jwt in the API",
                )
            } else if n == "jwt" {
                Check::failed(
                    CheckName::Typ,
                    expected,
                    actual,
                    "typ is JWT, but this API wants at+jwt (RFC 9068 §4): a plain JWT could be an id_token",
                    "issue RFC 9068 access tokens: [server] or the client's access_token_typ = \"at+jwt\"",
                )
            } else {
                Check::failed(
                    CheckName::Typ,
                    expected,
                    actual,
                    format!("typ {t} is not an access-token type this API accepts"),
                    "send an access token (typ at+jwt)",
                )
            }
        }
        Some(_) => Check::failed(
            CheckName::Typ,
            expected,
            actual,
            "typ is not a string",
            "send an access token issued by Latchkey",
        ),
    }
}

fn jwt_alg(alg: &str) -> Option<jsonwebtoken::Algorithm> {
    use jsonwebtoken::Algorithm as A;
    Some(match alg {
        "RS256" => A::RS256,
        "RS384" => A::RS384,
        "RS512" => A::RS512,
        "PS256" => A::PS256,
        "PS384" => A::PS384,
        "PS512" => A::PS512,
        "ES256" => A::ES256,
        "ES384" => A::ES384,
        "EdDSA" => A::EdDSA,
        "HS256" => A::HS256,
        "HS384" => A::HS384,
        "HS512" => A::HS512,
        _ => return None,
    })
}

/// Which client's secret, if any, verifies an HMAC-signed token (for the explanation only).
fn hmac_signer(p: &Provider, parsed: &Parsed, alg: &str) -> Option<String> {
    let a = jwt_alg(alg)?;
    p.clients().iter().find_map(|c| {
        let secret = c.client_secret.as_deref()?;
        let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
        jsonwebtoken::crypto::verify(&parsed.signature, parsed.signing_input.as_bytes(), &key, a)
            .ok()
            .filter(|ok| *ok)
            .map(|_| c.client_id.clone())
    })
}

fn alg_row(p: &Provider, policy: &Policy, parsed: &Parsed) -> Check {
    let alg = parsed.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let expected = json!(policy.algorithms);
    let actual = json!(alg);
    if alg.eq_ignore_ascii_case("none") {
        return Check::failed(
            CheckName::Alg,
            expected,
            actual,
            "alg none: the token is unsigned, anyone could have written it (RFC 8725 §3.1)",
            "send a token signed by Latchkey; never accept alg none",
        );
    }
    if alg.starts_with("HS") {
        let who = hmac_signer(p, parsed, alg);
        let explanation = match &who {
            Some(c) => format!(
                "{alg} is an HMAC algorithm and this token is signed with the client secret of `{c}`: anyone who knows \
                 that secret can forge tokens, and the API's JWKS has no such key"
            ),
            None => format!("{alg} is an HMAC algorithm (a shared secret), not in the API's JWKS"),
        };
        return Check::failed(
            CheckName::Alg,
            expected,
            actual,
            explanation,
            "use the access token Latchkey issued (signed with its asymmetric key); do not sign tokens with a client \
             secret",
        );
    }
    if policy.algorithms.iter().any(|a| a == alg) {
        Check::passed(
            CheckName::Alg,
            expected,
            actual,
            format!("{alg} is an allowed algorithm"),
        )
    } else {
        Check::failed(
            CheckName::Alg,
            expected,
            actual,
            format!("{alg} is not in the algorithms this API allows"),
            format!(
                "add {alg} to the API's allowed algorithms (the resource's algorithms), or change Latchkey's \
                 [server] signing_alg to one the API allows"
            ),
        )
    }
}

fn kid_row(lookup: &KidLookup, kid: Option<&str>, policy: &Policy) -> Check {
    let expected = json!("a kid in the API's cached JWKS");
    let actual = json!(kid);
    let kid_s = kid.unwrap_or("(none)");
    if kid.is_none() && lookup.key().is_none() {
        let explanation = match policy.key_without_kid {
            KeyWithoutKid::Refused => {
                "the token has no kid, and this API looks keys up by kid only (as PyJWT's \
                                       PyJWKClient does)"
            }
            KeyWithoutKid::OnlyKey => {
                "the token has no kid, and this API then uses the JWKS's only key, but the \
                                       JWKS has several (or none)"
            }
            KeyWithoutKid::OnlyKeyOfAlg => {
                "the token has no kid and the JWKS has no single key of its algorithm \
                                            to try"
            }
        };
        return Check::failed(
            CheckName::Kid,
            expected,
            actual,
            explanation,
            "send the token exactly as Latchkey issued it (its header names the kid of the key that signed it)",
        );
    }
    match lookup {
        KidLookup::Cached { age, .. } => Check::passed(
            CheckName::Kid,
            expected,
            actual,
            format!(
                "kid {kid_s} is in the API's cached JWKS (fetched {age} s ago, kept {} s)",
                policy.jwks_cache
            ),
        ),
        KidLookup::Fetched { reason, .. } => Check::passed(
            CheckName::Kid,
            expected,
            actual,
            if *reason == "first" {
                format!("the API fetched the JWKS for the first time and found kid {kid_s}")
            } else {
                format!(
                    "the API's cached JWKS had expired (older than {} s); it fetched it again and found kid {kid_s}",
                    policy.jwks_cache
                )
            },
        ),
        KidLookup::Refetched { stale_age, .. } => Check::passed(
            CheckName::Kid,
            expected,
            actual,
            format!(
                "kid {kid_s} was not in the API's cached JWKS ({stale_age} s old): the API refetched the JWKS because \
                 of the unknown kid and found it"
            ),
        ),
        KidLookup::StaleNoRefetch {
            age,
            expires_in,
            in_current_jwks,
        } => Check::failed(
            CheckName::Kid,
            expected,
            actual,
            if *in_current_jwks {
                format!(
                    "stale cache: kid {kid_s} is in Latchkey's JWKS now (a key rotation?), but the API fetched its copy \
                     {age} s ago and does not refetch on an unknown kid; it will see the key when its cache expires \
                     in {expires_in} s"
                )
            } else {
                format!("kid {kid_s} is neither in the API's cached JWKS ({age} s old) nor in Latchkey's current JWKS")
            },
            if *in_current_jwks {
                "restart the API (or wait for its JWKS cache to expire), or use a verifier that refetches the JWKS on \
                 an unknown kid (jwks_refetch_on_unknown_kid = true)"
            } else {
                "get a new token: the key that signed this one is no longer published"
            },
        ),
        KidLookup::CoolingDown {
            since,
            cooldown,
            in_current_jwks,
        } => Check::failed(
            CheckName::Kid,
            expected,
            actual,
            format!(
                "kid {kid_s} is not in the API's cached JWKS, and the API fetched it only {since} s ago (cooldown \
                 {cooldown} s), so it did not fetch again{}",
                if *in_current_jwks {
                    "; Latchkey's current JWKS has the key"
                } else {
                    ""
                }
            ),
            "retry after the cooldown; the next unknown-kid refetch will find the key if it is published",
        ),
        KidLookup::NotPublished { fetched } => Check::failed(
            CheckName::Kid,
            expected,
            actual,
            if kid.is_none() {
                "the token has no kid and the JWKS has no single key of its algorithm to try".to_string()
            } else if *fetched {
                format!(
                    "kid {kid_s} is not in Latchkey's JWKS, even freshly fetched: the key was retired and its \
                     publication ended, or another server signed the token"
                )
            } else {
                format!("kid {kid_s} is not in the API's JWKS")
            },
            "get a new token from this Latchkey; if you rotate keys, keep the old one published while its tokens live \
             (retention)",
        ),
    }
}

fn signature_row(lookup: &KidLookup, parsed: &Parsed) -> Check {
    let alg = parsed.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let Some(key) = lookup.key() else {
        return Check::skipped(CheckName::Signature, "no key to verify with (see kid)");
    };
    let expected = json!({"kid": key.kid, "alg": key.alg.as_str()});
    let actual = json!({"alg": alg});
    if key.alg.as_str() != alg {
        return Check::failed(
            CheckName::Signature,
            expected,
            actual,
            format!(
                "the header says {alg} but key {} is {} key",
                key.kid,
                alg_with_article(key.alg.as_str())
            ),
            "send the token exactly as Latchkey issued it",
        );
    }
    match key.verify(parsed.signing_input.as_bytes(), &parsed.signature) {
        true => Check::passed(
            CheckName::Signature,
            expected,
            actual,
            format!("the {alg} signature verifies with key {}", key.kid),
        ),
        false => Check::failed(
            CheckName::Signature,
            expected,
            actual,
            format!(
                "the signature does not verify with key {}: the header or payload was changed after signing, or \
                 another key signed it",
                key.kid
            ),
            "send the token exactly as issued (a changed claim invalidates the signature; mint a token with the \
             claims you need instead)",
        ),
    }
}

/// Explains how two issuer strings differ.
pub fn issuer_difference(expected: &str, actual: &str) -> String {
    if expected.trim_end_matches('/') == actual.trim_end_matches('/') {
        return if actual.ends_with('/') {
            "they differ only by a trailing slash: the token's iss ends with /, the API expects none".into()
        } else {
            "they differ only by a trailing slash: the API expects one, the token's iss has none".into()
        };
    }
    if expected.eq_ignore_ascii_case(actual) {
        return "they differ only in letter case; iss is compared exactly".into();
    }
    let (Ok(e), Ok(a)) = (url::Url::parse(expected), url::Url::parse(actual)) else {
        return "the strings differ (iss is compared exactly, as a string)".into();
    };
    let mut diffs = Vec::new();
    if e.scheme() != a.scheme() {
        diffs.push(format!("the scheme ({} vs {})", a.scheme(), e.scheme()));
    }
    if e.host_str() != a.host_str() {
        diffs.push(format!(
            "the host ({} vs {}; an API in a container often reaches Latchkey by another name than the app did)",
            a.host_str().unwrap_or(""),
            e.host_str().unwrap_or("")
        ));
    }
    if e.port_or_known_default() != a.port_or_known_default() {
        diffs.push(format!(
            "the port ({} vs {})",
            a.port_or_known_default().map_or("none".into(), |p| p.to_string()),
            e.port_or_known_default().map_or("none".into(), |p| p.to_string())
        ));
    } else if e.port() != a.port() {
        diffs.push("the port is written in one and implied in the other".into());
    }
    if e.path().trim_end_matches('/') != a.path().trim_end_matches('/') {
        diffs.push(format!("the path ({} vs {})", a.path(), e.path()));
    }
    if diffs.is_empty() {
        "the strings differ (iss is compared exactly, as a string)".into()
    } else {
        format!("they differ in {} (token vs expected)", diffs.join(", "))
    }
}

/// The `iss` row.
pub fn iss_row(expected: &str, iss: Option<&Value>, policy: &Policy, note: &str) -> Check {
    let exp = json!(expected);
    match iss {
        None if policy.iss_required => Check::failed(
            CheckName::Iss,
            exp,
            Value::Null,
            format!("{note}the token has no iss"),
            "send a token issued by Latchkey",
        ),
        None => Check::skipped(
            CheckName::Iss,
            format!("{note}the token has no iss; this API does not require one"),
        )
        .with_values(exp, Value::Null),
        Some(Value::String(s)) if s == expected => Check::passed(
            CheckName::Iss,
            exp,
            json!(s),
            format!("{note}iss is exactly the expected issuer"),
        ),
        Some(Value::String(s)) => Check::failed(
            CheckName::Iss,
            exp,
            json!(s),
            format!("{note}iss {s} is not {expected}: {}", issuer_difference(expected, s)),
            format!(
                "make the API expect exactly `{s}` (the resource's expected_issuer, or the issuer your API is \
                 configured with), or start Latchkey with --issuer {expected}"
            ),
        ),
        Some(other) => Check::failed(
            CheckName::Iss,
            exp,
            other.clone(),
            format!("{note}iss is not a string"),
            "send a token issued by Latchkey",
        ),
    }
}

/// The `aud` row: the token's `aud` (string or array) must contain one of `accepted`.
pub fn aud_row(accepted: &[String], aud: Option<&Value>, policy: &Policy, note: &str) -> Check {
    let exp = json!(accepted);
    let values: Vec<&str> = match aud {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = aud.cloned().unwrap_or(Value::Null);
    if aud.is_none() {
        return if policy.aud_required {
            Check::failed(
                CheckName::Aud,
                exp,
                actual,
                format!("{note}the token has no aud; this API requires one naming it"),
                "give the client an audience the API accepts (the client's audiences), or request the token with \
                 resource set to the API's identifier",
            )
        } else {
            Check::skipped(
                CheckName::Aud,
                format!("{note}the token has no aud; this API does not require one"),
            )
            .with_values(exp, actual)
        };
    }
    if let Some(hit) = values.iter().find(|v| accepted.iter().any(|a| a == *v)) {
        return Check::passed(CheckName::Aud, exp, actual, format!("{note}aud contains {hit}"));
    }
    let near = values.iter().find_map(|v| {
        accepted
            .iter()
            .find(|a| a.trim_end_matches('/') == v.trim_end_matches('/') || a.eq_ignore_ascii_case(v))
            .map(|a| format!(" ({v} is close to {a}, but aud is compared exactly)"))
    });
    Check::failed(
        CheckName::Aud,
        exp,
        actual,
        format!(
            "{note}aud {} names none of the audiences this API accepts{}; tokens minted for another API (or an \
             id_token, whose aud is the client) end up here",
            values.join(", "),
            near.unwrap_or_default()
        ),
        format!(
            "add {} to the client's audiences (its tokens then carry it in aud), or add {} to this resource's \
             audience",
            accepted.last().map_or("", String::as_str),
            values.join(" or ")
        ),
    )
}

/// A time claim as a number of seconds; with `numeric_strings`, a string of digits too (as
/// PyJWT's `int()` reads it).
fn num(v: Option<&Value>, numeric_strings: bool) -> Option<Result<i64, ()>> {
    v.map(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .or_else(|| {
                v.as_str()
                    .filter(|_| numeric_strings)
                    .and_then(|s| s.trim().parse::<i64>().ok())
            })
            .ok_or(())
    })
}

fn time_rows(policy: &Policy, claims: &Map<String, Value>, now: i64, note: &str) -> [Check; 3] {
    let leeway = i64::try_from(policy.leeway).unwrap_or(i64::MAX);
    let clock = json!({"api_now": now, "leeway": policy.leeway});
    let exp = match num(claims.get("exp"), policy.numeric_strings) {
        None if policy.exp_required => Check::failed(
            CheckName::Exp,
            clock.clone(),
            Value::Null,
            format!("{note}the token has no exp; this API requires one"),
            "send an access token issued by Latchkey (it always carries exp)",
        ),
        None => Check::skipped(CheckName::Exp, format!("{note}the token has no exp"))
            .with_values(clock.clone(), Value::Null),
        Some(Err(())) => Check::failed(
            CheckName::Exp,
            clock.clone(),
            claims.get("exp").cloned().unwrap_or(Value::Null),
            format!("{note}exp is not a number"),
            "send a token issued by Latchkey",
        ),
        Some(Ok(e)) if now >= e.saturating_add(leeway) => Check::failed(
            CheckName::Exp,
            clock.clone(),
            json!(e),
            format!(
                "{note}the token expired {} s ago by the API's clock (exp {e}, API now {now}, leeway {leeway} s)",
                now - e
            ),
            "get a new token (with the refresh token, or by asking the token endpoint again); if the API's clock is \
             ahead of Latchkey's, fix the clock_offset or allow some leeway",
        ),
        Some(Ok(e)) => Check::passed(
            CheckName::Exp,
            clock.clone(),
            json!(e),
            format!("{note}valid for {} s more by the API's clock", e - now),
        ),
    };
    let nbf = match num(claims.get("nbf"), policy.numeric_strings) {
        _ if !policy.check_nbf => Check::skipped(CheckName::Nbf, "this profile does not check nbf"),
        None => Check::skipped(CheckName::Nbf, format!("{note}the token has no nbf"))
            .with_values(clock.clone(), Value::Null),
        Some(Err(())) => Check::failed(
            CheckName::Nbf,
            clock.clone(),
            claims.get("nbf").cloned().unwrap_or(Value::Null),
            format!("{note}nbf is not a number"),
            "send a token issued by Latchkey",
        ),
        Some(Ok(n)) if n > now.saturating_add(leeway) => Check::failed(
            CheckName::Nbf,
            clock.clone(),
            json!(n),
            format!(
                "{note}the token is not valid yet: nbf is {} s ahead of the API's clock (nbf {n}, API now {now}, leeway \
                 {leeway} s)",
                n - now
            ),
            "wait until nbf, or fix the clock difference between the API and Latchkey (clock_offset, the virtual \
             clock) or allow leeway",
        ),
        Some(Ok(n)) => Check::passed(CheckName::Nbf, clock.clone(), json!(n), format!("{note}nbf has passed")),
    };
    let iat_v = claims.get("iat");
    let iat = match (policy.iat, num(iat_v, policy.numeric_strings)) {
        (IatPolicy::Ignore, _) => Check::skipped(CheckName::Iat, "this profile does not check iat"),
        (IatPolicy::Required, None) => Check::failed(
            CheckName::Iat,
            clock.clone(),
            Value::Null,
            format!("{note}the token has no iat; RFC 9068 §2.2 requires it"),
            "send an access token issued by Latchkey",
        ),
        (_, None) => Check::skipped(CheckName::Iat, format!("{note}the token has no iat"))
            .with_values(clock.clone(), Value::Null),
        (_, Some(Err(()))) => Check::failed(
            CheckName::Iat,
            clock.clone(),
            iat_v.cloned().unwrap_or(Value::Null),
            format!("{note}iat is not a number"),
            "send a token issued by Latchkey",
        ),
        (IatPolicy::Numeric, Some(Ok(i))) => Check::passed(
            CheckName::Iat,
            clock.clone(),
            json!(i),
            format!("{note}iat is a number (its age is not checked by this profile)"),
        ),
        (_, Some(Ok(i))) if i > now.saturating_add(leeway) => Check::failed(
            CheckName::Iat,
            clock.clone(),
            json!(i),
            format!(
                "{note}the token was issued {} s in the future by the API's clock (iat {i}, API now {now}, leeway \
                 {leeway} s): the API's clock is behind Latchkey's",
                i - now
            ),
            "sync the clocks (the resource's clock_offset, Latchkey's virtual clock) or allow leeway",
        ),
        (_, Some(Ok(i))) => Check::passed(
            CheckName::Iat,
            clock,
            json!(i),
            format!("{note}issued {} s ago by the API's clock", now - i),
        ),
    };
    [exp, nbf, iat]
}

/// The scopes a token carries, and the claim they were found under: the first claim of the
/// policy's order that holds any (an empty `scope` falls through to `scp` when both are read),
/// else the first one present.
pub fn token_scopes(policy: &Policy, claims: &Map<String, Value>) -> Option<(ScopeClaim, Vec<String>)> {
    let read = |c: &ScopeClaim| {
        let list: Vec<String> = match claims.get(c.as_str())? {
            Value::String(s) => s.split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect(),
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => return None,
        };
        Some((*c, list))
    };
    let all: Vec<(ScopeClaim, Vec<String>)> = policy.scope_claims.iter().filter_map(read).collect();
    all.iter().find(|(_, v)| !v.is_empty()).or_else(|| all.first()).cloned()
}

/// The `scope` row.
pub fn scope_row(policy: &Policy, claims: &Map<String, Value>, required: &[String], note: &str) -> Check {
    let exp = json!(required);
    let looked: Vec<&str> = policy.scope_claims.iter().map(|c| c.as_str()).collect();
    let found = token_scopes(policy, claims);
    let (claim, have) = match &found {
        Some((c, v)) => (Some(c.as_str()), v.clone()),
        None => (None, Vec::new()),
    };
    let actual = json!({"claim": claim, "scopes": have});
    if required.is_empty() {
        return Check::passed(CheckName::Scope, exp, actual, format!("{note}this call needs no scope"));
    }
    let missing: Vec<&String> = required.iter().filter(|s| !have.contains(s)).collect();
    if missing.is_empty() {
        return Check::passed(
            CheckName::Scope,
            exp,
            actual,
            format!("{note}the {} claim has every required scope", claim.unwrap_or("scope")),
        );
    }
    let missing_s: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    // Scopes in a claim this API does not read (scp for an API reading scope, ...).
    let elsewhere = ["scope", "scp", "scopes", "roles"].iter().find(|k| {
        !looked.contains(k)
            && match claims.get(**k) {
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                _ => false,
            }
    });
    let explanation = match (elsewhere, claim) {
        (Some(k), _) if have.is_empty() => format!(
            "{note}this API reads scopes from {} but the token carries them in {k}",
            looked.join(" or ")
        ),
        (_, Some(c)) => format!(
            "{note}missing {} in the token's {c} claim (it has: {})",
            missing_s.join(", "),
            if have.is_empty() {
                "nothing".to_string()
            } else {
                have.join(" ")
            }
        ),
        (_, None) => format!("{note}the token has no {} claim", looked.join(" or ")),
    };
    Check::failed(
        CheckName::Scope,
        exp,
        actual,
        explanation,
        format!(
            "request the token with scope \"{}\" (and allow the client those scopes)",
            required.join(" ")
        ),
    )
}

/// The `revocation` row in a mode that cannot see revocation (JWT): informational.
pub fn revocation_info(record: Option<&TokenBrief>) -> Check {
    match record {
        None => Check::skipped(
            CheckName::Revocation,
            "not checked by an API that validates JWTs locally; Latchkey has no record of this token",
        ),
        Some(r) if r.status == TokenStatus::Active => Check::skipped(
            CheckName::Revocation,
            "not checked by an API that validates JWTs locally; Latchkey's record: not revoked",
        )
        .with_values(Value::Null, json!("active")),
        Some(r) => Check::skipped(
            CheckName::Revocation,
            format!(
                "Latchkey's record says this token was {} ({}), but an API that validates JWTs locally cannot know: \
                 it accepts the token until exp",
                r.status.as_str(),
                r.status_reason.as_deref().unwrap_or("no reason recorded")
            ),
        )
        .with_values(json!("active"), json!(r.status.as_str()))
        .with_fix(
            "use validation = \"introspection\" where revocation must take effect at once, or keep access tokens short-lived",
        ),
    }
}

fn summary(claims: Option<&Map<String, Value>>, policy: &Policy, kind: &str) -> TokenSummary {
    let s = |k: &str| {
        claims
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    TokenSummary {
        sub: s("sub"),
        client_id: s("client_id").or_else(|| s("azp")),
        scope: claims.and_then(|c| token_scopes(policy, c)).map(|(_, v)| v.join(" ")),
        jti: s("jti"),
        kind: Some(kind.to_string()),
    }
}

/// What Latchkey recorded of `token`, if anything (the in-memory cache first).
pub async fn record_of(p: &Provider, token: &str) -> Option<TokenBrief> {
    p.store
        .token_summary_by_hash(crate::ids::token_hash(token))
        .await
        .ok()
        .flatten()
}

/// Every row after `request`, JWT mode.
pub async fn check(p: &Provider, c: &Compiled, token: &str, required: &[String]) -> Outcome {
    let policy = &c.policy;
    let (format, parsed) = parse(token);
    let mut rows = Vec::with_capacity(14);
    rows.push(format_row(format, true));
    let record = record_of(p, token).await;
    let Some(parsed) = parsed else {
        match record.as_ref().map(|r| r.kind) {
            // Latchkey knows what this opaque string is: the kind row says it better ("you sent
            // a refresh token") than the format row would ("an opaque token").
            Some(k) if k != TokenKind::AccessToken => {
                rows[0] = Check::skipped(
                    CheckName::Format,
                    format!(
                        "an opaque string that Latchkey issued as {}: see the kind row",
                        k.with_article()
                    ),
                )
                .with_values(json!("jws"), json!(format.as_str()));
            }
            // Not a JWS and not anything Latchkey issued.
            None if format == Format::Opaque => {
                rows[0] = Check::failed(
                    CheckName::Format,
                    json!("jws"),
                    json!(format.as_str()),
                    "not a JWT, and not a token Latchkey issued (no JWT, opaque token, code or refresh token of this \
                     server has this value)",
                    "send the access_token value from a token response of this issuer, as is",
                );
            }
            _ => {}
        }
        let (kind, source) = kind_of(record.as_ref().map(|r| r.kind), None);
        rows.push(kind_row(policy, kind, source));
        for name in &CheckName::ALL[3..CheckName::ALL.len() - 1] {
            rows.push(Check::skipped(*name, "not a JWS: nothing to read"));
        }
        rows.push(revocation_info(record.as_ref()));
        return Outcome { rows, summary: None };
    };
    if let Some(refused) =
        crit_row(policy, &parsed.header).or_else(|| string_claims_row(policy, parsed.payload.as_ref()))
    {
        rows[0] = refused;
    }
    let (kind, source) = kind_of(record.as_ref().map(|r| r.kind), Some(&parsed));
    rows.push(kind_row(policy, kind, source));
    rows.push(typ_row(policy, &parsed.header));
    let alg = alg_row(p, policy, &parsed);
    let alg_ok = alg.result == super::CheckResult::Passed;
    rows.push(alg);
    let kid = parsed.header.get("kid").and_then(Value::as_str);
    let now = api_now(p, &c.resource);
    let mut verified = false;
    if alg_ok {
        let signing_alg = parsed
            .header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(SigningAlg::parse);
        let lookup = c.jwks.lookup(&p.keys, kid, signing_alg, now, policy);
        rows.push(kid_row(&lookup, kid, policy));
        let sig = signature_row(&lookup, &parsed);
        verified = sig.result == super::CheckResult::Passed;
        rows.push(sig);
    } else {
        rows.push(
            Check::skipped(
                CheckName::Kid,
                "the algorithm is refused: the API does not look for a key",
            )
            .with_values(Value::Null, json!(kid)),
        );
        rows.push(Check::skipped(
            CheckName::Signature,
            "the algorithm is refused: the API does not verify",
        ));
    }
    let note = if verified { "" } else { "(unverified payload) " };
    let empty = Map::new();
    let claims = parsed.payload.as_ref().unwrap_or(&empty);
    if parsed.payload.is_none() {
        for name in [
            CheckName::Iss,
            CheckName::Aud,
            CheckName::Exp,
            CheckName::Nbf,
            CheckName::Iat,
            CheckName::Scope,
        ] {
            rows.push(Check::failed(
                name,
                Value::Null,
                Value::Null,
                "the payload is not a JSON object",
                "send a token issued by Latchkey",
            ));
        }
    } else {
        let expected_iss = c.resource.expected_issuer.as_deref().unwrap_or(&p.issuer.id);
        rows.push(iss_row(expected_iss, claims.get("iss"), policy, note));
        let mut accepted = vec![c.identifier.clone()];
        accepted.extend(c.resource.audience.values().iter().cloned());
        rows.push(aud_row(&accepted, claims.get("aud"), policy, note));
        rows.extend(time_rows(policy, claims, now, note));
        rows.push(scope_row(policy, claims, required, note));
    }
    rows.push(Check::skipped(
        CheckName::Active,
        "JWT mode: the API does not call introspection",
    ));
    rows.push(revocation_info(record.as_ref()));
    Outcome {
        rows,
        summary: Some(summary(parsed.payload.as_ref(), policy, kind)),
    }
}

/// `an RS256`, `a PS256`, `an ES256`, `an EdDSA`, `an HS256`: as the names are read aloud.
fn alg_with_article(alg: &str) -> String {
    let article = if alg.starts_with(['R', 'E', 'H', 'A', 'N']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {alg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(profile: &str) -> Policy {
        super::super::profiles::find(profile).unwrap().defaults.clone()
    }

    #[test]
    fn crit_is_refused_unless_the_profile_ignores_it_as_jsonwebtoken_does() {
        let header: Map<String, Value> =
            serde_json::from_value(json!({"alg": "RS256", "crit": ["urn:x"], "urn:x": 1})).unwrap();
        for p in ["latchkey", "rfc9068", "lenient", "jose-node-5", "pyjwt-2"] {
            let row = crit_row(&policy(p), &header).unwrap_or_else(|| panic!("{p} accepts crit"));
            assert_eq!(row.check, CheckName::Format);
            assert!(row.explanation.contains("urn:x"), "{}", row.explanation);
        }
        assert!(crit_row(&policy("jsonwebtoken-node-9"), &header).is_none());
        let plain: Map<String, Value> = serde_json::from_value(json!({"alg": "RS256"})).unwrap();
        assert!(crit_row(&policy("pyjwt-2"), &plain).is_none());
        let bad: Map<String, Value> = serde_json::from_value(json!({"alg": "RS256", "crit": "urn:x"})).unwrap();
        assert!(
            crit_row(&policy("jose-node-5"), &bad)
                .unwrap()
                .explanation
                .contains("not a list")
        );
    }

    #[test]
    fn pyjwt_wants_sub_and_jti_as_strings_and_reads_numeric_string_times() {
        let numeric_sub: Map<String, Value> = serde_json::from_value(json!({"sub": 42, "jti": "a"})).unwrap();
        let row = string_claims_row(&policy("pyjwt-2"), Some(&numeric_sub)).unwrap();
        assert!(row.explanation.contains("sub is 42"), "{}", row.explanation);
        let numeric_jti: Map<String, Value> = serde_json::from_value(json!({"jti": 7})).unwrap();
        assert!(string_claims_row(&policy("pyjwt-2"), Some(&numeric_jti)).is_some());
        for p in ["latchkey", "jose-node-5", "jsonwebtoken-node-9"] {
            assert!(string_claims_row(&policy(p), Some(&numeric_sub)).is_none(), "{p}");
        }
        assert_eq!(num(Some(&json!("1700000000")), true), Some(Ok(1_700_000_000)));
        assert_eq!(num(Some(&json!(" 12 ")), true), Some(Ok(12)));
        assert_eq!(num(Some(&json!("1700000000")), false), Some(Err(())));
        assert_eq!(num(Some(&json!("yesterday")), true), Some(Err(())));
        assert_eq!(num(Some(&json!(1.9)), false), Some(Ok(1)));
        assert_eq!(num(None, true), None);
    }

    #[test]
    fn issuers_differences_are_named() {
        assert!(issuer_difference("http://localhost:8000/", "http://localhost:8000").contains("the API expects one"));
        assert!(issuer_difference("http://localhost:8000", "http://localhost:8000/").contains("ends with /"));
        assert!(
            issuer_difference("http://latchkey:8000", "http://localhost:8000")
                .contains("the host (localhost vs latchkey")
        );
        assert!(
            issuer_difference("https://localhost:8000", "http://localhost:8000").contains("the scheme (http vs https)")
        );
        assert!(
            issuer_difference("http://localhost:9000", "http://localhost:8000").contains("the port (8000 vs 9000)")
        );
        assert!(
            issuer_difference("http://localhost:8000/realms/a", "http://localhost:8000/realms/b").contains("the path")
        );
        assert!(issuer_difference("HTTP://LOCALHOST:8000", "http://localhost:8000").contains("letter case"));
    }

    #[test]
    fn typ_compares_case_insensitively_with_an_optional_application_prefix() {
        assert_eq!(normalize_typ("application/at+jwt"), "at+jwt");
        assert_eq!(normalize_typ("AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("JWT"), "jwt");
    }

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(parse("abc").0, Format::Opaque);
        assert_eq!(parse("a.b.c.d.e").0, Format::Jwe);
        assert_eq!(parse("a.b").0, Format::Other);
        assert_eq!(parse("not base64.x.y").0, Format::Other);
        assert_eq!(parse("").0, Format::Other);
        // {"alg":"RS256"} . {} . sig
        assert_eq!(parse("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").0, Format::Jws);
    }
}
