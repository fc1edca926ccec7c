//! The config file, `latchkey.toml` (design §3.2).
//!
//! Every section parses and validates at start; unknown keys are errors. Errors name the file,
//! the line and the key. `latchkey export` writes the same format, so a file round-trips.

use std::collections::HashSet;
use std::fmt;
use std::path::Path as FsPath;

use serde::{Deserialize, Serialize};

use crate::clock::PeerTime;
use crate::keys::import::{KeyMaterial, import_private_key};
use crate::model::{
    AccessTokenTyp, Client, Resource, Scope, Seconds, Settings, SigningAlg, TokenFormat, TrustedIssuer, User,
};
use crate::validate::{self, FieldError, Path, Seg};

/// How the config file relates to what the database holds (`serve --config-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConfigMode {
    /// What the file names is created or updated; nothing else changes (the default).
    #[default]
    Merge,
    /// The file is the truth: clients, users, custom scopes and resources it does not name are
    /// removed (tokens are kept); a custom scope the file does not define is unknown to it.
    Replace,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[server]`
    #[serde(default)]
    pub server: ServerSection,
    /// `[introspection]`
    #[serde(default)]
    pub introspection: IntrospectionSection,
    /// `[registration]`: dynamic client registration and metadata documents (the whole
    /// policy: keys left out take their defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<crate::model::RegistrationSettings>,
    /// `[fetch]`: which hosts client-supplied URLs may be fetched from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<crate::model::FetchSettings>,
    /// `[[scopes]]`: custom scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// `[[clients]]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
    /// `[[users]]`: test personas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    /// `[[resources]]`: simulated protected APIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// `[[keys]]`: fixed signing keys (development only); the first one signs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyConfig>,
    /// `[[trusted_issuers]]`: issuers of JWT bearer assertions (RFC 7523 §2.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// `[[faults]]`: fault rules (docs/faults.md), tried in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::faults::FaultRule>,
    /// `[[scenarios]]`: named test setups (clock offset, fault rules, clients, users,
    /// settings), applied with `serve --scenario` or the admin API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<crate::faults::Scenario>,
}

/// `[[keys]]`: a fixed signing key, so every server started from the file publishes the same
/// `kid` (a development convenience: the private key is in the file). Exactly one of `pem`,
/// `path` and `jwk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The key id published in the JWKS and put in every token header.
    pub kid: String,
    /// RS256 | PS256 (an RSA key), ES256 (EC P-256) or EdDSA (Ed25519).
    pub alg: SigningAlg,
    /// The private key as PEM (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
    /// A PEM file, relative to the config file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The private key as a JWK (RFC 7517), e.g. `{ kty = "EC", crv = "P-256", x = "...", y = "...", d = "..." }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwk: Option<serde_json::Map<String, serde_json::Value>>,
    /// The key as PKCS#8 DER, filled in by validation.
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// `[server]`: every key optional; what is absent keeps its current value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Default access-token lifetime.
    pub access_token_ttl: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// id_token lifetime.
    pub id_token_ttl: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Authorization-code lifetime.
    pub code_ttl: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `jwt` (RFC 9068) or `opaque`.
    pub access_token_format: Option<TokenFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// RS256, PS256, ES256 or EdDSA.
    pub signing_alg: Option<SigningAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Rotate refresh tokens on use.
    pub refresh_token_rotation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The header `typ` of JWT access tokens: `at+jwt` (RFC 9068, default) or `JWT`.
    pub access_token_typ: Option<AccessTokenTyp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The base URL back-ends and containers use (`http://latchkey:8000`): discovery fetched
    /// through that host names the server-to-server endpoints on it (docs/setups.md). Not a
    /// stored setting: it applies while the server runs with this file.
    pub backchannel_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What `iat`, `nbf` and `exp` of client assertions and JWT bearer assertions, and the `iat`
    /// of DPoP proofs, are checked against: `real` time (default; moving the virtual clock never breaks client
    /// authentication) or the `virtual` clock.
    pub assertion_time: Option<PeerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How long each back-channel logout POST may take, seconds (1 to 20; default 5).
    pub backchannel_logout_timeout: Option<Seconds>,
    /// DPoP proofs must carry a nonce from this server's `DPoP-Nonce` header (RFC 9449 §8).
    pub use_dpop_nonce: Option<bool>,
    /// Lifetime of a pushed authorization request's `request_uri` (RFC 9126 §2.2), default 60 s.
    pub request_uri_ttl: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// RFC 9126 §5: every client must use pushed authorization requests.
    pub require_pushed_authorization_requests: Option<bool>,
}

/// `[introspection]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The caller must hold `token_introspection`.
    pub require_scope: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The token's `aud` must be among the caller's scopes or audiences.
    pub validate_audience: Option<bool>,
}

impl ConfigFile {
    /// The settings that result from applying this file over `current`.
    pub fn merge_settings(&self, current: &Settings) -> Settings {
        let s = &self.server;
        let i = &self.introspection;
        Settings {
            access_token_ttl: s.access_token_ttl.unwrap_or(current.access_token_ttl),
            id_token_ttl: s.id_token_ttl.unwrap_or(current.id_token_ttl),
            refresh_token_ttl: s.refresh_token_ttl.unwrap_or(current.refresh_token_ttl),
            code_ttl: s.code_ttl.unwrap_or(current.code_ttl),
            access_token_format: s.access_token_format.unwrap_or(current.access_token_format),
            signing_alg: s
                .signing_alg
                .or_else(|| self.keys.first().map(|k| k.alg))
                .unwrap_or(current.signing_alg),
            refresh_token_rotation: s.refresh_token_rotation.unwrap_or(current.refresh_token_rotation),
            introspection_require_scope: i.require_scope.unwrap_or(current.introspection_require_scope),
            introspection_validate_audience: i.validate_audience.unwrap_or(current.introspection_validate_audience),
            access_token_typ: s.access_token_typ.unwrap_or(current.access_token_typ),
            assertion_time: s.assertion_time.unwrap_or(current.assertion_time),
            backchannel_logout_timeout: s
                .backchannel_logout_timeout
                .unwrap_or(current.backchannel_logout_timeout),
            use_dpop_nonce: s.use_dpop_nonce.unwrap_or(current.use_dpop_nonce),
            request_uri_ttl: s.request_uri_ttl.unwrap_or(current.request_uri_ttl),
            require_pushed_authorization_requests: s
                .require_pushed_authorization_requests
                .unwrap_or(current.require_pushed_authorization_requests),
            registration: self
                .registration
                .clone()
                .unwrap_or_else(|| current.registration.clone()),
            fetch: self.fetch.clone().unwrap_or_else(|| current.fetch.clone()),
        }
    }

    /// A file stating every setting explicitly (what `latchkey export` writes).
    pub fn with_settings(settings: &Settings) -> ConfigFile {
        ConfigFile {
            server: ServerSection {
                access_token_ttl: Some(settings.access_token_ttl),
                id_token_ttl: Some(settings.id_token_ttl),
                refresh_token_ttl: Some(settings.refresh_token_ttl),
                code_ttl: Some(settings.code_ttl),
                access_token_format: Some(settings.access_token_format),
                signing_alg: Some(settings.signing_alg),
                refresh_token_rotation: Some(settings.refresh_token_rotation),
                access_token_typ: Some(settings.access_token_typ),
                backchannel_url: None,
                assertion_time: Some(settings.assertion_time),
                backchannel_logout_timeout: Some(settings.backchannel_logout_timeout),
                use_dpop_nonce: Some(settings.use_dpop_nonce),
                request_uri_ttl: Some(settings.request_uri_ttl),
                require_pushed_authorization_requests: Some(settings.require_pushed_authorization_requests),
            },
            introspection: IntrospectionSection {
                require_scope: Some(settings.introspection_require_scope),
                validate_audience: Some(settings.introspection_validate_audience),
            },
            registration: Some(settings.registration.clone()),
            fetch: Some(settings.fetch.clone()),
            ..ConfigFile::default()
        }
    }

    /// Fills defaults (grant types) and checks every object. `existing_scope` tells whether a
    /// scope not defined in this file is already registered (built-in or in the database).
    pub fn validate(&mut self, existing_scope: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (key, ttl) in [
            ("access_token_ttl", self.server.access_token_ttl),
            ("id_token_ttl", self.server.id_token_ttl),
            ("refresh_token_ttl", self.server.refresh_token_ttl),
            ("code_ttl", self.server.code_ttl),
            ("request_uri_ttl", self.server.request_uri_ttl),
        ] {
            if let Some(Err(message)) = ttl.map(validate::lifetime) {
                errs.push(FieldError {
                    path: Path::key("server").then(key),
                    message,
                });
            }
        }
        if let Some(Err(message)) = self
            .server
            .backchannel_logout_timeout
            .map(validate::backchannel_logout_timeout)
        {
            errs.push(FieldError {
                path: Path::key("server").then("backchannel_logout_timeout"),
                message,
            });
        }
        if let Some(Err(message)) = self
            .server
            .backchannel_url
            .as_deref()
            .map(crate::issuer::check_back_channel_url)
        {
            errs.push(FieldError {
                path: Path::key("server").then("backchannel_url"),
                message,
            });
        }
        errs.extend(crate::validate::registration_settings(
            &self.registration.clone().unwrap_or_default(),
            &self.fetch.clone().unwrap_or_default(),
        ));
        let mut names = HashSet::new();
        for (i, s) in self.scopes.iter().enumerate() {
            let at = Path::key("scopes").at(i);
            errs.extend(validate::scope(s).into_iter().map(|e| under(e, &at)));
            if existing_scope(&s.name) && crate::model::builtin_scopes().iter().any(|b| b.name == s.name) {
                errs.push(FieldError {
                    path: at.then("name"),
                    message: format!("`{}` is a built-in scope and cannot be redefined", s.name),
                });
            } else if !names.insert(s.name.clone()) {
                errs.push(FieldError {
                    path: at.then("name"),
                    message: format!("scope `{}` is defined twice", s.name),
                });
            }
        }
        let scope_exists = |s: &str| names.contains(s) || existing_scope(s);
        let mut ids = HashSet::new();
        for (i, c) in self.clients.iter_mut().enumerate() {
            c.normalize();
            let at = Path::key("clients").at(i);
            errs.extend(validate::client(c, &scope_exists).into_iter().map(|e| under(e, &at)));
            if !ids.insert(c.client_id.clone()) {
                errs.push(FieldError {
                    path: at.then("client_id"),
                    message: format!("client `{}` is defined twice", c.client_id),
                });
            }
        }
        let mut usernames = HashSet::new();
        let mut subs = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let at = Path::key("users").at(i);
            errs.extend(validate::user(u).into_iter().map(|e| under(e, &at)));
            if !usernames.insert(u.username.clone()) {
                errs.push(FieldError {
                    path: at.then("username"),
                    message: format!("user `{}` is defined twice", u.username),
                });
            }
            if let Some(sub) = &u.sub
                && !subs.insert(sub.clone())
            {
                errs.push(FieldError {
                    path: at.then("sub"),
                    message: format!("sub `{sub}` is used by two users"),
                });
            }
        }
        let mut issuers = HashSet::new();
        for (i, t) in self.trusted_issuers.iter().enumerate() {
            let at = Path::key("trusted_issuers").at(i);
            errs.extend(validate::trusted_issuer(t).into_iter().map(|e| under(e, &at)));
            if !issuers.insert(t.issuer.clone()) {
                errs.push(FieldError {
                    path: at.then("issuer"),
                    message: format!("trusted issuer `{}` is defined twice", t.issuer),
                });
            }
        }
        let mut rnames = HashSet::new();
        for (i, r) in self.resources.iter().enumerate() {
            let at = Path::key("resources").at(i);
            errs.extend(validate::resource(r, &scope_exists).into_iter().map(|e| under(e, &at)));
            if !rnames.insert(r.name.clone()) {
                errs.push(FieldError {
                    path: at.then("name"),
                    message: format!("resource `{}` is defined twice", r.name),
                });
            }
        }
        errs.extend(crate::faults::validate_set(&self.faults, &Path::key("faults")));
        let mut snames = HashSet::new();
        for (i, sc) in self.scenarios.iter_mut().enumerate() {
            let at = Path::key("scenarios").at(i);
            errs.extend(crate::faults::scenario::validate(sc, &at));
            for c in &mut sc.clients {
                c.normalize();
            }
            for (j, c) in sc.clients.iter().enumerate() {
                let at = at.then("clients").at(j);
                errs.extend(validate::client(c, &scope_exists).into_iter().map(|e| under(e, &at)));
            }
            for (j, u) in sc.users.iter().enumerate() {
                let at = at.then("users").at(j);
                errs.extend(validate::user(u).into_iter().map(|e| under(e, &at)));
            }
            if !snames.insert(sc.name.clone()) {
                errs.push(FieldError {
                    path: at.then("name"),
                    message: format!("scenario `{}` is defined twice", sc.name),
                });
            }
        }
        errs
    }

    /// Reads and checks the `[[keys]]`: one of `pem`, `path` (read relative to `base`, the
    /// config file's directory; refused when the file did not come from disk) or `jwk`, a
    /// private key of the kind `alg` needs, unique `kid`s, and `[server] signing_alg` (when
    /// given) equal to the first key's alg. Fills each key's `der`.
    pub fn resolve_keys(&mut self, base: Option<&FsPath>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut kids = HashSet::new();
        for (i, k) in self.keys.iter_mut().enumerate() {
            let at = Path::key("keys").at(i);
            if !validate::is_identifier(&k.kid) || k.kid.len() > 255 {
                errs.push(FieldError::new(
                    at.clone().then("kid"),
                    "must be 1 to 255 characters without control characters or surrounding spaces",
                ));
            } else if !kids.insert(k.kid.clone()) {
                errs.push(FieldError::new(
                    at.clone().then("kid"),
                    format!("kid `{}` is used by two keys; each key needs its own kid", k.kid),
                ));
            }
            let given: Vec<&str> = [
                ("pem", k.pem.is_some()),
                ("path", k.path.is_some()),
                ("jwk", k.jwk.is_some()),
            ]
            .into_iter()
            .filter_map(|(n, set)| set.then_some(n))
            .collect();
            let (field, result) = match (given.as_slice(), &k.pem, &k.path, &k.jwk) {
                (["pem"], Some(text), _, _) => ("pem", import_private_key(k.alg, KeyMaterial::Pem(text))),
                (["jwk"], _, _, Some(jwk)) => ("jwk", import_private_key(k.alg, KeyMaterial::Jwk(jwk))),
                (["path"], _, Some(rel), _) => match base {
                    None => (
                        "path",
                        Err("a key file can only be named in a config file read from disk; inline the key with `pem` or `jwk`".to_string()),
                    ),
                    Some(dir) => {
                        let full = dir.join(rel);
                        match std::fs::read_to_string(&full) {
                            Ok(text) => ("path", import_private_key(k.alg, KeyMaterial::Pem(&text))
                                .map_err(|e| format!("{}: {e}", full.display()))),
                            Err(e) => ("path", Err(format!("cannot read {}: {e}", full.display()))),
                        }
                    }
                },
                ([], ..) => ("kid", Err("give the private key with one of `pem`, `path` or `jwk`".to_string())),
                (many, ..) => (
                    many.get(1).copied().unwrap_or("pem"),
                    Err(format!("give exactly one of `pem`, `path` or `jwk`, not {}", many.join(" and "))),
                ),
            };
            match result {
                Ok(der) => k.der = der,
                Err(message) => errs.push(FieldError::new(at.then(field), message)),
            }
        }
        if let (Some(first), Some(alg)) = (self.keys.first(), self.server.signing_alg)
            && first.alg != alg
        {
            errs.push(FieldError::new(
                Path::key("server").then("signing_alg"),
                format!(
                    "is {alg} but the first of [[keys]] (`{}`, the signing key) is {}; drop signing_alg or make them agree",
                    first.kid, first.alg
                ),
            ));
        }
        errs
    }

    /// The `[[keys]]` as stored keys (after [`ConfigFile::resolve_keys`]), created at `now`.
    pub fn fixed_keys(&self, now: i64) -> Result<Vec<crate::store::StoredKey>, crate::keys::KeyError> {
        self.keys
            .iter()
            .map(|k| crate::keys::SigningKey::fixed(&k.kid, k.alg, &k.der, now))
            .collect()
    }

    /// Renders the file as TOML.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

fn under(e: FieldError, prefix: &Path) -> FieldError {
    FieldError {
        path: e.path.under(prefix),
        message: e.message,
    }
}

/// A config file that failed to parse or validate: names the file, line, column and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The key path, when known (`clients[0].scopes[1]`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The config file the server started from, as the admin API's `status.config` shows it: the
/// GUI keeps a banner up while the last `--watch` reload was refused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfigFileState {
    /// The file as named on the command line.
    pub file: String,
    /// `merge` or `replace`.
    pub mode: String,
    /// Whether `--watch` reloads it when it changes.
    pub watch: bool,
    /// `applied`: the file as it is now is in effect; `rejected`: the last change did not
    /// validate (or not fully apply), and what was in effect before still is.
    pub state: String,
    /// Why the last change was refused (`rejected` only): file, line, column, key, message.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<serde_json::Value>,
    /// Objects the last reload removed (`replace` mode).
    pub removed: Vec<String>,
    /// When that happened: milliseconds since the Unix epoch, virtual clock.
    pub at: i64,
}

impl ConfigError {
    /// The error as the `config.rejected` event and `status.config.errors` carry it:
    /// `{file, line, column, key, message}` (each of line, column and key may be null).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file, "line": self.line, "column": self.column, "key": self.key, "message": self.message,
        })
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}` ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Several errors of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The JSON Schema (draft 2020-12) of `latchkey.toml` (`latchkey schema`), generated from the
/// same types the file is parsed into (their utoipa schemas, which also describe the admin API),
/// so it cannot drift from the parser: unknown keys are refused (`additionalProperties: false`),
/// enums list their values. Durations are patched to what [`Seconds`]' parser accepts (a number
/// of seconds or a string with units), audiences to a string or a list of strings.
pub fn json_schema() -> serde_json::Value {
    use utoipa::{PartialSchema, ToSchema};
    let mut defs = Vec::new();
    <ConfigFile as ToSchema>::schemas(&mut defs);
    let mut map = serde_json::Map::new();
    for (name, schema) in defs {
        map.insert(name, serde_json::to_value(schema).unwrap_or_default());
    }
    map.insert(
        "Seconds".into(),
        serde_json::json!({
            "description": "A duration: seconds (3600) or a string with units (\"30s\", \"15m\", \"1h\", \"7d\", \"1h30m\").",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^\\s*([0-9]+\\s*[smhd]?\\s*)+$"}
            ]
        }),
    );
    map.insert(
        "Audience".into(),
        serde_json::json!({
            "description": "One audience (a string) or several (a list of strings).",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        }),
    );
    let mut root = serde_json::to_value(ConfigFile::schema()).unwrap_or_default();
    if let serde_json::Value::Object(o) = &mut root {
        o.insert(
            "$schema".into(),
            serde_json::Value::String("https://json-schema.org/draft/2020-12/schema".into()),
        );
        o.insert("title".into(), serde_json::Value::String("latchkey.toml".into()));
        o.insert("$defs".into(), serde_json::Value::Object(map));
    }
    let text = root.to_string().replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap_or(root)
}

/// Reads and parses `path` (no validation against the store yet: see [`parse_and_validate`]).
pub fn read(path: &FsPath) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.display().to_string(),
            line: None,
            column: None,
            key: None,
            message: format!("cannot read the config file: {e}"),
        }])
    })
}

/// Parses `src` (named `file` in messages), fills defaults and validates it. A key `path` is
/// refused: the text did not come from a file on disk (see [`parse_file`]).
pub fn parse_and_validate(
    file: &str,
    src: &str,
    existing_scope: &dyn Fn(&str) -> bool,
) -> Result<ConfigFile, ConfigErrors> {
    parse_and_validate_in(file, src, existing_scope, None)
}

/// Reads, parses and validates the config file at `path`; `[[keys]]` paths are read relative
/// to its directory.
pub fn parse_file(path: &FsPath, existing_scope: &dyn Fn(&str) -> bool) -> Result<ConfigFile, ConfigErrors> {
    let src = read(path)?;
    let dir = path
        .parent()
        .map(|d| if d.as_os_str().is_empty() { FsPath::new(".") } else { d });
    parse_and_validate_in(&path.display().to_string(), &src, existing_scope, dir)
}

/// [`parse_and_validate`] with `base`, the directory `[[keys]]` paths are relative to.
pub fn parse_and_validate_in(
    file: &str,
    src: &str,
    existing_scope: &dyn Fn(&str) -> bool,
    base: Option<&FsPath>,
) -> Result<ConfigFile, ConfigErrors> {
    let mut cfg: ConfigFile = toml::from_str(src).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => line_col(src, span.start),
            None => (None, None),
        };
        // Type and value errors carry only a span: name the key found there. Syntax errors
        // leave no document to search, and keep no key.
        let key = e.span().and_then(|span| {
            let doc = toml_edit::Document::parse(src.to_string()).ok()?;
            let mut path = Vec::new();
            key_at(doc.as_item(), span.start, &mut path).then(|| Path(path).to_string())
        });
        ConfigErrors(vec![ConfigError {
            file: file.to_string(),
            line,
            column,
            key,
            message: e.message().trim().to_string(),
        }])
    })?;
    let mut errs = cfg.validate(existing_scope);
    errs.extend(cfg.resolve_keys(base));
    if errs.is_empty() {
        return Ok(cfg);
    }
    let doc = toml_edit::Document::parse(src.to_string()).ok();
    Err(ConfigErrors(
        errs.into_iter()
            .map(|e| {
                let offset = doc.as_ref().and_then(|d| locate(d.as_item(), &e.path.0));
                let (line, column) = offset.map_or((None, None), |o| line_col(src, o));
                ConfigError {
                    file: file.to_string(),
                    line,
                    column,
                    key: Some(e.path.to_string()),
                    message: e.message,
                }
            })
            .collect(),
    ))
}

/// The 1-based line and column of byte `offset` in `src`.
fn line_col(src: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(col))
}

/// The key path (pushed onto `path`) of the key or value that contains byte `offset`, going as
/// deep as possible; false when no key does.
fn key_at(item: &toml_edit::Item, offset: usize, path: &mut Vec<Seg>) -> bool {
    let covers = |start: Option<usize>, end: Option<usize>| matches!((start, end), (Some(s), Some(e)) if s <= offset && offset < e);
    match item {
        toml_edit::Item::Table(t) => {
            for (k, child) in t.iter() {
                path.push(Seg::Key(k.to_string()));
                let key_span = t.key(k).and_then(|key| key.span());
                let found = match child {
                    toml_edit::Item::Value(v) => {
                        let start = key_span.as_ref().map(|s| s.start).or_else(|| v.span().map(|s| s.start));
                        let end = v.span().map(|s| s.end);
                        if covers(start, end) {
                            key_at(child, offset, path);
                            true
                        } else {
                            false
                        }
                    }
                    _ => {
                        key_at(child, offset, path)
                            || covers(key_span.as_ref().map(|s| s.start), key_span.as_ref().map(|s| s.end))
                    }
                };
                if found {
                    return true;
                }
                path.pop();
            }
            false
        }
        toml_edit::Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                if key_at(&toml_edit::Item::Table(t.clone()), offset, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
            for (k, v) in t.iter() {
                let start = t
                    .key(k)
                    .and_then(|key| key.span())
                    .map(|s| s.start)
                    .or_else(|| v.span().map(|s| s.start));
                if covers(start, v.span().map(|s| s.end)) {
                    path.push(Seg::Key(k.to_string()));
                    key_at(&toml_edit::Item::Value(v.clone()), offset, path);
                    return true;
                }
            }
            false
        }
        toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                if covers(v.span().map(|s| s.start), v.span().map(|s| s.end)) {
                    path.push(Seg::Index(i));
                    key_at(&toml_edit::Item::Value(v.clone()), offset, path);
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// The byte offset of the key or value at `path`, or of its nearest located ancestor.
fn locate(item: &toml_edit::Item, path: &[Seg]) -> Option<usize> {
    let Some((first, rest)) = path.split_first() else {
        return item.span().map(|s| s.start);
    };
    let here = item.span().map(|s| s.start);
    let found = match (first, item) {
        (Seg::Key(k), toml_edit::Item::Table(t)) => match (t.key(k), t.get(k)) {
            (Some(key), Some(child)) if rest.is_empty() => {
                key.span().map(|s| s.start).or_else(|| child.span().map(|s| s.start))
            }
            (_, Some(child)) => locate(child, rest),
            _ => None,
        },
        (Seg::Key(k), toml_edit::Item::Value(toml_edit::Value::InlineTable(t))) => match (t.key(k), t.get(k)) {
            (Some(key), Some(_)) if rest.is_empty() => key.span().map(|s| s.start),
            (_, Some(v)) => locate(&toml_edit::Item::Value(v.clone()), rest).or_else(|| v.span().map(|s| s.start)),
            _ => None,
        },
        (Seg::Index(i), toml_edit::Item::ArrayOfTables(a)) => a.get(*i).and_then(|t| {
            let item = toml_edit::Item::Table(t.clone());
            locate(&item, rest).or_else(|| t.span().map(|s| s.start))
        }),
        (Seg::Index(i), toml_edit::Item::Value(toml_edit::Value::Array(a))) => {
            a.get(*i).and_then(|v| v.span().map(|s| s.start))
        }
        _ => None,
    };
    found.or(here)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN_EXAMPLE: &str = r#"
[server]
access_token_ttl = 3600            # seconds (also accepts "1h", "15m")
id_token_ttl = 600
refresh_token_ttl = 2592000
code_ttl = "10m"
access_token_format = "jwt"
signing_alg = "RS256"
refresh_token_rotation = true

[introspection]
require_scope = false
validate_audience = false

[[scopes]]
name = "read_books"
description = "Read the book catalogue"
claims = []

[[scopes]]
name = "add_books"

[[clients]]
client_id = "books-app"
client_secret = "books-secret"
name = "Books app"
redirect_uris = ["http://localhost:3000/callback"]
post_logout_redirect_uris = ["http://localhost:3000/"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "profile", "email", "read_books", "add_books"]
token_endpoint_auth_method = "client_secret_basic"
audiences = ["books-api"]
access_token_ttl = 2
require_consent = false

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com", email_verified = true }

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
"#;

    fn builtin(s: &str) -> bool {
        crate::model::builtin_scopes().iter().any(|b| b.name == s)
    }

    #[test]
    fn the_design_example_parses() {
        let cfg = parse_and_validate("latchkey.toml", DESIGN_EXAMPLE, &builtin).unwrap();
        assert_eq!(cfg.clients[0].access_token_ttl, Some(Seconds(2)));
        assert_eq!(cfg.server.code_ttl, Some(Seconds(600)));
        assert_eq!(cfg.users[0].claims["email_verified"], serde_json::Value::Bool(true));
        assert_eq!(cfg.resources[0].required_scopes, vec!["read_books"]);
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let src = "[server]\naccess_token_ttl = 60\ncolour = \"blue\"\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        let e = &err.0[0];
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("colour"), "{}", e.message);
        assert!(err.to_string().starts_with("x.toml:3:1:"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let src = "[server]\naccess_token_ttl = = 5\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].line, Some(2));
    }

    #[test]
    fn validation_errors_point_at_the_key() {
        let src = "[[clients]]\nclient_id = \"a\"\nclient_secret = \"s\"\nscopes = [\"openid\", \"missing\"]\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        let e = &err.0[0];
        assert_eq!(e.key.as_deref(), Some("clients[0].scopes[1]"));
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("missing"));
    }

    #[test]
    fn bad_enum_values_are_errors_with_lines() {
        let src = "[[clients]]\nclient_id = \"a\"\nclient_secret = \"s\"\ngrant_types = [\"magic\"]\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].line, Some(4));
        assert!(err.0[0].message.contains("magic"));
    }

    #[test]
    fn type_and_value_errors_name_the_key() {
        let src = "[server]\naccess_token_ttl = \"abc\"\n";
        let err = parse_and_validate("bad4.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].key.as_deref(), Some("server.access_token_ttl"));
        assert!(
            err.to_string()
                .starts_with("bad4.toml:2:20: `server.access_token_ttl` invalid duration"),
            "{err}"
        );

        let src = "[server]\nsigning_alg=\"HS256\"\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].key.as_deref(), Some("server.signing_alg"));
        assert!(
            err.to_string()
                .starts_with("x.toml:2:13: `server.signing_alg` unknown variant"),
            "{err}"
        );

        // Inside arrays of tables, arrays and inline tables.
        let src = "[[clients]]\nclient_id = \"a\"\n\n[[clients]]\nclient_id = \"b\"\ngrant_types = [\"client_credentials\", \"magic\"]\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].key.as_deref(), Some("clients[1].grant_types[1]"), "{err}");
        let src = "[[clients]]\nclient_id = \"a\"\naccess_token_ttl = true\n";
        let err = parse_and_validate("x.toml", src, &builtin).unwrap_err();
        assert_eq!(err.0[0].key.as_deref(), Some("clients[0].access_token_ttl"), "{err}");

        // A syntax error has no key.
        let err = parse_and_validate("x.toml", "[server]\naccess_token_ttl = = 5\n", &builtin).unwrap_err();
        assert_eq!(err.0[0].key, None);
    }

    #[test]
    fn export_round_trips() {
        let cfg = parse_and_validate("latchkey.toml", DESIGN_EXAMPLE, &builtin).unwrap();
        let text = cfg.to_toml().unwrap();
        let again = parse_and_validate("again.toml", &text, &builtin).unwrap();
        assert_eq!(cfg, again);
    }
}
