//! Profiles: named sets of defaults that reproduce a verifier's strictness.
//!
//! The table is data ([`profiles`]), served at `GET /admin/api/resource-profiles`, so the UI,
//! the docs and the library-conformance CI read the same values. A resource's keys that are set
//! override its profile's; unset keys take the profile's ([`Policy::resolve`]). A resource
//! without `profile` uses [`DEFAULT_PROFILE`].
//!
//! Profiles named after a library are pinned to a major version and must agree with it: given
//! the options listed in `library.usage` (issuer, audience, algorithms as the resource states
//! them), the library accepts and refuses exactly the tokens the profile does.

use std::sync::OnceLock;

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{BearerMethod, Resource};

/// The profile of a resource that names none.
pub const DEFAULT_PROFILE: &str = "latchkey";

/// How `iat` is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IatPolicy {
    /// Not looked at.
    Ignore,
    /// When present, it must be a number (not checked against the clock).
    Numeric,
    /// When present, it must be a number not in the future (beyond the leeway).
    NotInFuture,
    /// It must be present, a number, and not in the future (beyond the leeway).
    Required,
}

/// Where the scopes are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeClaim {
    /// `scope`: a space-separated string (RFC 9068 §2.2.3, RFC 8693 §4.2).
    Scope,
    /// `scp`: an array of strings (Azure AD, Okta) or a space-separated string.
    Scp,
}

impl ScopeClaim {
    /// The claim name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeClaim::Scope => "scope",
            ScopeClaim::Scp => "scp",
        }
    }
}

/// Which key verifies a token whose header has no `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyWithoutKid {
    /// The JWKS's only key for the token's `alg`; none when it has several (jose, Nimbus).
    OnlyKeyOfAlg,
    /// The JWKS's only key, whatever its algorithm; none when it has several (jwks-rsa).
    OnlyKey,
    /// None: a token without `kid` is refused (PyJWT's PyJWKClient looks keys up by `kid` only).
    Refused,
}

/// Everything a simulated API checks, with every value resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Policy {
    /// Clock tolerance for `exp`, `nbf` and `iat`, seconds.
    pub leeway: u64,
    /// Accepted header `typ` values (case-insensitive, `application/` optional); empty: any.
    pub accepted_typ: Vec<String>,
    /// A token without `typ` is refused.
    pub typ_required: bool,
    /// Accepted JWS `alg` values (`none` and HMAC are never accepted with a JWKS).
    pub algorithms: Vec<String>,
    /// Which key verifies a token without `kid`.
    pub key_without_kid: KeyWithoutKid,
    /// A `crit` header naming an extension the API does not understand is refused
    /// (RFC 7515 §4.1.11 requires it; some libraries ignore `crit`).
    pub reject_unknown_crit: bool,
    /// `exp`, `nbf` and `iat` written as strings of digits are read as numbers (PyJWT's
    /// `int()`); otherwise such a claim is "not a number" and the token is refused.
    pub numeric_strings: bool,
    /// Claims that must be strings when present (PyJWT refuses a number as `sub` or `jti`);
    /// a token breaking this is refused in the `format` row.
    pub string_claims: Vec<String>,
    /// Seconds the API keeps a fetched JWKS (on its own clock).
    pub jwks_cache: u64,
    /// Refetch the JWKS when a token names an unknown `kid`.
    pub jwks_refetch_on_unknown_kid: bool,
    /// At least this many seconds between two refetches caused by unknown `kid`s.
    pub jwks_refetch_cooldown: u64,
    /// Where the token may be sent (RFC 6750 §2).
    pub bearer_methods: Vec<BearerMethod>,
    /// A token without `exp` is refused (it is always checked when present).
    pub exp_required: bool,
    /// `nbf` is checked when present.
    pub check_nbf: bool,
    /// How `iat` is checked.
    pub iat: IatPolicy,
    /// A token without `aud` is refused (a present `aud` must always match).
    pub aud_required: bool,
    /// A token without `iss` is refused (a present `iss` must always match).
    pub iss_required: bool,
    /// Where the scopes are looked for, in order.
    pub scope_claims: Vec<ScopeClaim>,
    /// id_tokens and refresh tokens recognised as such are refused (`kind` row).
    pub reject_other_kinds: bool,
    /// The API understands `Authorization: DPoP` and checks DPoP proofs and bound tokens
    /// (RFC 9449 §7, the `dpop` row); otherwise the row is skipped, as a JWT library alone
    /// does not check them.
    pub dpop: bool,
}

impl Policy {
    /// The policy of `r`: its profile's defaults, overridden by the keys it sets. An unknown
    /// profile name falls back to [`DEFAULT_PROFILE`] (validation refuses one when saved).
    pub fn resolve(r: &Resource) -> Policy {
        let profile = r.profile.as_deref().and_then(find).unwrap_or_else(default_profile);
        let mut p = profile.defaults.clone();
        if let Some(l) = r.leeway {
            p.leeway = l.0;
        }
        if let Some(t) = &r.accepted_typ {
            p.accepted_typ = t.clone();
            // A library checks typ only through its option (jose's `typ`), which refuses a
            // token without typ as well.
            if profile.library.is_some() && !t.is_empty() {
                p.typ_required = true;
            }
        }
        if let Some(a) = &r.algorithms {
            p.algorithms = a.clone();
            if let Some(lib) = &profile.library {
                p.algorithms.retain(|alg| lib.algorithms.contains(alg));
            }
        }
        if let Some(c) = r.jwks_cache {
            p.jwks_cache = c.0;
        }
        if let Some(b) = r.jwks_refetch_on_unknown_kid {
            p.jwks_refetch_on_unknown_kid = b;
        }
        if let Some(m) = &r.bearer_methods {
            p.bearer_methods = m.clone();
        }
        p
    }
}

/// The library a profile reproduces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Library {
    /// `npm` or `pypi`.
    pub ecosystem: String,
    /// The package name.
    pub package: String,
    /// The pinned version range (`5`, `2`, `9`: the major version; CI runs the exact version
    /// pinned in `conformance/`, see docs/resources.md).
    pub version: String,
    /// How the library is called to match the profile (the options a typical API passes).
    pub usage: String,
    /// The JWS algorithms the library can verify at all: a resource's `algorithms` outside
    /// them are dropped (the library refuses such tokens whatever its options say).
    pub algorithms: Vec<String>,
}

/// A named set of defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Profile {
    /// The name a resource's `profile` uses.
    pub name: String,
    /// One line on what it reproduces.
    pub description: String,
    /// The library it reproduces, for library-named profiles.
    pub library: Option<Library>,
    /// What it checks, one sentence each.
    pub checks: Vec<String>,
    /// The values a resource gets unless it sets them.
    pub defaults: Policy,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const LATCHKEY_ALGS: &[&str] = &["RS256", "PS256", "ES256", "EdDSA"];
const ALL_ASYMMETRIC: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

/// What jsonwebtoken 9 verifies with public keys (no EdDSA, whatever `algorithms` says).
const JSONWEBTOKEN_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
];

fn build() -> Vec<Profile> {
    use BearerMethod::{Body, Header, Query};
    vec![
        Profile {
            name: DEFAULT_PROFILE.into(),
            description: "Latchkey's default: the RFC 9068 checks, also accepting typ JWT from older issuers".into(),
            library: None,
            checks: strings(&[
                "typ is at+jwt, application/at+jwt or JWT when present (RFC 9068 §4, relaxed for older issuers)",
                "alg is one Latchkey signs with (RS256, PS256, ES256, EdDSA); never none or HMAC",
                "kid is in the API's cached JWKS (10 min), refetched on an unknown kid at most every 30 s; without kid, the only key of the token's alg",
                "a crit header naming an unknown extension is refused (RFC 7515 §4.1.11)",
                "iss equals the expected issuer exactly; aud is required and must contain the identifier or an audience",
                "exp is required; nbf and iat are checked when present, with no leeway",
                "the required scopes are read from the scope claim (space-separated)",
                "id_tokens and refresh tokens are refused",
                "the token is accepted in the Authorization header or a form body, not in the query (RFC 6750 §2.3)",
                "Authorization: DPoP with a proof (htm, htu, iat, jti, ath, the bound key) for DPoP-bound tokens; a bound token sent as Bearer is refused (RFC 9449 §7)",
            ]),
            defaults: Policy {
                leeway: 0,
                accepted_typ: strings(&["at+jwt", "application/at+jwt", "JWT"]),
                typ_required: false,
                algorithms: strings(LATCHKEY_ALGS),
                key_without_kid: KeyWithoutKid::OnlyKeyOfAlg,
                reject_unknown_crit: true,
                numeric_strings: false,
                string_claims: Vec::new(),
                jwks_cache: 600,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 30,
                bearer_methods: vec![Header, Body],
                exp_required: true,
                check_nbf: true,
                iat: IatPolicy::NotInFuture,
                aud_required: true,
                iss_required: true,
                scope_claims: vec![ScopeClaim::Scope],
                reject_other_kinds: true,
                dpop: true,
            },
        },
        Profile {
            name: "rfc9068".into(),
            description: "Strict RFC 9068 §4 resource server: typ at+jwt required, every registered claim checked"
                .into(),
            library: None,
            checks: strings(&[
                "typ must be at+jwt or application/at+jwt (RFC 9068 §4); a JWT without typ is refused",
                "alg is one Latchkey signs with (RS256, PS256, ES256, EdDSA); never none or HMAC (RFC 8725 §3.1)",
                "kid is in the API's cached JWKS (10 min), refetched on an unknown kid at most every 30 s; without kid, the only key of the token's alg",
                "a crit header naming an unknown extension is refused (RFC 7515 §4.1.11)",
                "iss equals the expected issuer exactly and is required",
                "aud is required and must contain the identifier or an audience (RFC 9068 §4)",
                "exp and iat are required; iat must not be in the future; nbf is checked when present; no leeway",
                "the required scopes are read from the scope claim only (RFC 9068 §2.2.3)",
                "id_tokens and refresh tokens are refused",
                "the token is accepted in the Authorization header or a form body, not in the query",
                "Authorization: DPoP with a proof (htm, htu, iat, jti, ath, the bound key) for DPoP-bound tokens; a bound token sent as Bearer is refused (RFC 9449 §7)",
            ]),
            defaults: Policy {
                leeway: 0,
                accepted_typ: strings(&["at+jwt", "application/at+jwt"]),
                typ_required: true,
                algorithms: strings(LATCHKEY_ALGS),
                key_without_kid: KeyWithoutKid::OnlyKeyOfAlg,
                reject_unknown_crit: true,
                numeric_strings: false,
                string_claims: Vec::new(),
                jwks_cache: 600,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 30,
                bearer_methods: vec![Header, Body],
                exp_required: true,
                check_nbf: true,
                iat: IatPolicy::Required,
                aud_required: true,
                iss_required: true,
                scope_claims: vec![ScopeClaim::Scope],
                reject_other_kinds: true,
                dpop: true,
            },
        },
        Profile {
            name: "lenient".into(),
            description: "A forgiving API: any typ, 60 s leeway, scopes in scope or scp, token also in the query"
                .into(),
            library: None,
            checks: strings(&[
                "typ is not checked",
                "alg is any asymmetric JWS algorithm; never none or HMAC",
                "kid is in the API's cached JWKS (10 min), refetched on every unknown kid; without kid, the only key of the token's alg",
                "a crit header naming an unknown extension is refused (RFC 7515 §4.1.11)",
                "iss equals the expected issuer exactly when present; aud must match when present",
                "exp and nbf are checked when present, with 60 s leeway; iat is not checked",
                "the required scopes are read from scope (string) or scp (array)",
                "the token kind is not checked (an id_token with the right aud passes)",
                "the token is accepted in the header, a form body or the query (RFC 6750 §2.3)",
                "Authorization: DPoP with a proof for DPoP-bound tokens; a bound token sent as Bearer is refused (RFC 9449 §7)",
            ]),
            defaults: Policy {
                leeway: 60,
                accepted_typ: Vec::new(),
                typ_required: false,
                algorithms: strings(ALL_ASYMMETRIC),
                key_without_kid: KeyWithoutKid::OnlyKeyOfAlg,
                reject_unknown_crit: true,
                numeric_strings: false,
                string_claims: Vec::new(),
                jwks_cache: 600,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 0,
                bearer_methods: vec![Header, Body, Query],
                exp_required: false,
                check_nbf: true,
                iat: IatPolicy::Ignore,
                aud_required: false,
                iss_required: false,
                scope_claims: vec![ScopeClaim::Scope, ScopeClaim::Scp],
                reject_other_kinds: false,
                dpop: true,
            },
        },
        Profile {
            name: "jose-node-5".into(),
            description: "panva/jose 5.x jwtVerify with createRemoteJWKSet, as a Node API calls it (CI checks it against jose 5.10.0)".into(),
            library: Some(Library {
                ecosystem: "npm".into(),
                package: "jose".into(),
                version: "5".into(),
                usage: "jwtVerify(token, createRemoteJWKSet(new URL(jwks_uri)), { issuer, audience }) \
                        (algorithms and typ passed only when the resource sets them; clockTolerance = leeway)"
                    .into(),
                algorithms: strings(ALL_ASYMMETRIC),
            }),
            checks: strings(&[
                "typ is not checked unless the typ option is given (the resource's accepted_typ); then a token without typ is refused",
                "alg: any asymmetric algorithm matching a JWKS key; none and HMAC find no key",
                "kid is looked up in the remote JWKS, cached 10 min (cacheMaxAge) and refetched on an unknown kid at most every 30 s (cooldownDuration); without kid, the only key of the token's alg is used",
                "a crit header naming an extension jose does not know is refused",
                "iss and aud are compared when the options are given; a missing claim then fails",
                "exp and nbf are checked when present, clockTolerance 0; iat must be a number when present (no age check without maxTokenAge)",
                "scopes are not checked by jose: the API's own code reads scope",
                "the token kind is not checked",
                "DPoP is not checked: the library verifies the JWT only; Authorization: DPoP is not understood and a DPoP-bound token is accepted as a Bearer token (RFC 9449 §7 is the application's job)",
            ]),
            defaults: Policy {
                leeway: 0,
                accepted_typ: Vec::new(),
                typ_required: false,
                algorithms: strings(ALL_ASYMMETRIC),
                key_without_kid: KeyWithoutKid::OnlyKeyOfAlg,
                reject_unknown_crit: true,
                numeric_strings: false,
                string_claims: Vec::new(),
                jwks_cache: 600,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 30,
                bearer_methods: vec![Header, Body],
                exp_required: false,
                check_nbf: true,
                iat: IatPolicy::Numeric,
                aud_required: true,
                iss_required: true,
                scope_claims: vec![ScopeClaim::Scope],
                reject_other_kinds: false,
                dpop: false,
            },
        },
        Profile {
            name: "pyjwt-2".into(),
            description: "PyJWT 2.x jwt.decode with PyJWKClient, as a Python API calls it (CI checks it against PyJWT 2.15.1; older 2.x releases may check less)".into(),
            library: Some(Library {
                ecosystem: "pypi".into(),
                package: "PyJWT".into(),
                version: "2".into(),
                usage: "jwt.decode(token, PyJWKClient(jwks_uri).get_signing_key_from_jwt(token).key, \
                        algorithms=algorithms, audience=audience, issuer=issuer, leeway=leeway)"
                    .into(),
                algorithms: strings(ALL_ASYMMETRIC),
            }),
            checks: strings(&[
                "typ is not checked",
                "alg must be in the algorithms list the caller passes (required argument; RS256 here)",
                "kid is looked up with PyJWKClient: JWKS cached 300 s (lifespan), refetched on an unknown kid at most every 30 s (cooldown_duration); a token without kid finds no key",
                "a crit header naming an extension PyJWT does not know is refused",
                "iss and aud are compared when given; a missing claim then fails (MissingRequiredClaimError)",
                "exp and nbf are checked when present; iat must be a number and not in the future (ImmatureSignatureError); leeway 0; a time claim written as a string of digits is read as a number (int())",
                "sub and jti must be strings when present (InvalidSubjectError, InvalidJTIError)",
                "scopes are not checked by PyJWT: the API's own code reads scope",
                "the token kind is not checked",
                "DPoP is not checked: the library verifies the JWT only; Authorization: DPoP is not understood and a DPoP-bound token is accepted as a Bearer token (RFC 9449 §7 is the application's job)",
            ]),
            defaults: Policy {
                leeway: 0,
                accepted_typ: Vec::new(),
                typ_required: false,
                algorithms: strings(&["RS256"]),
                key_without_kid: KeyWithoutKid::Refused,
                reject_unknown_crit: true,
                numeric_strings: true,
                string_claims: strings(&["sub", "jti"]),
                jwks_cache: 300,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 30,
                bearer_methods: vec![Header, Body],
                exp_required: false,
                check_nbf: true,
                iat: IatPolicy::NotInFuture,
                aud_required: true,
                iss_required: true,
                scope_claims: vec![ScopeClaim::Scope],
                reject_other_kinds: false,
                dpop: false,
            },
        },
        Profile {
            name: "jsonwebtoken-node-9".into(),
            description: "auth0 jsonwebtoken 9.x jwt.verify with jwks-rsa 3, as an Express API calls it (CI checks it against jsonwebtoken 9.0.3 and jwks-rsa 3.2.2)".into(),
            library: Some(Library {
                ecosystem: "npm".into(),
                package: "jsonwebtoken".into(),
                version: "9".into(),
                usage: "jwt.verify(token, (await jwksClient({ jwksUri }).getSigningKey(kid)).getPublicKey(), \
                        { issuer, audience, clockTolerance: leeway }) (algorithms: the key type's defaults)"
                    .into(),
                algorithms: strings(JSONWEBTOKEN_ALGS),
            }),
            checks: strings(&[
                "typ is not checked",
                "alg: the defaults for the key type (RS256/384/512 and PS256/384/512 for RSA keys, ES256/384/512 for EC keys); EdDSA is refused even when the resource lists it (jsonwebtoken 9 cannot verify it)",
                "kid is looked up with jwks-rsa: keys cached 10 min, an unknown kid fetches the JWKS again; without kid, the JWKS's only key is used (none when it has several)",
                "crit is not looked at",
                "iss and aud are compared when the options are given",
                "exp and nbf are checked when present, clockTolerance 0; iat is not checked",
                "scopes are not checked by jsonwebtoken: the API's own code reads scope",
                "the token kind is not checked",
                "DPoP is not checked: the library verifies the JWT only; Authorization: DPoP is not understood and a DPoP-bound token is accepted as a Bearer token (RFC 9449 §7 is the application's job)",
            ]),
            defaults: Policy {
                leeway: 0,
                accepted_typ: Vec::new(),
                typ_required: false,
                algorithms: strings(JSONWEBTOKEN_ALGS),
                key_without_kid: KeyWithoutKid::OnlyKey,
                reject_unknown_crit: false,
                numeric_strings: false,
                string_claims: Vec::new(),
                jwks_cache: 600,
                jwks_refetch_on_unknown_kid: true,
                jwks_refetch_cooldown: 0,
                bearer_methods: vec![Header, Body],
                exp_required: false,
                check_nbf: true,
                iat: IatPolicy::Ignore,
                aud_required: true,
                iss_required: true,
                scope_claims: vec![ScopeClaim::Scope],
                reject_other_kinds: false,
                dpop: false,
            },
        },
    ]
}

/// Every profile, the default first.
pub fn profiles() -> &'static [Profile] {
    static TABLE: OnceLock<Vec<Profile>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The profile named `name`.
pub fn find(name: &str) -> Option<&'static Profile> {
    profiles().iter().find(|p| p.name == name)
}

/// The default profile.
pub fn default_profile() -> &'static Profile {
    // The table always starts with it; fall back to a fresh build only to avoid a panic path.
    match profiles().first() {
        Some(p) => p,
        None => {
            static FALLBACK: OnceLock<Profile> = OnceLock::new();
            FALLBACK.get_or_init(|| build().swap_remove(0))
        }
    }
}

/// The names, for error messages.
pub fn names() -> Vec<&'static str> {
    profiles().iter().map(|p| p.name.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_keys_override_the_profile() {
        let r = Resource {
            name: "x".into(),
            profile: Some("rfc9068".into()),
            leeway: Some(crate::model::Seconds(30)),
            ..Resource::default()
        };
        let p = Policy::resolve(&r);
        assert_eq!(p.leeway, 30);
        assert!(p.typ_required);
        assert_eq!(default_profile().name, DEFAULT_PROFILE);
        assert!(names().contains(&"jose-node-5"));
    }

    #[test]
    fn a_typ_option_of_a_library_profile_requires_typ_as_jose_does() {
        let r = Resource {
            name: "x".into(),
            profile: Some("jose-node-5".into()),
            accepted_typ: Some(strings(&["at+jwt"])),
            ..Resource::default()
        };
        assert!(Policy::resolve(&r).typ_required);
        let r = Resource {
            profile: Some("latchkey".into()),
            ..r
        };
        assert!(!Policy::resolve(&r).typ_required);
    }

    #[test]
    fn a_library_profile_keeps_only_the_algorithms_its_library_verifies() {
        let r = Resource {
            name: "x".into(),
            profile: Some("jsonwebtoken-node-9".into()),
            algorithms: Some(strings(&["ES256", "EdDSA"])),
            ..Resource::default()
        };
        assert_eq!(Policy::resolve(&r).algorithms, strings(&["ES256"]));
        let r = Resource {
            profile: Some("jose-node-5".into()),
            ..r
        };
        assert_eq!(Policy::resolve(&r).algorithms, strings(&["ES256", "EdDSA"]));
        let r = Resource { profile: None, ..r };
        assert_eq!(Policy::resolve(&r).algorithms, strings(&["ES256", "EdDSA"]));
        for p in profiles() {
            if let Some(lib) = &p.library {
                for a in &p.defaults.algorithms {
                    assert!(
                        lib.algorithms.contains(a),
                        "{}: {a} is not verifiable by {}",
                        p.name,
                        lib.package
                    );
                }
            }
        }
    }
}
