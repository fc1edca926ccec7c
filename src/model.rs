//! The objects Latchkey manages: clients, scopes, users, resources and server settings.
//!
//! They use the field names of the config file (design §3.2), so what a user reads in the admin
//! API they can write in `latchkey.toml`, and the other way round.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// OAuth 2.0 grant types (RFC 6749 §4, §6; OIDC Core §3.2 for implicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1
    AuthorizationCode,
    /// RFC 6749 §4.4
    ClientCredentials,
    /// RFC 6749 §6
    RefreshToken,
    /// RFC 6749 §4.3
    Password,
    /// RFC 6749 §4.2 / OIDC Core §3.2
    Implicit,
    /// RFC 8628 §3.4: the device authorization grant (polling with a device code).
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// RFC 8693 §2.1: token exchange (impersonation and delegation).
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    /// RFC 7523 §2.1: a JWT from a trusted issuer as the authorization grant.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
}

impl GrantType {
    /// The wire name (`grant_type` value).
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::Implicit => "implicit",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        }
    }
}

/// Client authentication methods at the token endpoint (RFC 6749 §2.3, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client: no authentication (RFC 6749 §2.1).
    None,
    /// A JWT signed with the client's private key (RFC 7523, OIDC Core §9).
    PrivateKeyJwt,
    /// A JWT signed with the client secret (RFC 7523, OIDC Core §9).
    ClientSecretJwt,
}

impl AuthMethod {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
        }
    }
}

/// How access tokens are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// A signed JWT per RFC 9068.
    #[default]
    Jwt,
    /// A random reference string, meaningful only through introspection.
    Opaque,
}

impl TokenFormat {
    /// The config-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Jwt => "jwt",
            TokenFormat::Opaque => "opaque",
        }
    }
}

/// JWS algorithms Latchkey signs with (RFC 7518 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256, 2048-bit key.
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::PS256 => "PS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE `alg` name.
    pub fn parse(s: &str) -> Option<SigningAlg> {
        match s {
            "RS256" => Some(SigningAlg::RS256),
            "PS256" => Some(SigningAlg::PS256),
            "ES256" => Some(SigningAlg::ES256),
            "EdDSA" => Some(SigningAlg::EdDSA),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duration in seconds, written in the config file as a number (`3600`) or with a unit
/// (`"1h"`, `"15m"`, `"30s"`, `"7d"`, or combined: `"1h30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Seconds(pub u64);

impl Seconds {
    /// Parses `"90"`, `"15m"`, `"1h30m"`, `"2d"`.
    pub fn parse(s: &str) -> Result<Seconds, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty duration".into());
        }
        if let Ok(n) = s.parse::<u64>() {
            return Ok(Seconds(n));
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        for ch in s.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let unit = match ch {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                'w' => 604_800,
                _ => {
                    return Err(format!(
                        "invalid duration `{s}`: unknown unit `{ch}` (use s, m, h, d or w)"
                    ));
                }
            };
            let n: u64 = digits
                .parse()
                .map_err(|_| format!("invalid duration `{s}`: a number must come before `{ch}`"))?;
            digits.clear();
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("duration `{s}` is too large"))?;
        }
        if !digits.is_empty() {
            return Err(format!("invalid duration `{s}`: `{digits}` has no unit"));
        }
        Ok(Seconds(total))
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds or a duration such as \"15m\" or \"1h\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map(Seconds)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Seconds, E> {
                Seconds::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A registered OAuth client (RFC 6749 §2). Field names are those of `[[clients]]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The client identifier (RFC 6749 §2.2); matched byte for byte.
    pub client_id: String,
    /// The secret of a confidential client; absent for a public client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Registered redirect URIs, matched exactly (RFC 6749 §3.1.2).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grants this client may use. Defaults: see [`Client::normalize`].
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// The scopes this client may be granted (django-oidc-provider's `client.scope`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// How the client authenticates at the token, introspection and revocation endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<AuthMethod>,
    /// `aud` of this client's access tokens; defaults to the client id.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Per-client access-token lifetime, overriding `[server] access_token_ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<Seconds>,
    /// Per-client access-token format, overriding `[server] access_token_format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<TokenFormat>,
    /// Show a consent page before issuing a code.
    #[serde(default)]
    pub require_consent: bool,
    /// Whether an approval on the consent page is remembered, so later authorizations (and
    /// `prompt=none`) for the same scopes skip the page. Absent: remembered for confidential
    /// clients, asked every time for public clients, whose identity cannot be verified
    /// (RFC 8252 §8.6). See [`Client::remembers_consent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_consent: Option<bool>,
    /// Per-client access-token header `typ`, overriding `[server] access_token_typ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_typ: Option<AccessTokenTyp>,
    /// Hands-free login for browser tests: an authorization request of this client signs in
    /// the persona named by `login_hint` (or the only persona) without showing the login page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_login: bool,
    /// What this client may exchange with the token-exchange grant (RFC 8693); absent: the
    /// default policy of [`TokenExchangePolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<TokenExchangePolicy>,
    /// The client's public keys, for `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a JWK
    /// Set (RFC 7517 §5), written `jwks = { keys = [{ kty = "RSA", kid = "k1", n = "...", e = "AQAB" }] }`.
    /// Public keys only. Exclusive with `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwkSet>,
    /// Where the client publishes its JWK Set, for `private_key_jwt` (fetched with a 5 s timeout,
    /// kept 5 minutes, fetched again at once for an unknown `kid`; loopback URLs allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The one JWS `alg` the client signs its assertions with (OIDC Dynamic Client Registration
    /// §2 `token_endpoint_auth_signing_alg`), e.g. `RS256`, `ES256`, `HS256`. Absent: any
    /// algorithm of the method's family (asymmetric for `private_key_jwt`, HMAC for
    /// `client_secret_jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// OpenID Connect Back-Channel Logout 1.0 §2.2: where Latchkey POSTs a logout token when a
    /// browser session this client signed in to ends (an absolute `http` or `https` URI without
    /// a fragment; http is allowed on any host, this being a development provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2: the client needs `sid` in its logout tokens and id_tokens
    /// (Latchkey always sends both `sub` and `sid`, so this only documents the client's need).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    /// Every token request must carry a DPoP proof, so its access tokens are always
    /// DPoP-bound (RFC 9449 §5.2 client metadata).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// RFC 9126 §6: this client must push its authorization requests (`/par`); a request
    /// without `request_uri` is refused with `invalid_request`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// The resources (RFC 8707 absolute URIs) this client may name with `resource`, besides
    /// its `audiences`. Empty: every `[[resources]]` identifier and `audience` (docs/architecture.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_resources: Vec<String>,
    // ---- dynamic client registration (RFC 7591 / RFC 7592; docs/modern.md) ----
    /// Set for a client created at the registration endpoint (RFC 7591): when, from which
    /// origin, its registered metadata and the hash of its registration access token. Such a
    /// client always gets the consent page (unless `[registration] require_consent = false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

/// How a client was registered dynamically (RFC 7591 §3): `[clients.registration]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// When it was registered (virtual-clock UNIX seconds, RFC 7591 §3.2.1 `client_id_issued_at`).
    pub registered_at: i64,
    /// When its metadata last changed through RFC 7592 (UNIX seconds); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// The `Origin` header of the registration request (a browser-based tool), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The `User-Agent` of the registration request, if any (at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The client metadata as registered and returned (RFC 7591 §2), including members
    /// Latchkey keeps only for display (`client_uri`, `logo_uri`, `contacts`, `software_id`, ...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// SHA-256 (base64url) of the registration access token (RFC 7592 §3); the token itself is
    /// shown once, in the registration response.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_token_sha256: String,
}

/// The registration endpoint's policy: `[registration]` (RFC 7591, the Client ID Metadata
/// Document draft; docs/modern.md). A table in a config file states the whole policy: keys it
/// omits take these defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationSettings {
    /// Serve the registration endpoint (`/register`) and advertise it. Default true.
    pub enabled: bool,
    /// When set, a registration must present it as `Authorization: Bearer ...` (RFC 7591 §3's
    /// initial access token). Default: none (open registration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_access_token: Option<String>,
    /// Accept `http`/`https` redirect URIs on any host. Default false: only loopback
    /// (`127.0.0.1`, `[::1]`, `localhost`) and private-use schemes (RFC 8252 §7.1).
    pub allow_non_loopback_redirect_uris: bool,
    /// Dynamically registered clients (and metadata-document clients) always get the consent
    /// page, never remembered. Default true; false treats them like other public clients.
    pub require_consent: bool,
    /// Accept `client_id`s that are URLs of Client ID Metadata Documents. Default true.
    pub client_id_metadata_documents: bool,
    /// Accept `http://` metadata-document URLs on loopback hosts (local development). Default true.
    pub allow_http_loopback_client_ids: bool,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        RegistrationSettings {
            enabled: true,
            initial_access_token: None,
            allow_non_loopback_redirect_uris: false,
            require_consent: true,
            client_id_metadata_documents: true,
            allow_http_loopback_client_ids: true,
        }
    }
}

/// Which hosts Latchkey may fetch from because a client told it to (metadata documents,
/// `jwks_uri`): `[fetch]`. See [`crate::fetch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// Host names or IP literals that may be fetched (`example.com`, `*.example.com`,
    /// `127.0.0.1`). Empty (default): any host over https, loopback hosts over http.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
    /// How long one fetch may take in all (connect, redirects, body), 1 to 60 seconds. Default 5.
    pub timeout: Seconds,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            allowed_hosts: Vec::new(),
            timeout: Seconds(5),
        }
    }
}

/// A client's token-exchange policy (RFC 8693 §2.1 leaves it to the server). The default (every
/// field empty or false): the client may exchange any active token this server issued, of any
/// `subject_token_type`, for the same or narrower scopes, targeting its own `audiences` or any
/// registered resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangePolicy {
    /// The `subject_token_type` URNs it may present (`urn:ietf:params:oauth:token-type:access_token`,
    /// `...:refresh_token`, `...:id_token`, `...:jwt`); empty: all four.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_token_types: Vec<String>,
    /// The audiences (logical names or resource URIs) it may target with `audience` or
    /// `resource`; empty: its own `audiences` and every registered resource. When set, exactly
    /// these (narrower or wider than the default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// May ask for scopes beyond the subject token's, up to the client's own `scopes`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_scope_widening: bool,
    /// May the issued token be used without an `actor_token` (impersonation); default true.
    /// `false` requires delegation (an `actor_token`, RFC 8693 §1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_impersonation: Option<bool>,
}

/// A JWK Set (RFC 7517 §5): `{ "keys": [ ... ] }`. Each key is kept as written (a JSON object);
/// other members of the set are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JwkSet {
    /// The keys (RFC 7517 §4), public keys only.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A trusted issuer of JWT bearer assertions (RFC 7523 §2.1, §3): `[[trusted_issuers]]`.
/// Assertions it signs can be exchanged at the token endpoint for access tokens for their `sub`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The `iss` its assertions carry, compared exactly.
    pub issuer: String,
    /// Its public keys, inline (exclusive with `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwkSet>,
    /// Where it publishes its JWK Set (same fetching rules as a client's `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The `sub` values it may assert, exactly; empty: any subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_subjects: Vec<String>,
    /// The `aud` values its assertions may carry, besides Latchkey's issuer and token endpoint
    /// URL (always accepted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// JWS algorithms accepted from it; empty: any asymmetric algorithm Latchkey verifies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<String>,
}

impl Client {
    /// The authentication method in force: the registered one, or `client_secret_basic` for a
    /// client with a secret and `none` for one without.
    pub fn auth_method(&self) -> AuthMethod {
        match (self.token_endpoint_auth_method, &self.client_secret) {
            (Some(m), _) => m,
            (None, Some(_)) => AuthMethod::ClientSecretBasic,
            (None, None) => AuthMethod::None,
        }
    }

    /// A public client (RFC 6749 §2.1) has no credentials.
    pub fn is_public(&self) -> bool {
        self.auth_method() == AuthMethod::None
    }

    /// Whether approvals are remembered: `remember_consent`, or by default true for a
    /// confidential client and false for a public one (RFC 8252 §8.6).
    pub fn remembers_consent(&self) -> bool {
        self.remember_consent.unwrap_or(!self.is_public())
    }

    /// Fills in defaults: grant types (`authorization_code` + `refresh_token` when redirect URIs
    /// are registered, `client_credentials` for a confidential client without any).
    pub fn normalize(&mut self) {
        if self.grant_types.is_empty() {
            if !self.redirect_uris.is_empty() {
                self.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
            } else if !self.is_public() {
                self.grant_types = vec![GrantType::ClientCredentials];
            }
        }
    }

    /// Whether this client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// A scope (RFC 6749 §3.3) with the user claims it releases (OIDC Core §5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The scope token.
    pub name: String,
    /// What it grants, for people.
    #[serde(default)]
    pub description: String,
    /// User claims released with this scope.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Built-in scopes (the OIDC ones and `token_introspection`) cannot be changed. Written only
    /// when true; ignored on input.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub builtin: bool,
}

/// The scope a client must hold to introspect when `[introspection] require_scope` is on.
pub const INTROSPECTION_SCOPE: &str = "token_introspection";

/// The built-in scopes: OIDC Core §5.4 and §11, and django-oidc-provider's introspection scope.
pub fn builtin_scopes() -> Vec<Scope> {
    let s = |name: &str, description: &str, claims: &[&str]| Scope {
        name: name.to_string(),
        description: description.to_string(),
        claims: claims.iter().map(|c| c.to_string()).collect(),
        builtin: true,
    };
    vec![
        s(
            "openid",
            "Sign the user in with OpenID Connect (issues an id_token)",
            &["sub"],
        ),
        s(
            "profile",
            "The user's default profile claims",
            &[
                "name",
                "family_name",
                "given_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "updated_at",
            ],
        ),
        s("email", "The user's email address", &["email", "email_verified"]),
        s("address", "The user's postal address", &["address"]),
        s(
            "phone",
            "The user's phone number",
            &["phone_number", "phone_number_verified"],
        ),
        s("offline_access", "A refresh token usable while the user is away", &[]),
        s(
            INTROSPECTION_SCOPE,
            "May call the introspection endpoint when [introspection] require_scope is on",
            &[],
        ),
    ]
}

/// A test persona (an end user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The login name.
    pub username: String,
    /// The password, only when written; stored hashed (argon2id) and never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The stable subject identifier; generated from the username when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Standard OIDC claims (OIDC Core §5.1) and any extra claims.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Hands-free login for browser tests: an authorization request naming this persona in
    /// `login_hint` (or any request, when it is the only persona) signs it in without showing
    /// the login page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_login: bool,
    /// The authentication context class this persona authenticates at (OIDC Core §2 `acr`),
    /// e.g. `urn:example:mfa`: what it satisfies when a client asks for one. Absent: level `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods it uses (OIDC Core §2 `amr`, RFC 8176 values such as `pwd`,
    /// `otp`, `hwk`, `mfa`). Absent: `["pwd"]` after a password sign-in, else none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// One or several audience values, written as a string (`"books-api"`) or a list
/// (`["books-api", "https://api.example"]`); serialized back as a string when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(value_type = Vec<String>)]
pub struct Audience(pub Vec<String>);

impl Audience {
    /// No value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values.
    pub fn values(&self) -> &[String] {
        &self.0
    }
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a string or a list of strings")]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => Audience(vec![s]),
            OneOrMany::Many(v) => Audience(v),
        })
    }
}

/// How a protected resource validates access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// Verify the JWT locally against the JWKS the simulated API holds (RFC 9068 §4).
    #[default]
    Jwt,
    /// Ask Latchkey's own introspection (RFC 7662), honouring `[introspection]`.
    Introspection,
}

impl Validation {
    /// The config-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Jwt => "jwt",
            Validation::Introspection => "introspection",
        }
    }
}

/// What the explaining proxy does with requests (only with `upstream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxyMode {
    /// Latchkey checks the token, answers rejections itself and forwards accepted requests.
    #[default]
    Enforce,
    /// Everything is forwarded; a 401/403 from the upstream gets Latchkey's verdict in the log.
    Observe,
}

/// Where a resource accepts the bearer token (RFC 6750 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BearerMethod {
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Header,
    /// `access_token` in an `application/x-www-form-urlencoded` body (RFC 6750 §2.2).
    Body,
    /// `access_token` in the query string (RFC 6750 §2.3; SHOULD NOT be used).
    Query,
}

impl BearerMethod {
    /// The name RFC 9728 §2 uses in `bearer_methods_supported`.
    pub fn as_str(self) -> &'static str {
        match self {
            BearerMethod::Header => "header",
            BearerMethod::Body => "body",
            BearerMethod::Query => "query",
        }
    }
}

/// Per method and path, the scopes a call needs (a per-view decorator, as data).
///
/// `path` is relative to the resource (`/books/*` under `/resources/books-api`). Pattern
/// language: the path is split at `/`; a segment `*` matches exactly one non-empty segment, a
/// segment `**` matches any number of segments (none included), any other segment matches
/// itself exactly (case-sensitive). A trailing `/` is ignored on both sides. So `/books/*`
/// matches `/books/1` but not `/books` or `/books/1/notes`; `/books/**` matches all three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The HTTP method (`GET`, `POST`, ... compared case-insensitively); `*` or absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The path pattern (see above).
    pub path: String,
    /// Scopes required, all of them, in addition to the resource's `required_scopes`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A protected API served by Latchkey at `{issuer}/resources/{name}/...` (the resource-server
/// simulator, see `docs/resources.md`). Its resource identifier (RFC 8707 §2, RFC 9728 §1.2)
/// is `{issuer}/resources/{name}`.
///
/// Keys left unset take the value of the `profile` (or of the default profile); keys that are
/// set override the profile.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The name, also its path under `/resources/`.
    pub name: String,
    /// Logical audience values accepted besides the identifier (`"books-api"` or a list).
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub audience: Audience,
    /// Scopes every call needs (all of them).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Scopes per method and path, added to `required_scopes`; the first matching rule counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// `jwt` (default) or `introspection`.
    #[serde(default)]
    pub validation: Validation,
    /// A named set of defaults reproducing a verifier (`GET /admin/api/resource-profiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The client the simulated API introspects as (introspection mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_client: Option<String>,
    /// The `iss` the API expects; default: Latchkey's issuer, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_issuer: Option<String>,
    /// Clock tolerance for `exp`, `nbf` and `iat`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway: Option<Seconds>,
    /// The API's clock relative to Latchkey's (virtual) clock, in seconds (negative: behind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset: Option<i64>,
    /// How long the API keeps a JWKS it fetched, in seconds (measured on the API's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache: Option<Seconds>,
    /// Refetch the JWKS when a token names an unknown `kid` (with a cooldown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_refetch_on_unknown_kid: Option<bool>,
    /// Accepted header `typ` values (compared case-insensitively, `application/` optional,
    /// RFC 7515 §4.1.9); an empty list accepts any `typ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_typ: Option<Vec<String>>,
    /// Accepted JWS `alg` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
    /// Where the token may be sent: `header`, `body`, `query` (RFC 6750 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_methods: Option<Vec<BearerMethod>>,
    /// The JSON a successful call returns (default: resource, method, path, sub, client_id,
    /// scope). TOML has no null: a `response` cannot contain one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub response: Option<serde_json::Value>,
    /// The explaining proxy: forward calls to this `http://` or `https://` base URL (its path
    /// is a prefix; no user info, query or fragment: [`crate::validate::upstream_url`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `enforce` (default) or `observe`; only with `upstream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ProxyMode>,
    /// The explaining proxy's first-byte timeout, in seconds (default 60): how long the
    /// upstream may stay silent, while Latchkey is not waiting for the client's body, before
    /// its response headers arrive (then 504). Connecting counts too. Only with `upstream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_timeout: Option<Seconds>,
}

/// The header `typ` of JWT access tokens (RFC 9068 §2.1 requires `at+jwt`; some older
/// verifiers refuse it and want `JWT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub enum AccessTokenTyp {
    /// `at+jwt` (RFC 9068 §2.1).
    #[default]
    #[serde(rename = "at+jwt")]
    AtJwt,
    /// `JWT` (RFC 7519 §5.1), for verifiers that refuse `at+jwt`.
    #[serde(rename = "JWT")]
    Jwt,
}

impl AccessTokenTyp {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenTyp::AtJwt => "at+jwt",
            AccessTokenTyp::Jwt => "JWT",
        }
    }
}

/// Server-wide settings (`[server]` and `[introspection]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// Default access-token lifetime.
    pub access_token_ttl: Seconds,
    /// id_token lifetime.
    pub id_token_ttl: Seconds,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Seconds,
    /// Authorization-code lifetime.
    pub code_ttl: Seconds,
    /// Default access-token format.
    pub access_token_format: TokenFormat,
    /// The algorithm of the active signing key.
    pub signing_alg: SigningAlg,
    /// Issue a new refresh token on every refresh and retire the old one.
    pub refresh_token_rotation: bool,
    /// The introspection caller must hold `token_introspection`.
    pub introspection_require_scope: bool,
    /// The token's `aud` must be among the caller's scopes or audiences.
    pub introspection_validate_audience: bool,
    /// The header `typ` of JWT access tokens (`at+jwt` or `JWT`).
    #[serde(default)]
    pub access_token_typ: AccessTokenTyp,
    /// What `iat`, `nbf` and `exp` of client assertions and JWT bearer assertions, and the `iat`
    /// of DPoP proofs, are checked against: real time (default) or the virtual clock.
    #[serde(default)]
    pub assertion_time: crate::clock::PeerTime,
    /// How long each back-channel logout POST may take (connect and answer), in seconds
    /// (1 to 20; default 5). End-session waits at most this long for all receivers together.
    #[serde(default = "default_backchannel_logout_timeout")]
    pub backchannel_logout_timeout: Seconds,
    /// DPoP proofs must carry a nonce this server issued (RFC 9449 §8): requests without one
    /// get `use_dpop_nonce` and a `DPoP-Nonce` header. Off by default.
    #[serde(default)]
    pub use_dpop_nonce: bool,
    /// Lifetime of a pushed authorization request's `request_uri` (RFC 9126 §2.2), seconds of
    /// the virtual clock.
    #[serde(default = "default_request_uri_ttl")]
    pub request_uri_ttl: Seconds,
    /// RFC 9126 §5: every client must push its authorization requests.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// `[registration]`: dynamic client registration and metadata documents.
    #[serde(default)]
    pub registration: RegistrationSettings,
    /// `[fetch]`: which hosts client-supplied URLs may point at.
    #[serde(default)]
    pub fetch: FetchSettings,
}

fn default_backchannel_logout_timeout() -> Seconds {
    Seconds(5)
}

fn default_request_uri_ttl() -> Seconds {
    Seconds(60)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_token_ttl: Seconds(3_600),
            id_token_ttl: Seconds(600),
            refresh_token_ttl: Seconds(2_592_000),
            code_ttl: Seconds(600),
            access_token_format: TokenFormat::Jwt,
            signing_alg: SigningAlg::RS256,
            refresh_token_rotation: true,
            introspection_require_scope: false,
            introspection_validate_audience: false,
            access_token_typ: AccessTokenTyp::AtJwt,
            assertion_time: crate::clock::PeerTime::Real,
            backchannel_logout_timeout: default_backchannel_logout_timeout(),
            use_dpop_nonce: false,
            request_uri_ttl: default_request_uri_ttl(),
            require_pushed_authorization_requests: false,
            registration: RegistrationSettings::default(),
            fetch: FetchSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_numbers_and_units() {
        assert_eq!(Seconds::parse("3600"), Ok(Seconds(3600)));
        assert_eq!(Seconds::parse("15m"), Ok(Seconds(900)));
        assert_eq!(Seconds::parse("1h30m"), Ok(Seconds(5400)));
        assert_eq!(Seconds::parse("2d"), Ok(Seconds(172_800)));
        assert!(Seconds::parse("1x").is_err());
        assert!(Seconds::parse("h").is_err());
        assert!(Seconds::parse("10m5").is_err());
        assert!(Seconds::parse("").is_err());
    }

    #[test]
    fn auth_method_defaults_follow_the_secret() {
        let mut c: Client = toml::from_str("client_id = \"a\"\nclient_secret = \"s\"").unwrap();
        assert_eq!(c.auth_method(), AuthMethod::ClientSecretBasic);
        c.normalize();
        assert_eq!(c.grant_types, vec![GrantType::ClientCredentials]);
        let mut p: Client = toml::from_str("client_id = \"p\"\nredirect_uris = [\"http://localhost/cb\"]").unwrap();
        assert!(p.is_public());
        p.normalize();
        assert_eq!(
            p.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
    }
}
