//! Validation of clients, scopes, users, resources and settings.
//!
//! Shared by the config file (errors point at a line) and the admin API (errors name a field).
//! Each error carries a path (`clients[1].redirect_uris[0]`) relative to the object.

use std::collections::HashSet;
use std::fmt;

use crate::model::{AuthMethod, Client, GrantType, JwkSet, Resource, Scope, Seconds, Settings, TrustedIssuer, User};

/// The longest lifetime accepted for any token or code: 10 years. Beyond it, `exp` and
/// `expires_in` approach the integer limits and stop meaning anything to clients.
pub const MAX_LIFETIME: u64 = 10 * 365 * 86_400;

/// Checks one lifetime: at least a second, at most [`MAX_LIFETIME`]. Every lifetime the server
/// accepts (settings, `[server]`, a client's override, a minted token) goes through here.
pub fn lifetime(ttl: Seconds) -> Result<(), String> {
    if ttl.0 == 0 {
        Err("must be at least 1 second".into())
    } else if ttl.0 > MAX_LIFETIME {
        Err(format!(
            "must be at most 10 years ({MAX_LIFETIME} seconds); got {}",
            ttl.0
        ))
    } else {
        Ok(())
    }
}

/// Validates the server settings' lifetimes; paths name the field (`access_token_ttl`).
pub fn settings(s: &Settings) -> Vec<FieldError> {
    [
        ("access_token_ttl", s.access_token_ttl),
        ("id_token_ttl", s.id_token_ttl),
        ("refresh_token_ttl", s.refresh_token_ttl),
        ("code_ttl", s.code_ttl),
        ("request_uri_ttl", s.request_uri_ttl),
    ]
    .into_iter()
    .filter_map(|(name, ttl)| lifetime(ttl).err().map(|m| FieldError::new(Path::key(name), m)))
    .chain(
        backchannel_logout_timeout(s.backchannel_logout_timeout)
            .err()
            .map(|m| FieldError::new(Path::key("backchannel_logout_timeout"), m)),
    )
    // `[registration]` and `[fetch]` (dynamic registration, metadata documents).
    .chain(registration_settings(&s.registration, &s.fetch))
    .collect()
}

/// Checks `backchannel_logout_timeout`: 1 to 20 seconds (a protocol request must finish
/// within 30 s, and end-session waits for the receivers).
pub fn backchannel_logout_timeout(t: Seconds) -> Result<(), String> {
    if (1..=20).contains(&t.0) {
        Ok(())
    } else {
        Err(format!("must be between 1 and 20 seconds; got {}", t.0))
    }
}

/// Checks a `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2): an absolute `http` or
/// `https` URI with a host, no fragment and no user information. http is allowed on any host
/// (loopback, a container name): the spec lets the OP allow it, and this is a development tool.
pub fn backchannel_logout_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URI ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("`{uri}` must use http or https (Back-Channel Logout 1.0 §2.2)"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{uri}` has no host"));
    }
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(format!("`{uri}` must not contain a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("`{uri}` must not contain user information"));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{}` contains whitespace or control characters",
            uri.escape_debug()
        ));
    }
    Ok(())
}

/// The client authentication methods the token, introspection and revocation endpoints
/// implement.
pub const SUPPORTED_AUTH_METHODS: &str =
    "client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none";

/// Checks a JWK Set of public keys (`jwks` of a client or a trusted issuer): at most 20 keys,
/// each a public RSA, EC or OKP key Latchkey can verify with, `kid`s unique.
fn jwk_set(set: &JwkSet, at: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if set.keys.is_empty() {
        errs.push(FieldError::new(
            at.clone().then("keys"),
            "is empty; add at least one public key",
        ));
    }
    if set.keys.len() > 20 {
        errs.push(FieldError::new(at.clone().then("keys"), "holds more than 20 keys"));
    }
    let mut kids = HashSet::new();
    for (i, k) in set.keys.iter().enumerate() {
        if let Err(m) = crate::oauth::assertion::check_public_jwk(k) {
            errs.push(FieldError::new(at.clone().then("keys").at(i), m));
        }
        if let Some(kid) = k.get("kid").and_then(serde_json::Value::as_str)
            && !kids.insert(kid)
        {
            errs.push(FieldError::new(
                at.clone().then("keys").at(i).then("kid"),
                format!("kid `{kid}` is used by two keys"),
            ));
        }
    }
    errs
}

/// Checks a `jwks_uri`: an absolute `http` or `https` URL without user information or fragment.
fn jwks_uri(uri: &str) -> Result<(), String> {
    let u = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("`{uri}` uses `{}`; use http or https", u.scheme()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!("`{uri}` has user information; remove it"));
    }
    if u.fragment().is_some() {
        return Err(format!("`{uri}` has a fragment; remove it"));
    }
    Ok(())
}

/// Checks the key material of a client or trusted issuer: `jwks` and `jwks_uri` exclusive,
/// each valid. `required`: one of them must be present.
fn key_source(jwks: Option<&JwkSet>, uri: Option<&str>, required: Option<&str>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match (jwks, uri) {
        (Some(_), Some(_)) => errs.push(FieldError::new(
            Path::key("jwks_uri"),
            "set either jwks (the keys inline) or jwks_uri, not both",
        )),
        (None, None) => {
            if let Some(why) = required {
                errs.push(FieldError::new(Path::key("jwks"), why.to_string()));
            }
        }
        _ => {}
    }
    if let Some(set) = jwks {
        errs.extend(jwk_set(set, &Path::key("jwks")));
    }
    if let Some(Err(m)) = uri.map(jwks_uri) {
        errs.push(FieldError::new(Path::key("jwks_uri"), m));
    }
    errs
}

/// Validates a trusted issuer of JWT bearer assertions (RFC 7523 §2.1).
pub fn trusted_issuer(t: &TrustedIssuer) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !is_identifier(&t.issuer) {
        errs.push(FieldError::new(
            Path::key("issuer"),
            "must be non-empty, without control characters or surrounding spaces",
        ));
    }
    errs.extend(key_source(
        t.jwks.as_ref(),
        t.jwks_uri.as_deref(),
        Some("a trusted issuer needs its public keys: set jwks (inline) or jwks_uri"),
    ));
    for (i, a) in t.algorithms.iter().enumerate() {
        if !crate::oauth::assertion::ASYMMETRIC_ALGS.contains(&a.as_str()) {
            errs.push(FieldError::new(
                Path::key("algorithms").at(i),
                format!(
                    "`{a}` is not accepted; use {}",
                    crate::oauth::assertion::ASYMMETRIC_ALGS.join(", ")
                ),
            ));
        }
    }
    for (field, list) in [("allowed_subjects", &t.allowed_subjects), ("audiences", &t.audiences)] {
        for (i, v) in list.iter().enumerate() {
            if !is_identifier(v) {
                errs.push(FieldError::new(
                    Path::key(field).at(i),
                    "must be non-empty, without control characters or surrounding spaces",
                ));
            }
        }
    }
    errs
}

/// One step of a path into a config document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path into a config document or object, e.g. `clients[1].redirect_uris[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// A path of one key.
    pub fn key(k: &str) -> Path {
        Path(vec![Seg::Key(k.to_string())])
    }

    /// This path followed by `key`.
    pub fn then(&self, key: &str) -> Path {
        let mut p = self.0.clone();
        p.push(Seg::Key(key.to_string()));
        Path(p)
    }

    /// This path followed by `[index]`.
    pub fn at(&self, index: usize) -> Path {
        let mut p = self.0.clone();
        p.push(Seg::Index(index));
        Path(p)
    }

    /// `prefix` followed by this path.
    pub fn under(&self, prefix: &Path) -> Path {
        let mut p = prefix.0.clone();
        p.extend(self.0.iter().cloned());
        Path(p)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A validation failure: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where (relative to the validated object).
    pub path: Path,
    /// What is wrong, for people.
    pub message: String,
}

impl FieldError {
    /// A failure at `path`.
    pub fn new(path: Path, message: impl Into<String>) -> Self {
        FieldError {
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Whether `s` is a valid scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Whether `s` is a usable identifier: non-empty, printable, no surrounding spaces.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.trim() == s && !s.chars().any(char::is_control)
}

/// URI schemes that execute or embed content in the browser instead of navigating to an
/// application: a redirect to one runs script in (or reads data from) Latchkey's origin, so none
/// may be registered as a redirect target. Lower case; compared after the browser's own
/// normalisation (see [`forbidden_scheme`]).
pub const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "vbscript",
    "livescript",
    "data",
    "file",
    "blob",
    "about",
    "filesystem",
    "view-source",
];

/// The scheme a browser would see in `uri`, if it is one of [`FORBIDDEN_SCHEMES`].
///
/// Browsers (WHATWG URL §4.4) strip leading and trailing C0 controls and spaces, remove every
/// tab and newline anywhere, and compare schemes case-insensitively, so `" JavaScript:"`,
/// `"java\tscript:"` and `"JAVASCRIPT://%0aalert(1)"` are all `javascript`. A scheme is never
/// percent-decoded by a browser, but a decoded form is checked too (`java%73cript:` is refused),
/// since such a URI has no legitimate use. Cheap (no allocation beyond the scheme), so the
/// rendering points call it on every redirect.
pub fn forbidden_scheme(uri: &str) -> Option<String> {
    let trimmed = uri.trim_matches(|c: char| c <= ' ');
    let mut scheme = String::new();
    let mut colon = false;
    for c in trimmed.chars() {
        match c {
            '\t' | '\n' | '\r' => continue,
            ':' => {
                colon = true;
                break;
            }
            c => scheme.push(c.to_ascii_lowercase()),
        }
        if scheme.len() > 32 {
            return None;
        }
    }
    if !colon {
        return None;
    }
    let decoded: String = url::form_urlencoded::parse(format!("s={scheme}").as_bytes())
        .next()
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    FORBIDDEN_SCHEMES
        .iter()
        .find(|s| **s == scheme || **s == decoded)
        .map(|s| (*s).to_string())
}

/// Checks that a stored URI may be used as a navigation target (a `Location` header or a form's
/// `action`): not a [`forbidden_scheme`], and no whitespace or control characters, which no
/// valid URI contains (RFC 3986 §2) and which a header cannot carry. The rendering points call
/// this even for URIs that passed [`check_redirect_uri`] when they were registered, so a value
/// from an older database is never rendered. `Err` explains why, for an error page.
pub fn check_navigation_target(uri: &str) -> Result<(), String> {
    if let Some(s) = forbidden_scheme(uri) {
        return Err(format!(
            "the `{s}:` scheme runs or embeds content in the browser and is never a redirect target"
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains whitespace or control characters, which no valid URI has (RFC 3986 §2)".into());
    }
    Ok(())
}

/// Checks a redirect URI (`redirect_uris`, `post_logout_redirect_uris`, and any URI a client
/// registers as a place to send the browser): absolute, no fragment (RFC 6749 §3.1.2), no
/// whitespace or control characters, and not a scheme that executes or embeds content
/// ([`FORBIDDEN_SCHEMES`], RFC 9700 §4.1.3 / OAuth 2.0 Security BCP: `javascript:`, `data:` ...,
/// in any letter case and with the whitespace a browser ignores). The config file, the admin
/// API and later client registration all call this; errors name the URI and the reason.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let refused = |why: String| format!("`{}` is refused: {why}", uri.escape_debug());
    if forbidden_scheme(uri).is_some()
        && let Err(why) = check_navigation_target(uri)
    {
        return Err(refused(why));
    }
    let parsed = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URI ({e})"))?;
    check_navigation_target(uri).map_err(refused)?;
    // The parser's view of the scheme too, in case it normalises something the check above
    // did not (it never should).
    if FORBIDDEN_SCHEMES.contains(&parsed.scheme()) {
        return Err(format!(
            "`{uri}` is refused: the `{}:` scheme runs or embeds content in the browser",
            parsed.scheme()
        ));
    }
    if parsed.fragment().is_some() {
        return Err(format!("`{uri}` must not contain a fragment (RFC 6749 §3.1.2)"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "`{uri}` is refused: it has user information before `@` (deprecated by RFC 3986 §3.2.1), which makes \
             an address such as https://app.example@evil.example look like another site"
        ));
    }
    if parsed.cannot_be_a_base() && parsed.scheme() != "urn" {
        return Err(format!("`{uri}` is not a hierarchical URI"));
    }
    Ok(())
}

/// Validates a client. `scope_exists` tells whether a scope name is registered.
pub fn client(c: &Client, scope_exists: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !is_identifier(&c.client_id) {
        errs.push(FieldError::new(
            Path::key("client_id"),
            "must be non-empty, without control characters or surrounding spaces",
        ));
    }
    let method = c.auth_method();
    errs.extend(key_source(
        c.jwks.as_ref(),
        c.jwks_uri.as_deref(),
        (method == AuthMethod::PrivateKeyJwt)
            .then_some("private_key_jwt needs the client's public keys: set jwks (inline) or jwks_uri (RFC 7523 §2.2)"),
    ));
    if let Some(alg) = &c.token_endpoint_auth_signing_alg {
        let family: &[&str] = match method {
            AuthMethod::ClientSecretJwt => crate::oauth::assertion::HMAC_ALGS,
            AuthMethod::PrivateKeyJwt => crate::oauth::assertion::ASYMMETRIC_ALGS,
            _ => &[],
        };
        if family.is_empty() {
            errs.push(FieldError::new(
                Path::key("token_endpoint_auth_signing_alg"),
                format!(
                    "applies only to private_key_jwt and client_secret_jwt; this client uses {}",
                    method.as_str()
                ),
            ));
        } else if !family.contains(&alg.as_str()) {
            errs.push(FieldError::new(
                Path::key("token_endpoint_auth_signing_alg"),
                format!("`{alg}` does not fit {}; use {}", method.as_str(), family.join(", ")),
            ));
        }
    }
    match (&c.client_secret, method) {
        (Some(s), _) if s.is_empty() => errs.push(FieldError::new(
            Path::key("client_secret"),
            "must not be empty (omit it for a public client)",
        )),
        (Some(_), AuthMethod::None) => errs.push(FieldError::new(
            Path::key("token_endpoint_auth_method"),
            "is `none` (a public client) but a client_secret is set; remove one of them",
        )),
        (Some(_), AuthMethod::PrivateKeyJwt) => errs.push(FieldError::new(
            Path::key("client_secret"),
            "is not used by private_key_jwt (the client signs with its private key); remove it",
        )),
        (None, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt) => errs
            .push(FieldError::new(
                Path::key("client_secret"),
                format!("is required for token_endpoint_auth_method = \"{}\"", method.as_str()),
            )),
        _ => {}
    }
    for (i, uri) in c.redirect_uris.iter().enumerate() {
        if let Err(m) = check_redirect_uri(uri) {
            errs.push(FieldError::new(Path::key("redirect_uris").at(i), m));
        }
    }
    for (i, uri) in c.post_logout_redirect_uris.iter().enumerate() {
        if let Err(m) = check_redirect_uri(uri) {
            errs.push(FieldError::new(Path::key("post_logout_redirect_uris").at(i), m));
        }
    }
    let mut seen = HashSet::new();
    for (i, g) in c.grant_types.iter().enumerate() {
        if !seen.insert(*g) {
            errs.push(FieldError::new(
                Path::key("grant_types").at(i),
                format!("`{}` is listed twice", g.as_str()),
            ));
        }
        if *g == GrantType::ClientCredentials && method == AuthMethod::None {
            errs.push(FieldError::new(
                Path::key("grant_types").at(i),
                "a public client (no client_secret) cannot use client_credentials (RFC 6749 §4.4)",
            ));
        }
        if *g == GrantType::TokenExchange && method == AuthMethod::None {
            errs.push(FieldError::new(
                Path::key("grant_types").at(i),
                "a public client (no client_secret) cannot use token exchange: it would let anyone holding a token \
                 trade it in (RFC 8693 §2.1 requires client authentication where the client has credentials)",
            ));
        }
        if matches!(g, GrantType::AuthorizationCode | GrantType::Implicit) && c.redirect_uris.is_empty() {
            errs.push(FieldError::new(
                Path::key("redirect_uris"),
                format!("at least one redirect URI is required for the `{}` grant", g.as_str()),
            ));
        }
    }
    if let Some(policy) = &c.token_exchange {
        for (i, t) in policy.subject_token_types.iter().enumerate() {
            if !crate::oauth::grants::token_exchange::TOKEN_TYPES.contains(&t.as_str()) {
                errs.push(FieldError::new(
                    Path::key("token_exchange").then("subject_token_types").at(i),
                    format!(
                        "`{t}` is not a token type Latchkey exchanges; use one of {}",
                        crate::oauth::grants::token_exchange::TOKEN_TYPES.join(", ")
                    ),
                ));
            }
        }
        if !c.grant_types.contains(&GrantType::TokenExchange) {
            errs.push(FieldError::new(
                Path::key("token_exchange"),
                format!(
                    "a token_exchange policy needs the `{}` grant in grant_types",
                    GrantType::TokenExchange.as_str()
                ),
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, s) in c.scopes.iter().enumerate() {
        if !is_scope_token(s) {
            errs.push(FieldError::new(
                Path::key("scopes").at(i),
                format!("`{s}` is not a valid scope token (RFC 6749 §3.3)"),
            ));
        } else if !scope_exists(s) {
            errs.push(FieldError::new(
                Path::key("scopes").at(i),
                format!("scope `{s}` does not exist; define it in [[scopes]] first"),
            ));
        } else if !seen.insert(s.as_str()) {
            errs.push(FieldError::new(
                Path::key("scopes").at(i),
                format!("`{s}` is listed twice"),
            ));
        }
    }
    for (i, a) in c.audiences.iter().enumerate() {
        if !is_identifier(a) {
            errs.push(FieldError::new(
                Path::key("audiences").at(i),
                "must be non-empty, without control characters or surrounding spaces",
            ));
        }
    }
    if let Some(Err(m)) = c.access_token_ttl.map(lifetime) {
        errs.push(FieldError::new(Path::key("access_token_ttl"), m));
    }
    if let Some(Err(m)) = c.backchannel_logout_uri.as_deref().map(backchannel_logout_uri) {
        errs.push(FieldError::new(Path::key("backchannel_logout_uri"), m));
    }
    if c.backchannel_logout_session_required && c.backchannel_logout_uri.is_none() {
        errs.push(FieldError::new(
            Path::key("backchannel_logout_session_required"),
            "needs a backchannel_logout_uri (Back-Channel Logout 1.0 §2.2)",
        ));
    }
    // RFC 8707 §2: what `resource` may name is an absolute URI without a fragment.
    for (i, r) in c.allowed_resources.iter().enumerate() {
        if let Err(e) = crate::oauth::resource_indicators::check_uri(r) {
            errs.push(FieldError::new(Path::key("allowed_resources").at(i), e.description));
        }
    }
    if c.require_pushed_authorization_requests
        && !c.allows_grant(GrantType::AuthorizationCode)
        && !c.allows_grant(GrantType::Implicit)
    {
        errs.push(FieldError::new(
            Path::key("require_pushed_authorization_requests"),
            "only applies to clients with the authorization_code or implicit grant (RFC 9126 concerns authorization requests)",
        ));
    }
    errs
}

/// Validates a custom scope.
pub fn scope(s: &Scope) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !is_scope_token(&s.name) {
        errs.push(FieldError::new(
            Path::key("name"),
            format!(
                "`{}` is not a valid scope token (RFC 6749 §3.3: printable ASCII without spaces, `\"` or `\\`)",
                s.name
            ),
        ));
    }
    for (i, c) in s.claims.iter().enumerate() {
        if !is_identifier(c) {
            errs.push(FieldError::new(
                Path::key("claims").at(i),
                "a claim name must be non-empty",
            ));
        }
    }
    errs
}

/// Standard claims whose values are strings (OIDC Core §5.1).
const STRING_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
];

/// Validates a user.
pub fn user(u: &User) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !is_identifier(&u.username) {
        errs.push(FieldError::new(
            Path::key("username"),
            "must be non-empty, without control characters or surrounding spaces",
        ));
    }
    if let Some(sub) = &u.sub
        && (!is_identifier(sub) || sub.len() > 255)
    {
        errs.push(FieldError::new(
            Path::key("sub"),
            "must be 1 to 255 characters without control characters (OIDC Core §2)",
        ));
    }
    if let Some(acr) = &u.acr
        && (acr.is_empty() || acr.len() > 255 || acr.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        errs.push(FieldError::new(
            Path::key("acr"),
            "must be 1 to 255 characters without spaces (an absolute URI or a registered name, OIDC Core §2; acr_values is space-separated)",
        ));
    }
    for (i, m) in u.amr.iter().enumerate() {
        if m.is_empty() || m.len() > 64 || m.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errs.push(FieldError::new(
                Path::key("amr").at(i),
                "must be a short method name without spaces (RFC 8176 §2: pwd, otp, hwk, mfa, ...)",
            ));
        }
    }
    if u.password.as_deref() == Some("") {
        errs.push(FieldError::new(
            Path::key("password"),
            "must not be empty (omit it for a persona without a password)",
        ));
    }
    for (name, value) in &u.claims {
        let expected = match name.as_str() {
            "email_verified" | "phone_number_verified" => Some(("a boolean", value.is_boolean())),
            "address" => Some(("an object (OIDC Core §5.1.1)", value.is_object())),
            "updated_at" => Some(("a number of seconds since the epoch", value.is_number())),
            n if STRING_CLAIMS.contains(&n) => Some(("a string", value.is_string())),
            _ => None,
        };
        if let Some((what, false)) = expected {
            errs.push(FieldError::new(
                Path::key("claims").then(name),
                format!("`{name}` must be {what} (OIDC Core §5.1)"),
            ));
        }
    }
    for reserved in [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        "auth_time",
        "azp",
        "at_hash",
    ] {
        if u.claims.contains_key(reserved) {
            errs.push(FieldError::new(
                Path::key("claims").then(reserved),
                format!("`{reserved}` is set by the server and cannot be a user claim"),
            ));
        }
    }
    errs
}

/// JWS algorithms a resource may allow (RFC 7518 §3.1, RFC 8037); never `none` or HMAC, which
/// a JWKS cannot verify.
pub const RESOURCE_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

fn contains_null(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.iter().any(contains_null),
        serde_json::Value::Object(m) => m.values().any(contains_null),
        _ => false,
    }
}

/// The longest resource name (characters).
pub const MAX_RESOURCE_NAME: usize = 100;

/// Validates a resource: its name is a URL path segment (RFC 3986 unreserved characters), the
/// scopes exist, rule patterns parse, the profile is known, the algorithms are asymmetric JWS
/// algorithms, the times are bounded, `response` has no null (TOML cannot write one) and
/// `mode` comes with an http(s) `upstream`.
pub fn resource(r: &Resource, scope_exists: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if r.name.is_empty() || !r.name.chars().all(unreserved) || r.name == "." || r.name == ".." {
        errs.push(FieldError::new(
            Path::key("name"),
            "must be a URL path segment: letters, digits, `-`, `.`, `_` or `~` (it is served at /resources/{name})",
        ));
    } else if r.name.len() > MAX_RESOURCE_NAME {
        errs.push(FieldError::new(
            Path::key("name"),
            format!("must be at most {MAX_RESOURCE_NAME} characters (it is part of every URL of the resource)"),
        ));
    }
    for (i, a) in r.audience.values().iter().enumerate() {
        if !is_identifier(a) {
            errs.push(FieldError::new(
                Path::key("audience").at(i),
                "must be non-empty, without control characters or surrounding spaces",
            ));
        }
    }
    let check_scopes = |path: Path, scopes: &[String], errs: &mut Vec<FieldError>| {
        for (i, s) in scopes.iter().enumerate() {
            if !scope_exists(s) {
                errs.push(FieldError::new(
                    path.at(i),
                    format!("scope `{s}` does not exist; define it in [[scopes]] first"),
                ));
            }
        }
    };
    check_scopes(Path::key("required_scopes"), &r.required_scopes, &mut errs);
    for (i, rule) in r.rules.iter().enumerate() {
        let at = Path::key("rules").at(i);
        if let Some(m) = &rule.method
            && m != "*"
            && (m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            errs.push(FieldError::new(
                at.then("method"),
                format!("`{m}` is not an HTTP method; use GET, POST, ... or `*` for any"),
            ));
        }
        if let Err(m) = crate::resources::pattern::check_pattern(&rule.path) {
            errs.push(FieldError::new(at.then("path"), m));
        }
        check_scopes(at.then("scopes"), &rule.scopes, &mut errs);
    }
    if let Some(name) = &r.profile
        && crate::resources::profiles::find(name).is_none()
    {
        errs.push(FieldError::new(
            Path::key("profile"),
            format!(
                "unknown profile `{name}`; use one of {}",
                crate::resources::profiles::names().join(", ")
            ),
        ));
    }
    if let Some(c) = &r.introspection_client
        && !is_identifier(c)
    {
        errs.push(FieldError::new(
            Path::key("introspection_client"),
            "must be a client id",
        ));
    }
    if let Some(iss) = &r.expected_issuer
        && iss.is_empty()
    {
        errs.push(FieldError::new(
            Path::key("expected_issuer"),
            "must not be empty (omit it to expect Latchkey's issuer)",
        ));
    }
    if let Some(l) = r.leeway
        && l.0 > 86_400
    {
        errs.push(FieldError::new(
            Path::key("leeway"),
            "must be at most a day (86400 seconds)",
        ));
    }
    if let Some(o) = r.clock_offset
        && o.unsigned_abs() > 100 * 365 * 86_400
    {
        errs.push(FieldError::new(Path::key("clock_offset"), "must be within 100 years"));
    }
    if let Some(c) = r.jwks_cache
        && c.0 > MAX_LIFETIME
    {
        errs.push(FieldError::new(Path::key("jwks_cache"), "must be at most 10 years"));
    }
    if let Some(t) = &r.accepted_typ {
        for (i, v) in t.iter().enumerate() {
            if !is_identifier(v) {
                errs.push(FieldError::new(
                    Path::key("accepted_typ").at(i),
                    "must be a media type such as at+jwt",
                ));
            }
        }
    }
    if let Some(algs) = &r.algorithms {
        if algs.is_empty() {
            errs.push(FieldError::new(
                Path::key("algorithms"),
                "must list at least one algorithm (omit it for the profile's)",
            ));
        }
        for (i, a) in algs.iter().enumerate() {
            if !RESOURCE_ALGORITHMS.contains(&a.as_str()) {
                errs.push(FieldError::new(
                    Path::key("algorithms").at(i),
                    format!(
                        "`{a}` is not an asymmetric JWS algorithm a JWKS can verify; use {}",
                        RESOURCE_ALGORITHMS.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(m) = &r.bearer_methods {
        if m.is_empty() {
            errs.push(FieldError::new(
                Path::key("bearer_methods"),
                "must list at least one of header, body, query",
            ));
        }
        let mut seen = HashSet::new();
        for (i, b) in m.iter().enumerate() {
            if !seen.insert(*b) {
                errs.push(FieldError::new(
                    Path::key("bearer_methods").at(i),
                    format!("`{}` is listed twice", b.as_str()),
                ));
            }
        }
    }
    if let Some(v) = &r.response
        && contains_null(v)
    {
        errs.push(FieldError::new(
            Path::key("response"),
            "must not contain null (the config file, TOML, cannot hold it); leave the key out instead",
        ));
    }
    match (&r.upstream, r.mode) {
        (Some(u), _) => {
            if let Err(why) = upstream_url(u) {
                errs.push(FieldError::new(Path::key("upstream"), why));
            }
        }
        (None, Some(_)) => errs.push(FieldError::new(
            Path::key("mode"),
            "only applies with an upstream (the explaining proxy); set upstream or remove mode",
        )),
        (None, None) => {}
    }
    if let Some(t) = r.upstream_timeout {
        if r.upstream.is_none() {
            errs.push(FieldError::new(
                Path::key("upstream_timeout"),
                "only applies with an upstream (the explaining proxy); set upstream or remove upstream_timeout",
            ));
        } else if !(1..=MAX_UPSTREAM_TIMEOUT).contains(&t.0) {
            errs.push(FieldError::new(
                Path::key("upstream_timeout"),
                format!("must be between 1 and {MAX_UPSTREAM_TIMEOUT} seconds"),
            ));
        }
    }
    errs
}

/// The longest `upstream_timeout` accepted, in seconds (one hour).
pub const MAX_UPSTREAM_TIMEOUT: u64 = 3600;

/// Checks an explaining-proxy `upstream`: an absolute `http` or `https` URL with a host, and
/// no user info, query or fragment (the request's own path and query are appended to it).
/// Returns the reason otherwise.
pub fn upstream_url(u: &str) -> Result<url::Url, String> {
    let example = "such as http://127.0.0.1:3000 or https://api.example.test/v1";
    let parsed = url::Url::parse(u).map_err(|e| format!("`{u}` is not a URL ({e}); use an http(s) URL {example}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!("`{u}` is not an http(s) URL {example}"));
    }
    // The WHATWG parser reads `http:///x` and `http:x` as host `x`: a URL whose host is not
    // written right after `scheme://` is refused rather than guessed at.
    let written_host = u
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with(['/', '\\', '?', '#']));
    if !written_host {
        return Err(format!(
            "`{u}` has no host after `{}://`; use a URL {example}",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "`{u}` has user info; the proxy forwards the caller's own Authorization header, so put no credentials in the URL"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "`{u}` has a query or fragment; the upstream is a base URL (scheme, host, port and an optional path prefix) and each request's own path and query are appended"
        ));
    }
    Ok(parsed)
}

/// Checks `[registration]` and `[fetch]` (paths under those keys).
pub fn registration_settings(
    r: &crate::model::RegistrationSettings,
    f: &crate::model::FetchSettings,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(t) = &r.initial_access_token
        && (t.len() < 8 || !crate::oauth::bearer::is_b64token(t))
    {
        errs.push(FieldError::new(
            Path::key("registration").then("initial_access_token"),
            "must be at least 8 characters of letters, digits and -._~+/ (an RFC 6750 b64token), so clients can send it as a Bearer token",
        ));
    }
    if !(1..=60).contains(&f.timeout.0) {
        errs.push(FieldError::new(
            Path::key("fetch").then("timeout"),
            "must be between 1 and 60 seconds",
        ));
    }
    for (i, h) in f.allowed_hosts.iter().enumerate() {
        if let Err(m) = crate::fetch::check_host_pattern(h) {
            errs.push(FieldError::new(Path::key("fetch").then("allowed_hosts").at(i), m));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_from(src: &str) -> Client {
        let mut c: Client = toml::from_str(src).unwrap();
        c.normalize();
        c
    }

    #[test]
    fn scope_tokens_follow_rfc6749() {
        assert!(is_scope_token("read:books"));
        assert!(is_scope_token("https://api.example/read"));
        assert!(!is_scope_token("two words"));
        assert!(!is_scope_token("quote\"d"));
        assert!(!is_scope_token("back\\slash"));
        assert!(!is_scope_token(""));
    }

    #[test]
    fn client_errors_name_the_field() {
        let c = client_from(
            "client_id = \"a\"\nclient_secret = \"s\"\nredirect_uris = [\"/relative\"]\nscopes = [\"nope\"]",
        );
        let errs = client(&c, &|s| s == "openid");
        let paths: Vec<String> = errs.iter().map(|e| e.path.to_string()).collect();
        assert!(paths.contains(&"redirect_uris[0]".to_string()), "{paths:?}");
        assert!(paths.contains(&"scopes[0]".to_string()), "{paths:?}");
    }

    #[test]
    fn allowed_resources_are_absolute_uris_and_require_par_needs_a_browser_grant() {
        let c = client_from(
            "client_id = \"a\"\nclient_secret = \"s\"\ngrant_types = [\"client_credentials\"]\n\
             allowed_resources = [\"https://api.example.com/\", \"books-api\", \"https://x.example/#f\"]\n\
             require_pushed_authorization_requests = true",
        );
        let paths: Vec<String> = client(&c, &|_| true).iter().map(|e| e.path.to_string()).collect();
        assert_eq!(
            paths,
            vec![
                "allowed_resources[1]",
                "allowed_resources[2]",
                "require_pushed_authorization_requests"
            ],
        );
    }

    #[test]
    fn public_clients_cannot_use_client_credentials() {
        let c = client_from("client_id = \"p\"\ngrant_types = [\"client_credentials\"]");
        let errs = client(&c, &|_| true);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path.to_string(), "grant_types[0]");
    }

    #[test]
    fn confidential_methods_need_a_secret() {
        let c = client_from("client_id = \"c\"\ntoken_endpoint_auth_method = \"client_secret_post\"");
        let errs = client(&c, &|_| true);
        assert_eq!(errs[0].path.to_string(), "client_secret");
    }

    #[test]
    fn jwt_client_authentication_needs_its_keys_and_a_fitting_algorithm() {
        let ok = client_from(
            "client_id = \"c\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"http://127.0.0.1:9/jwks\"",
        );
        assert_eq!(client(&ok, &|_| true), vec![]);
        let paths = |toml: &str| -> Vec<String> {
            client(&client_from(toml), &|_| true)
                .iter()
                .map(|e| e.path.to_string())
                .collect()
        };
        assert_eq!(
            paths("client_id = \"c\"\ntoken_endpoint_auth_method = \"private_key_jwt\""),
            vec!["jwks"]
        );
        assert_eq!(
            paths(
                "client_id = \"c\"\nclient_secret = \"s\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"http://x/j\""
            ),
            vec!["client_secret"]
        );
        assert_eq!(
            paths("client_id = \"c\"\ntoken_endpoint_auth_method = \"client_secret_jwt\""),
            vec!["client_secret"]
        );
        assert_eq!(
            paths(
                "client_id = \"c\"\nclient_secret = \"s\"\ntoken_endpoint_auth_method = \"client_secret_jwt\"\ntoken_endpoint_auth_signing_alg = \"RS256\""
            ),
            vec!["token_endpoint_auth_signing_alg"]
        );
        assert_eq!(
            paths(
                "client_id = \"c\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks = { keys = [{ kty = \"oct\", k = \"AAAA\" }] }"
            ),
            vec!["jwks.keys[0]"]
        );
        assert_eq!(
            paths("client_id = \"c\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks_uri = \"ftp://x/j\""),
            vec!["jwks_uri"]
        );
    }

    #[test]
    fn lifetimes_are_capped_at_ten_years() {
        assert!(lifetime(Seconds(MAX_LIFETIME)).is_ok());
        let e = lifetime(Seconds(MAX_LIFETIME + 1)).unwrap_err();
        assert!(e.contains("10 years"), "{e}");
        assert_eq!(lifetime(Seconds(0)).unwrap_err(), "must be at least 1 second");
        let s = Settings {
            access_token_ttl: Seconds(u64::MAX),
            refresh_token_ttl: Seconds(0),
            ..Settings::default()
        };
        let paths: Vec<String> = settings(&s).iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, vec!["access_token_ttl", "refresh_token_ttl"]);
        let c = client_from("client_id = \"c\"\nclient_secret = \"s\"\naccess_token_ttl = 18446744073709551615");
        let errs = client(&c, &|_| true);
        assert_eq!(errs[0].path.to_string(), "access_token_ttl", "{errs:?}");
    }

    #[test]
    fn standard_claims_have_their_oidc_types() {
        let u: User = toml::from_str(
            "username = \"a\"\nclaims = { email = 3, email_verified = \"yes\", address = { street_address = \"1 Main St\" }, team = 7 }",
        )
        .unwrap();
        let paths: Vec<String> = user(&u).iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, vec!["claims.email", "claims.email_verified"]);
    }

    #[test]
    fn script_and_embedding_schemes_are_refused_in_every_spelling() {
        for bad in [
            "javascript:alert(1)",
            "javascript://%0aalert(document.domain)",
            "JavaScript://x/%0aalert(1)",
            " JavaScript:alert(1)",
            "\u{1}javascript://x",
            "java\tscript://x/%0aalert(1)",
            "java\nscript:alert(1)",
            "jav\rascript://x",
            "java%73cript://x",
            "%6Aavascript://x",
            "vbscript://x/msgbox",
            "VBScript:msgbox(1)",
            "livescript:x",
            "data:text/html,<script>alert(1)</script>",
            "DATA:text/html;base64,PHNjcmlwdD4=",
            "file:///etc/passwd",
            "blob:http://localhost/uuid",
            "about:blank",
            "filesystem:http://localhost/temporary/x",
            "view-source:http://localhost/",
        ] {
            let e = check_redirect_uri(bad).expect_err(bad);
            assert!(e.contains("refused") || e.contains("absolute"), "{bad}: {e}");
            assert!(check_navigation_target(bad).is_err(), "{bad}");
        }
        for good in [
            "http://localhost:3000/cb",
            "https://app.example/cb?javascript=1",
            "http://127.0.0.1:8400/javascript:x",
            "com.example.app:/callback",
            "urn:ietf:wg:oauth:2.0:oob",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
            assert!(check_navigation_target(good).is_ok(), "{good}");
        }
        assert_eq!(forbidden_scheme(" \tJaVa\nScRiPt:x").as_deref(), Some("javascript"));
        assert_eq!(forbidden_scheme("https://x"), None);
        assert_eq!(forbidden_scheme("no-colon-at-all"), None);
    }

    #[test]
    fn whitespace_and_control_characters_are_refused_in_redirect_uris() {
        for bad in [
            "http://localhost:3000/cb ",
            " http://localhost:3000/cb",
            "http://localhost:3000/c\tb",
            "http://localhost:3000/cb\r\nSet-Cookie: x=1",
            "http://localhost:3000/c\u{7f}b",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn both_uri_fields_of_a_client_are_checked_and_named() {
        let c = client_from(
            "client_id = \"a\"\nclient_secret = \"s\"\nredirect_uris = [\"http://localhost/cb\", \"JavaScript://x/%0aalert(1)\"]\npost_logout_redirect_uris = [\"vbscript://x\"]",
        );
        let paths: Vec<String> = client(&c, &|_| true).iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, vec!["redirect_uris[1]", "post_logout_redirect_uris[0]"]);
    }

    #[test]
    fn backchannel_logout_uris_are_absolute_http_without_fragment_or_credentials() {
        for ok in [
            "http://127.0.0.1:3000/bc",
            "http://localhost/bc?x=1",
            "https://rp.example/bc",
            "http://shop:3000/logout",
        ] {
            assert_eq!(backchannel_logout_uri(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("/bc", "absolute"),
            ("ftp://rp.example/bc", "http or https"),
            ("javascript:alert(1)", "http or https"),
            ("https://rp.example/bc#x", "fragment"),
            ("https://u:p@rp.example/bc", "user information"),
            ("https://rp.example/b c", "whitespace"),
        ] {
            let e = backchannel_logout_uri(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(backchannel_logout_timeout(Seconds(0)).is_err());
        assert!(backchannel_logout_timeout(Seconds(21)).is_err());
        assert!(backchannel_logout_timeout(Seconds(20)).is_ok());
    }

    #[test]
    fn fragments_are_refused_in_redirect_uris() {
        assert!(check_redirect_uri("http://localhost:3000/cb#x").is_err());
        for userinfo in [
            "https://app.example@evil.example/cb",
            "http://u:p@localhost:3000/cb",
            "http://:p@localhost/cb",
        ] {
            let e = check_redirect_uri(userinfo).expect_err(userinfo);
            assert!(e.contains("user information"), "{e}");
        }
        assert!(check_redirect_uri("http://localhost:3000/cb?x=1").is_ok());
        assert!(check_redirect_uri("com.example.app:/callback").is_ok());
    }
}
