//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3, §3.2.1; RFC 7662 §2.1; RFC 7009 §2.1).
//!
//! Each client authenticates with the method it registered: a secret (HTTP Basic or the form,
//! RFC 6749 §2.3.1), a JWT assertion signed with its private key (`private_key_jwt`) or with its
//! secret (`client_secret_jwt`) (RFC 7523 §2.2, OIDC Core §9), or nothing for a public client.
//! The same code path serves every endpoint that authenticates clients. Secrets are compared in
//! constant time (over their SHA-256 digests, so not even the length leaks). Client ids match
//! byte for byte.

use std::sync::Arc;

use base64::Engine;
use subtle::ConstantTimeEq;

use super::assertion::{
    self, ASYMMETRIC_ALGS, AssertionReport, AssertionSeen, CLIENT_ASSERTION_TYPE, Expectations, HMAC_ALGS, Peeked,
    Refusal, VerifyKeys,
};
use super::error::{ErrorCode, OAuthError};
use super::form::{Form, decode_component};
use crate::model::{AuthMethod, Client};
use crate::provider::Provider;

/// Longest accepted lifetime of a client assertion, in seconds: `exp` at most 10 minutes after
/// now (and after `iat`). Keeps the replay set's entries short-lived.
pub const MAX_CLIENT_ASSERTION_LIFETIME: i64 = 600;

/// Where a client authenticates, for the accepted `aud` values of its assertions.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The endpoint's path (`paths::TOKEN`, `paths::INTROSPECT`, ...).
    pub path: &'static str,
    /// Whether a public client (method `none`, identified by `client_id` alone) is accepted.
    pub allow_public: bool,
}

/// What the `Authorization` header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasicAuth {
    /// No `Authorization: Basic` header.
    Absent,
    /// A Basic header that does not decode (the reason is kept).
    Malformed(String),
    /// Decoded client id and secret.
    Credentials {
        /// The client id.
        id: String,
        /// The secret.
        secret: String,
    },
}

impl BasicAuth {
    /// Parses an `Authorization` header value. Schemes other than Basic count as absent.
    ///
    /// RFC 6749 §2.3.1: the id and secret are form-urlencoded before being joined with `:`
    /// and base64-encoded (RFC 7617), so both are decoded here.
    pub fn parse(header: Option<&[u8]>) -> BasicAuth {
        let Some(raw) = header else {
            return BasicAuth::Absent;
        };
        let Ok(value) = std::str::from_utf8(raw) else {
            return BasicAuth::Malformed("the Authorization header is not valid UTF-8".into());
        };
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return BasicAuth::Absent;
        }
        let rest = rest.trim();
        let decoded = match base64::engine::general_purpose::STANDARD
            .decode(rest)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(rest))
        {
            Ok(d) => d,
            Err(_) => return BasicAuth::Malformed("the Basic credentials are not valid base64".into()),
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return BasicAuth::Malformed("the Basic credentials have no `:` between id and secret".into());
        };
        let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
        match (decode_component(id), decode_component(secret)) {
            (Ok(id), Ok(secret)) => BasicAuth::Credentials { id, secret },
            (Err(e), _) | (_, Err(e)) => BasicAuth::Malformed(format!(
                "the Basic credentials must be form-urlencoded (RFC 6749 §2.3.1): {e}"
            )),
        }
    }
}

/// Whether two secrets are equal, in constant time.
pub fn secrets_match(presented: &str, expected: &str) -> bool {
    let a = crate::ids::token_hash(presented);
    let b = crate::ids::token_hash(expected);
    a.ct_eq(&b).into()
}

/// Authenticates the calling client from the Basic header and the form (RFC 6749 §2.3,
/// RFC 7523 §2.2), at `endpoint`. A client assertion's report goes to `seen` for the request
/// log.
///
/// Errors: `invalid_request` for a request that mixes methods or lacks a parameter,
/// `invalid_client` (401) for failed authentication, a client using another method than it
/// registered included.
pub async fn authenticate(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    endpoint: Endpoint,
    seen: &AssertionSeen,
) -> Result<Arc<Client>, OAuthError> {
    let allow_public = endpoint.allow_public;
    let post_id = form.get("client_id")?;
    let post_secret = form.get("client_secret")?;
    let client_assertion = form.get("client_assertion")?;
    let assertion_type = form.get("client_assertion_type")?;
    // A URL client_id of a metadata-document client (draft: `none` or private_key_jwt).
    if let Some(id) = post_id
        && let Err(why) = super::client_metadata_document::resolve(p, id).await
    {
        return Err(OAuthError::invalid_client(why, false));
    }
    if client_assertion.is_some() || assertion_type.is_some() {
        if !matches!(basic, BasicAuth::Absent) {
            return Err(OAuthError::invalid_request(
                "the client sent both HTTP Basic credentials and client_assertion; use exactly one method (RFC 6749 §2.3)",
            ));
        }
        if post_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client sent both client_secret and client_assertion; use exactly one method (RFC 6749 §2.3)",
            ));
        }
        let (Some(jwt), Some(kind)) = (client_assertion, assertion_type) else {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type go together (RFC 7521 §4.2); one of them is missing",
            ));
        };
        if kind != CLIENT_ASSERTION_TYPE {
            return Err(OAuthError::invalid_client(
                format!(
                    "client_assertion_type `{kind}` is not supported; use `{CLIENT_ASSERTION_TYPE}` (RFC 7523 §2.2)"
                ),
                false,
            ));
        }
        return client_assertion_auth(p, post_id, jwt, endpoint, seen).await;
    }
    match basic {
        BasicAuth::Malformed(why) => Err(OAuthError::invalid_client(why.clone(), true)),
        BasicAuth::Credentials { id, secret } => {
            if post_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "the client used both HTTP Basic and client_secret in the body; use exactly one method (RFC 6749 §2.3)",
                ));
            }
            if post_id.is_some_and(|pid| pid != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the client in the Authorization header",
                ));
            }
            let client = lookup(p, id, true)?;
            check_method(&client, AuthMethod::ClientSecretBasic, true)?;
            check_secret(&client, secret, true)?;
            Ok(client)
        }
        BasicAuth::Absent => match (post_id, post_secret) {
            (Some(id), Some(secret)) => {
                let client = lookup(p, id, false)?;
                check_method(&client, AuthMethod::ClientSecretPost, false)?;
                check_secret(&client, secret, false)?;
                Ok(client)
            }
            (Some(id), None) => {
                let client = lookup(p, id, false)?;
                if !client.is_public() {
                    return Err(OAuthError::invalid_client(
                        format!(
                            "client `{id}` is confidential and must authenticate with {}",
                            client.auth_method().as_str()
                        ),
                        false,
                    ));
                }
                if !allow_public {
                    return Err(OAuthError::invalid_client(
                        format!("client `{id}` is a public client; this endpoint requires client authentication"),
                        false,
                    ));
                }
                Ok(client)
            }
            (None, Some(_)) => Err(OAuthError::invalid_request("client_secret was sent without client_id")),
            (None, None) => Err(OAuthError::invalid_client(
                "no client authentication: send HTTP Basic credentials or client_id and client_secret (RFC 6749 §2.3.1)",
                false,
            )),
        },
    }
}

/// The accepted `aud` values of a client assertion at `endpoint` (RFC 7523 §3 item 3,
/// OIDC Core §9, RFC 9126 §2): the issuer identifier, the token endpoint URL, and the URL of the
/// endpoint being called, on the front and (when configured) the back channel.
pub fn accepted_audiences(p: &Provider, endpoint: &str) -> Vec<String> {
    let mut v = vec![
        p.issuer.id.clone(),
        p.issuer.url(super::paths::TOKEN),
        p.issuer.url(endpoint),
    ];
    if let Some(b) = p.back_channel() {
        v.push(b.url(super::paths::TOKEN));
        v.push(b.url(endpoint));
    }
    v.dedup();
    v
}

fn assertion_error(r: &Refusal, client_id: &str) -> OAuthError {
    match r {
        Refusal::Busy(m) => OAuthError::new(ErrorCode::TemporarilyUnavailable, m.clone()),
        other => OAuthError::invalid_client(
            format!("client assertion of `{client_id}` refused: {}", other.message()),
            false,
        ),
    }
}

/// `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9).
async fn client_assertion_auth(
    p: &Provider,
    post_id: Option<&str>,
    jwt: &str,
    endpoint: Endpoint,
    seen: &AssertionSeen,
) -> Result<Arc<Client>, OAuthError> {
    let basis = p.settings().assertion_time;
    let now = p.clock.peer_now(basis);
    let peeked = Peeked::parse(jwt).map_err(|r| OAuthError::invalid_client(r.message().to_string(), false))?;
    let used = if peeked.alg().starts_with("HS") {
        AuthMethod::ClientSecretJwt
    } else {
        AuthMethod::PrivateKeyJwt
    };
    let mut report = AssertionReport::of("client_assertion", used.as_str(), &peeked, now, basis);
    let result = async {
        // OIDC Core §9: iss and sub are the client_id; client_id in the form, when sent, too.
        let id = match (post_id, peeked.claim_str("sub")) {
            (Some(id), Some(sub)) if id != sub => {
                return Err(OAuthError::invalid_client(
                    format!("client_id is `{id}` but the assertion's `sub` is `{sub}`; both must be the client id"),
                    false,
                ));
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => {
                return Err(OAuthError::invalid_client(
                    "the client assertion has no `sub` (the client id) and no client_id was sent",
                    false,
                ));
            }
        };
        let client = lookup(p, id, false)?;
        check_method(&client, used, false)?;
        let registered: Vec<&str> = match &client.token_endpoint_auth_signing_alg {
            Some(a) => vec![a.as_str()],
            None if used == AuthMethod::ClientSecretJwt => HMAC_ALGS.to_vec(),
            None => ASYMMETRIC_ALGS.to_vec(),
        };
        let audiences = accepted_audiences(p, endpoint.path);
        let expect = Expectations {
            issuer: &client.client_id,
            subject: Some(&client.client_id),
            audiences: &audiences,
            algorithms: &registered,
            max_lifetime: MAX_CLIENT_ASSERTION_LIFETIME,
            jti_required: true,
            replay_scope: format!("client:{}", client.client_id),
            now,
            basis,
        };
        let refusal = |r: Refusal| assertion_error(&r, &client.client_id);
        match used {
            AuthMethod::ClientSecretJwt => {
                report.key_source = "client_secret".into();
                let secret = client.client_secret.as_deref().unwrap_or_default();
                assertion::verify(&peeked, VerifyKeys::Secret(secret.as_bytes()), &expect, &p.jtis).map_err(refusal)?;
            }
            _ => {
                if let Some(set) = &client.jwks {
                    report.key_source = "jwks".into();
                    assertion::verify(&peeked, VerifyKeys::Jwks(&set.keys), &expect, &p.jtis).map_err(refusal)?;
                } else if let Some(uri) = &client.jwks_uri {
                    report.key_source = "jwks_uri".into();
                    verify_with_uri(p, &peeked, uri, &expect).await.map_err(|e| match e {
                        Fetched::Refused(r) => refusal(r),
                        Fetched::Failed(m) => OAuthError::invalid_client(
                            format!("the keys of `{}` could not be fetched: {m}", client.client_id),
                            false,
                        ),
                    })?;
                } else {
                    return Err(OAuthError::invalid_client(
                        format!(
                            "client `{}` has no registered keys (jwks or jwks_uri)",
                            client.client_id
                        ),
                        false,
                    ));
                }
            }
        }
        Ok(client)
    }
    .await;
    match &result {
        Ok(_) => report.accepted = true,
        Err(e) => report.refused = Some(e.description.clone()),
    }
    seen.record(report);
    result
}

/// Why verifying against a `jwks_uri` failed.
pub enum Fetched {
    /// The assertion was refused.
    Refused(Refusal),
    /// The keys could not be fetched (unreachable, slow, not a JWK Set).
    Failed(String),
}

/// Verifies `peeked` with the keys at `uri`; an unknown `kid` fetches the keys again once
/// (key rotation), within the cooldown of [`super::jwks_uri::REFETCH_COOLDOWN`].
pub async fn verify_with_uri(
    p: &Provider,
    peeked: &Peeked,
    uri: &str,
    expect: &Expectations<'_>,
) -> Result<(), Fetched> {
    let real = p.clock.real_now();
    let keys = p
        .remote_jwks
        .keys(uri, false, real, &p.settings().fetch)
        .await
        .map_err(Fetched::Failed)?;
    match assertion::verify(peeked, VerifyKeys::Jwks(&keys.keys), expect, &p.jtis) {
        Err(Refusal::UnknownKid(_)) => {
            let again = p
                .remote_jwks
                .keys(uri, true, real, &p.settings().fetch)
                .await
                .map_err(Fetched::Failed)?;
            assertion::verify(peeked, VerifyKeys::Jwks(&again.keys), expect, &p.jtis).map_err(Fetched::Refused)
        }
        other => other.map_err(Fetched::Refused),
    }
}

fn lookup(p: &Provider, id: &str, basic: bool) -> Result<Arc<Client>, OAuthError> {
    p.client(id)
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client `{id}`"), basic))
}

fn check_method(client: &Client, used: AuthMethod, basic: bool) -> Result<(), OAuthError> {
    let registered = client.auth_method();
    if registered == used {
        return Ok(());
    }
    Err(OAuthError::invalid_client(
        format!(
            "client `{}` is registered for {} but authenticated with {}",
            client.client_id,
            registered.as_str(),
            used.as_str()
        ),
        basic,
    ))
}

fn check_secret(client: &Client, presented: &str, basic: bool) -> Result<(), OAuthError> {
    match &client.client_secret {
        Some(expected) if secrets_match(presented, expected) => Ok(()),
        _ => Err(OAuthError::invalid_client(
            format!("wrong client_secret for client `{}`", client.client_id),
            basic,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
        )
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        let h = basic("my client:1", "p@ss:w+rd/%");
        assert_eq!(
            BasicAuth::parse(Some(h.as_bytes())),
            BasicAuth::Credentials {
                id: "my client:1".into(),
                secret: "p@ss:w+rd/%".into()
            }
        );
    }

    #[test]
    fn other_schemes_are_absent_and_garbage_is_malformed() {
        assert_eq!(BasicAuth::parse(Some(b"Bearer abc")), BasicAuth::Absent);
        assert!(matches!(BasicAuth::parse(Some(b"Basic !!!")), BasicAuth::Malformed(_)));
        let no_colon = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("abc"));
        assert!(matches!(
            BasicAuth::parse(Some(no_colon.as_bytes())),
            BasicAuth::Malformed(_)
        ));
        assert!(matches!(BasicAuth::parse(Some(b"basic \xff")), BasicAuth::Malformed(_)));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abc "));
        assert!(!secrets_match("", "abc"));
    }
}
