//! The device authorization endpoint (RFC 8628 §3.1, §3.2): a device asks for a device code and
//! a user code, and learns where the user enters it.

use serde::Serialize;

use super::view::complete_uri;
use super::{DEFAULT_EXPIRES_IN, DeviceGrant};
use crate::events::Event;
use crate::model::GrantType;
use crate::oauth::assertion::AssertionSeen;
use crate::oauth::client_auth::{self, BasicAuth};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::{paths, scope};
use crate::provider::Provider;

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceAuthorizationResponse {
    /// The device verification code, for polling the token endpoint.
    pub device_code: String,
    /// The end-user verification code, `XXXX-XXXX`.
    pub user_code: String,
    /// Where the user enters the code: `{issuer}/device`.
    pub verification_uri: String,
    /// The same with the code filled in (`?user_code=XXXX-XXXX`), for a QR code or a link.
    pub verification_uri_complete: String,
    /// Lifetime of the codes, seconds.
    pub expires_in: i64,
    /// The minimum seconds between polls.
    pub interval: i64,
}

/// Publishes a device code's new state (`device_code.updated`, or `device_code.created`).
pub fn publish(p: &Provider, g: &DeviceGrant, created: bool) {
    let view = Box::new(super::view::view(p, g));
    let event = if created {
        Event::DeviceCodeCreated(view)
    } else {
        Event::DeviceCodeUpdated(view)
    };
    p.events.publish(p.clock.now_ms(), event);
}

/// Drops expired device codes and publishes `device_code.removed` for each.
pub fn publish_expired(p: &Provider, now: i64) {
    for gone in p.device_codes.purge_expired(now) {
        p.events.publish(
            p.clock.now_ms(),
            Event::DeviceCodeRemoved {
                user_code: gone.display_code(),
                id: gone.id,
                reason: "expired".into(),
            },
        );
    }
}

/// POST `/device_authorization` (RFC 8628 §3.1): authenticates the client as the token
/// endpoint does (a public client sends its `client_id`), checks it may use the device grant
/// and the `scope` it asks for, and issues the codes. Errors: `invalid_client` (401),
/// `unauthorized_client`, `invalid_scope`, `invalid_request` (400, RFC 6749 §5.2), and
/// `temporarily_unavailable` (503) when [`super::MAX_DEVICE_CODES`] codes are live.
pub async fn device_authorization(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
) -> Result<DeviceAuthorizationResponse, OAuthError> {
    device_authorization_seen(p, basic, form, &AssertionSeen::default()).await
}

/// [`device_authorization`], leaving the report of a client assertion (`private_key_jwt`,
/// `client_secret_jwt`, whose `aud` may be this endpoint's URL) in `seen` for the request log.
pub async fn device_authorization_seen(
    p: &Provider,
    basic: &BasicAuth,
    form: &Form,
    seen: &AssertionSeen,
) -> Result<DeviceAuthorizationResponse, OAuthError> {
    let endpoint = client_auth::Endpoint {
        path: paths::DEVICE_AUTHORIZATION,
        allow_public: true,
    };
    let client = client_auth::authenticate(p, basic, form, endpoint, seen).await?;
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::unauthorized_client(format!(
            "client `{}` is not allowed the device authorization grant: add `{}` to its grant_types",
            client.client_id,
            GrantType::DeviceCode.as_str()
        )));
    }
    let scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let now = p.clock.now();
    publish_expired(p, now);
    let (grant, device_code) = p
        .device_codes
        .create(&client.client_id, scopes, DEFAULT_EXPIRES_IN, now)
        .map_err(|_| {
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                format!(
                    "{} device codes are waiting for their users already; try again when some have \
                     been used or have expired (at most {} s)",
                    super::MAX_DEVICE_CODES,
                    super::MAX_EXPIRES_IN
                ),
            )
        })?;
    publish(p, &grant, true);
    Ok(DeviceAuthorizationResponse {
        device_code,
        user_code: grant.display_code(),
        verification_uri: p.issuer.url(paths::DEVICE),
        verification_uri_complete: complete_uri(p, &grant.user_code),
        expires_in: grant.expires_at - now,
        interval: grant.interval,
    })
}
