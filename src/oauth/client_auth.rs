//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3, §3.2.1; RFC 7662 §2.1; RFC 7009 §2.1).
//!
//! Each client authenticates with the method it registered. Secrets are compared in constant
//! time (over their SHA-256 digests, so not even the length leaks). Client ids match byte for
//! byte.

use std::sync::Arc;

use base64::Engine;
use subtle::ConstantTimeEq;

use super::error::OAuthError;
use super::form::{Form, decode_component};
use crate::model::{AuthMethod, Client};
use crate::provider::Provider;

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

/// Authenticates the calling client from the Basic header and the form.
///
/// `allow_public`: whether a public client (method `none`, identified by `client_id` alone)
/// is acceptable here (the token endpoint: yes; introspection and revocation: per RFC, the
/// endpoint decides).
pub fn authenticate(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    allow_public: bool,
) -> Result<Arc<Client>, OAuthError> {
    let post_id = form.get("client_id")?;
    let post_secret = form.get("client_secret")?;
    if form.get("client_assertion")?.is_some() || form.get("client_assertion_type")?.is_some() {
        return Err(OAuthError::invalid_client(
            "JWT client authentication (client_assertion, RFC 7523) is not supported; use client_secret_basic or client_secret_post",
            matches!(basic, BasicAuth::Credentials { .. }),
        ));
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
