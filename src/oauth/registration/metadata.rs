//! Client metadata (RFC 7591 §2) as sent to the registration endpoint or published in a Client
//! ID Metadata Document: parsed member by member, checked against the registration policy
//! (`[registration]`, `[fetch]`), and turned into a [`Client`].
//!
//! Errors are RFC 7591 §3.2.2's: `invalid_redirect_uri` for anything about `redirect_uris`
//! (and `post_logout_redirect_uris`), `invalid_client_metadata` for every other member. Members
//! Latchkey does not understand are ignored (RFC 7591 §2: "MUST ignore"), and not echoed back.

use serde_json::{Map, Value};

use crate::model::{AuthMethod, Client, FetchSettings, GrantType, JwkSet, RegistrationSettings};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::request::RESPONSE_TYPES;

/// Display-only URL members: stored and shown, never fetched (`logo_uri` included).
pub const DISPLAY_URIS: &[&str] = &["client_uri", "logo_uri", "tos_uri", "policy_uri"];

/// Display-only string members.
pub const DISPLAY_STRINGS: &[&str] = &["software_id", "software_version"];

/// Most redirect URIs (and post-logout redirect URIs, and contacts) one client may register.
pub const MAX_URIS: usize = 20;
/// Longest redirect URI accepted, in bytes.
pub const MAX_URI_BYTES: usize = 2048;

/// Grant types a dynamically registered client may ask for. The server-to-server powers
/// (token exchange, JWT bearer) and the password grant (RFC 9700 §2.4) are for clients the
/// developer configured.
pub const DYNAMIC_GRANTS: &[GrantType] = &[
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::Implicit,
    GrantType::ClientCredentials,
    GrantType::DeviceCode,
];

/// `invalid_client_metadata` naming the member.
pub fn bad_metadata(member: &str, why: impl std::fmt::Display) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, format!("{member}: {why}"))
}

/// `invalid_redirect_uri`.
pub fn bad_redirect(why: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRedirectUri, why)
}

fn string_list(
    m: &Map<String, Value>,
    member: &str,
    invalid: fn(&str, String) -> OAuthError,
) -> Result<Option<Vec<String>>, OAuthError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(member, "must be an array of strings".into()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid(member, "must be an array of strings".into())),
    }
}

fn string(m: &Map<String, Value>, member: &str) -> Result<Option<String>, OAuthError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad_metadata(member, "must be a string")),
    }
}

fn boolean(m: &Map<String, Value>, member: &str) -> Result<bool, OAuthError> {
    match m.get(member) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad_metadata(member, "must be true or false")),
    }
}

fn meta(member: &str, why: String) -> OAuthError {
    bad_metadata(member, why)
}

fn redirect(member: &str, why: String) -> OAuthError {
    bad_redirect(format!("{member}: {why}"))
}

/// Whether a redirect URI is allowed to an untrusted (dynamically registered or
/// metadata-document) client by default: `http`/`https` on a loopback host (RFC 8252 §7.3,
/// §8.3) or a private-use scheme (RFC 8252 §7.1). `same_origin`: an extra origin whose http(s)
/// URIs are also allowed (a metadata document's own origin).
pub fn redirect_allowed(
    uri: &str,
    policy: &RegistrationSettings,
    same_origin: Option<&url::Origin>,
) -> Result<(), String> {
    let u = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URI ({e})"))?;
    match u.scheme() {
        "http" | "https" => {
            if policy.allow_non_loopback_redirect_uris
                || u.host().is_some_and(|h| crate::fetch::is_loopback_host(&h))
                || same_origin.is_some_and(|o| *o == u.origin())
            {
                Ok(())
            } else {
                Err(format!(
                    "`{uri}` is not on this machine: dynamically registered clients may use loopback redirect URIs \
                     (http://127.0.0.1, http://[::1], http://localhost) or private-use schemes (com.example.app:/cb) \
                     unless [registration] allow_non_loopback_redirect_uris = true"
                ))
            }
        }
        _ => Ok(()),
    }
}

/// Where the metadata comes from, which decides the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A registration request (RFC 7591 §3.1) or update (RFC 7592 §2.2).
    Registration,
    /// A Client ID Metadata Document fetched from this URL (its `client_id`).
    Document(&'a url::Url),
}

/// The metadata, checked, as a [`Client`] (without `client_id`, secret or registration record)
/// and the normalised metadata to store and return. `scope_exists` tells registered scopes;
/// `all_scopes` is the default when `scope` is omitted (RFC 7591 §2 lets the server pick).
pub fn parse(
    m: &Map<String, Value>,
    source: Source<'_>,
    policy: &RegistrationSettings,
    fetch: &FetchSettings,
    scope_exists: &dyn Fn(&str) -> bool,
    all_scopes: &[String],
) -> Result<(Client, Map<String, Value>), OAuthError> {
    let mut out = Map::new();
    // token_endpoint_auth_method (RFC 7591 §2: default client_secret_basic; a metadata
    // document: `none` or private_key_jwt only, there being no way to share a secret).
    let method_name = string(m, "token_endpoint_auth_method")?;
    let method = match method_name.as_deref() {
        None => match source {
            Source::Registration => AuthMethod::ClientSecretBasic,
            Source::Document(_) => AuthMethod::None,
        },
        Some(name) => serde_json::from_value::<AuthMethod>(Value::String(name.to_string())).map_err(|_| {
            bad_metadata(
                "token_endpoint_auth_method",
                format!("`{name}` is not supported; use none, client_secret_basic, client_secret_post, client_secret_jwt or private_key_jwt"),
            )
        })?,
    };
    if let Source::Document(_) = source {
        if !matches!(method, AuthMethod::None | AuthMethod::PrivateKeyJwt) {
            return Err(bad_metadata(
                "token_endpoint_auth_method",
                format!(
                    "`{}` needs a shared secret, which a client ID metadata document cannot have; use none or private_key_jwt",
                    method.as_str()
                ),
            ));
        }
        for member in ["client_secret", "client_secret_expires_at"] {
            if m.contains_key(member) {
                return Err(bad_metadata(member, "must not appear in a client ID metadata document"));
            }
        }
    }
    out.insert(
        "token_endpoint_auth_method".into(),
        Value::String(method.as_str().into()),
    );

    // grant_types and response_types (RFC 7591 §2.1: they must agree).
    let grant_names = string_list(m, "grant_types", meta)?.unwrap_or_else(|| vec!["authorization_code".into()]);
    let mut grants = Vec::new();
    for g in &grant_names {
        let grant = serde_json::from_value::<GrantType>(Value::String(g.clone()))
            .map_err(|_| bad_metadata("grant_types", format!("`{g}` is not a grant type Latchkey supports")))?;
        let allowed: &[GrantType] = match source {
            Source::Registration => DYNAMIC_GRANTS,
            Source::Document(_) => &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        };
        if !allowed.contains(&grant) {
            return Err(bad_metadata(
                "grant_types",
                format!(
                    "`{g}` is not available to dynamically registered clients; configure such a client in latchkey.toml or the admin UI"
                ),
            ));
        }
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.is_empty() {
        return Err(bad_metadata("grant_types", "must not be empty"));
    }
    if method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        return Err(bad_metadata(
            "grant_types",
            "client_credentials needs client authentication; a client with token_endpoint_auth_method `none` cannot use it",
        ));
    }
    let response_types = string_list(m, "response_types", meta)?.unwrap_or_else(|| {
        if grants.contains(&GrantType::AuthorizationCode) {
            vec!["code".into()]
        } else {
            Vec::new()
        }
    });
    for rt in &response_types {
        if !RESPONSE_TYPES.contains(&rt.as_str()) {
            return Err(bad_metadata(
                "response_types",
                format!("`{rt}` is not supported ({})", RESPONSE_TYPES.join(", ")),
            ));
        }
        let words: Vec<&str> = rt.split(' ').collect();
        if words.contains(&"code") && !grants.contains(&GrantType::AuthorizationCode) {
            return Err(bad_metadata(
                "response_types",
                format!("`{rt}` needs the authorization_code grant in grant_types (RFC 7591 §2.1)"),
            ));
        }
        if (words.contains(&"token") || (words.contains(&"id_token") && !words.contains(&"code")))
            && !grants.contains(&GrantType::Implicit)
        {
            return Err(bad_metadata(
                "response_types",
                format!("`{rt}` needs the implicit grant in grant_types (RFC 7591 §2.1)"),
            ));
        }
    }
    out.insert(
        "grant_types".into(),
        grants.iter().map(|g| Value::String(g.as_str().into())).collect(),
    );
    out.insert(
        "response_types".into(),
        response_types.iter().cloned().map(Value::String).collect(),
    );

    // redirect_uris and post_logout_redirect_uris.
    let same_origin = match source {
        Source::Document(u) => Some(u.origin()),
        Source::Registration => None,
    };
    let redirect_uris = string_list(m, "redirect_uris", redirect)?.unwrap_or_default();
    let needs_redirect = grants
        .iter()
        .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
    if needs_redirect && redirect_uris.is_empty() {
        return Err(bad_redirect(
            "redirect_uris: required for the authorization_code and implicit grants (RFC 7591 §2)",
        ));
    }
    let mut post_logout = string_list(m, "post_logout_redirect_uris", redirect)?.unwrap_or_default();
    for (member, list) in [
        ("redirect_uris", &redirect_uris),
        ("post_logout_redirect_uris", &post_logout),
    ] {
        if list.len() > MAX_URIS {
            return Err(bad_redirect(format!("{member}: at most {MAX_URIS} URIs")));
        }
        for uri in list.iter() {
            if uri.len() > MAX_URI_BYTES {
                return Err(bad_redirect(format!(
                    "{member}: a URI is longer than {MAX_URI_BYTES} bytes"
                )));
            }
            crate::validate::check_redirect_uri(uri).map_err(|e| bad_redirect(format!("{member}: {e}")))?;
            redirect_allowed(uri, policy, same_origin.as_ref()).map_err(|e| bad_redirect(format!("{member}: {e}")))?;
        }
    }
    out.insert(
        "redirect_uris".into(),
        redirect_uris.iter().cloned().map(Value::String).collect(),
    );
    if !post_logout.is_empty() {
        out.insert(
            "post_logout_redirect_uris".into(),
            post_logout.iter().cloned().map(Value::String).collect(),
        );
    }

    // scope (RFC 7591 §2: space-separated).
    let scopes: Vec<String> = match string(m, "scope")? {
        Some(s) => {
            let mut v: Vec<String> = Vec::new();
            for t in s.split(' ').filter(|t| !t.is_empty()) {
                if !crate::validate::is_scope_token(t) {
                    return Err(bad_metadata(
                        "scope",
                        format!("`{t}` is not a valid scope token (RFC 6749 §3.3)"),
                    ));
                }
                if !scope_exists(t) {
                    return Err(bad_metadata(
                        "scope",
                        format!("`{t}` is not a scope registered in Latchkey"),
                    ));
                }
                if !v.iter().any(|x| x == t) {
                    v.push(t.to_string());
                }
            }
            v
        }
        None => all_scopes.to_vec(),
    };
    out.insert("scope".into(), Value::String(scopes.join(" ")));

    // Keys: jwks or jwks_uri, never both (RFC 7591 §2).
    let jwks = match m.get("jwks") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<JwkSet>(v.clone())
                .map_err(|_| bad_metadata("jwks", "must be a JWK Set: an object with a `keys` array (RFC 7517 §5)"))?,
        ),
    };
    let jwks_uri = string(m, "jwks_uri")?;
    if jwks.is_some() && jwks_uri.is_some() {
        return Err(bad_metadata(
            "jwks",
            "jwks and jwks_uri must not both be present (RFC 7591 §2)",
        ));
    }
    if let Some(u) = &jwks_uri {
        let parsed = url::Url::parse(u).map_err(|e| bad_metadata("jwks_uri", format!("`{u}` is not a URL ({e})")))?;
        crate::fetch::check_url(&parsed, fetch).map_err(|e| bad_metadata("jwks_uri", e))?;
    }
    if let Some(j) = &jwks {
        out.insert("jwks".into(), serde_json::to_value(j).unwrap_or(Value::Null));
    }
    if let Some(u) = &jwks_uri {
        out.insert("jwks_uri".into(), Value::String(u.clone()));
    }
    let signing_alg = string(m, "token_endpoint_auth_signing_alg")?;
    if let Some(a) = &signing_alg {
        out.insert("token_endpoint_auth_signing_alg".into(), Value::String(a.clone()));
    }

    // The other specifications' client metadata: DPoP (RFC 9449 §5.2), PAR (RFC 9126 §6) and
    // back-channel logout (OpenID Connect Back-Channel Logout 1.0 §2.2). The logout URI is
    // where Latchkey will POST, so it must pass the `[fetch]` policy like a jwks_uri.
    let dpop_bound = boolean(m, "dpop_bound_access_tokens")?;
    let require_par = boolean(m, "require_pushed_authorization_requests")?;
    let logout_uri = string(m, "backchannel_logout_uri")?;
    let logout_sid = boolean(m, "backchannel_logout_session_required")?;
    if let Some(u) = &logout_uri {
        let parsed = url::Url::parse(u)
            .map_err(|e| bad_metadata("backchannel_logout_uri", format!("`{u}` is not a URL ({e})")))?;
        crate::fetch::check_url(&parsed, fetch).map_err(|e| bad_metadata("backchannel_logout_uri", e))?;
        out.insert("backchannel_logout_uri".into(), Value::String(u.clone()));
    }
    for (member, on) in [
        ("dpop_bound_access_tokens", dpop_bound),
        ("require_pushed_authorization_requests", require_par),
        ("backchannel_logout_session_required", logout_sid),
    ] {
        if on {
            out.insert(member.into(), Value::Bool(true));
        }
    }

    // Display members: kept, shown, never fetched.
    let name = string(m, "client_name")?.unwrap_or_default();
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(bad_metadata(
            "client_name",
            "must be at most 200 characters, without control characters",
        ));
    }
    if !name.is_empty() {
        out.insert("client_name".into(), Value::String(name.clone()));
    }
    for member in DISPLAY_URIS {
        if let Some(u) = string(m, member)? {
            let ok = url::Url::parse(&u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
            if !ok {
                return Err(bad_metadata(member, format!("`{u}` must be an http or https URL")));
            }
            out.insert((*member).into(), Value::String(u));
        }
    }
    for member in DISPLAY_STRINGS {
        if let Some(s) = string(m, member)? {
            out.insert((*member).into(), Value::String(s));
        }
    }
    if let Some(contacts) = string_list(m, "contacts", meta)? {
        if contacts.len() > MAX_URIS || contacts.iter().any(|c| c.len() > 320) {
            return Err(bad_metadata(
                "contacts",
                format!("at most {MAX_URIS} addresses of 320 characters"),
            ));
        }
        out.insert("contacts".into(), contacts.into_iter().map(Value::String).collect());
    }
    post_logout.dedup();

    let client = Client {
        name,
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types: grants,
        scopes,
        token_endpoint_auth_method: Some(method),
        require_consent: policy.require_consent,
        remember_consent: policy.require_consent.then_some(false),
        jwks,
        jwks_uri,
        token_endpoint_auth_signing_alg: signing_alg,
        dpop_bound_access_tokens: dpop_bound,
        require_pushed_authorization_requests: require_par,
        backchannel_logout_uri: logout_uri,
        backchannel_logout_session_required: logout_sid,
        ..Client::default()
    };
    Ok((client, out))
}

/// Maps the registry's validation of the built client (`validate::client`) to RFC 7591 §3.2.2
/// errors: a redirect URI problem is `invalid_redirect_uri`, anything else
/// `invalid_client_metadata`.
pub fn check_client(c: &Client, scope_exists: &dyn Fn(&str) -> bool) -> Result<(), OAuthError> {
    let errs = crate::validate::client(c, scope_exists);
    let Some(first) = errs.first() else {
        return Ok(());
    };
    let path = first.path.to_string();
    if path.contains("redirect_uri") {
        Err(bad_redirect(format!("{path}: {}", first.message)))
    } else {
        Err(bad_metadata(&path, &first.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(v: Value) -> Result<(Client, Map<String, Value>), OAuthError> {
        let m = v.as_object().unwrap().clone();
        parse(
            &m,
            Source::Registration,
            &RegistrationSettings::default(),
            &FetchSettings::default(),
            &|s| ["openid", "profile"].contains(&s),
            &["openid".into(), "profile".into()],
        )
    }

    #[test]
    fn defaults_follow_rfc_7591() {
        let (c, out) = run(json!({"redirect_uris": ["http://127.0.0.1/cb"]})).unwrap();
        assert_eq!(c.token_endpoint_auth_method, Some(AuthMethod::ClientSecretBasic));
        assert_eq!(c.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(out["response_types"], json!(["code"]));
        assert_eq!(c.scopes, vec!["openid", "profile"]);
        assert!(c.require_consent);
        assert_eq!(c.remember_consent, Some(false));
    }

    #[test]
    fn each_problem_has_its_error() {
        let code = |v: Value| run(v).unwrap_err().code;
        assert_eq!(code(json!({})), ErrorCode::InvalidRedirectUri);
        assert_eq!(
            code(json!({"redirect_uris": ["https://app.example/cb"]})),
            ErrorCode::InvalidRedirectUri
        );
        assert_eq!(
            code(json!({"redirect_uris": ["javascript:alert(1)"]})),
            ErrorCode::InvalidRedirectUri
        );
        assert_eq!(
            code(json!({"redirect_uris": "http://127.0.0.1/cb"})),
            ErrorCode::InvalidRedirectUri
        );
        let cb = json!(["http://127.0.0.1/cb"]);
        assert_eq!(
            code(json!({"redirect_uris": cb, "grant_types": ["password"]})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "grant_types": ["nope"]})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "token_endpoint_auth_method": "tls"})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "scope": "admin"})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "response_types": ["token"]})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "jwks": {"keys": []}, "jwks_uri": "https://k.example/jwks"})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "jwks_uri": "http://10.0.0.1/jwks"})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(json!({"redirect_uris": cb, "logo_uri": "file:///etc/passwd"})),
            ErrorCode::InvalidClientMetadata
        );
        assert_eq!(
            code(
                json!({"redirect_uris": cb, "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]})
            ),
            ErrorCode::InvalidClientMetadata
        );
    }

    #[test]
    fn private_use_schemes_and_widening() {
        assert!(run(json!({"redirect_uris": ["com.example.app:/cb"]})).is_ok());
        let wide = RegistrationSettings {
            allow_non_loopback_redirect_uris: true,
            ..Default::default()
        };
        assert!(redirect_allowed("https://app.example/cb", &wide, None).is_ok());
        let doc = url::Url::parse("https://app.example/client.json").unwrap();
        assert!(
            redirect_allowed(
                "https://app.example/cb",
                &RegistrationSettings::default(),
                Some(&doc.origin())
            )
            .is_ok()
        );
        assert!(
            redirect_allowed(
                "https://other.example/cb",
                &RegistrationSettings::default(),
                Some(&doc.origin())
            )
            .is_err()
        );
    }
}
