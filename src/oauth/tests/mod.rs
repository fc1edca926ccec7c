//! Protocol unit tests: the endpoint functions driven directly, over an in-memory store and a
//! fixed clock, the way `http::oauth` calls them (no HTTP in between).

mod dpop;
mod introspect;
mod issue;
mod revoke;
mod router;
mod token;

use std::sync::Arc;

use crate::clock::Clock;
use crate::events::EventBus;
use crate::keys::Keys;
use crate::model::{Client, GrantType, Scope, Settings, SigningAlg, TokenFormat};
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::form::Form;
use crate::oauth::token::TokenResponse;
use crate::oauth::{ErrorCode, OAuthError};
use crate::provider::{Issuer, Provider};
use crate::store::{DbLocation, Store};

/// The fixed time every test starts at.
pub const T0: i64 = 1_700_000_000;

/// A provider over `:memory:` with a clock frozen at [`T0`], the custom scopes `read`, `write`
/// and `admin`, and the clients of [`clients`].
pub async fn provider() -> Arc<Provider> {
    provider_with(Settings::default()).await
}

pub async fn provider_with(settings: Settings) -> Arc<Provider> {
    let store = Store::open(&DbLocation::Memory).await.unwrap();
    let keys = Keys::load(&store, SigningAlg::ES256, T0, 3_600).await.unwrap();
    // Validation refuses to register a public client with client_credentials; one written to
    // the database directly (an older build, a hand edit) must still be refused at /token.
    let legacy = client("legacy-public", None, &[GrantType::ClientCredentials], &[]);
    store.upsert_client(&legacy, T0).await.unwrap();
    let p = Provider::new(
        Issuer::parse("http://localhost:8000").unwrap(),
        store,
        keys,
        Clock::fixed(T0),
        EventBus::new(),
        settings,
    )
    .await
    .unwrap();
    for name in ["read", "write", "admin"] {
        p.upsert_scope(Scope {
            name: name.into(),
            description: String::new(),
            claims: vec![],
            builtin: false,
        })
        .await
        .unwrap();
    }
    for c in clients() {
        p.upsert_client(c).await.unwrap();
    }
    Arc::new(p)
}

pub fn client(id: &str, secret: Option<&str>, grants: &[GrantType], scopes: &[&str]) -> Client {
    Client {
        client_id: id.into(),
        client_secret: secret.map(str::to_string),
        name: String::new(),
        redirect_uris: if grants.contains(&GrantType::AuthorizationCode) {
            vec!["http://localhost:3000/cb".into()]
        } else {
            vec![]
        },
        post_logout_redirect_uris: vec![],
        grant_types: grants.to_vec(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        token_endpoint_auth_method: None,
        audiences: vec![],
        access_token_ttl: None,
        access_token_format: None,
        require_consent: false,
        remember_consent: None,
        access_token_typ: None,
        auto_login: false,
        token_exchange: None,
        jwks: None,
        jwks_uri: None,
        token_endpoint_auth_signing_alg: None,
        backchannel_logout_uri: None,
        backchannel_logout_session_required: false,
        dpop_bound_access_tokens: false,
        require_pushed_authorization_requests: false,
        allowed_resources: vec![],
        registration: None,
    }
}

/// `svc` and `other` may use client credentials; `web` may not; `spa` is public; `opaque` has
/// its own format and lifetime. (`legacy-public` is written to the store unvalidated.)
pub fn clients() -> Vec<Client> {
    let mut opaque = client("opaque", Some("s3cret"), &[GrantType::ClientCredentials], &["read"]);
    opaque.access_token_format = Some(TokenFormat::Opaque);
    opaque.access_token_ttl = Some(crate::model::Seconds(120));
    vec![
        client(
            "svc",
            Some("s3cret"),
            &[GrantType::ClientCredentials],
            &["read", "write"],
        ),
        client("other", Some("s3cret"), &[GrantType::ClientCredentials], &["read"]),
        client("web", Some("s3cret"), &[GrantType::AuthorizationCode], &["read"]),
        client("spa", None, &[GrantType::AuthorizationCode], &["read"]),
        opaque,
    ]
}

pub fn basic(id: &str, secret: &str) -> BasicAuth {
    BasicAuth::Credentials {
        id: id.into(),
        secret: secret.into(),
    }
}

/// A client credentials request by `id` (HTTP Basic), with an optional `scope`.
pub async fn client_credentials(p: &Provider, id: &str, scope: Option<&str>) -> Result<TokenResponse, OAuthError> {
    let mut pairs = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        pairs.push(("scope", s));
    }
    crate::oauth::token::exchange(p, &basic(id, "s3cret"), &Form::from_pairs(pairs)).await
}

pub fn code(r: Result<impl std::fmt::Debug, OAuthError>) -> ErrorCode {
    r.expect_err("expected an OAuth error").code
}
