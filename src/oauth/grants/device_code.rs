//! The device authorization grant at the token endpoint (RFC 8628 §3.4, §3.5): the device
//! polls with its `device_code` until the user has approved or denied, or the code expired.

use super::TokenResponse;
use super::user_tokens::{RefreshPolicy, UserGrant, find_user, user_tokens};
use crate::model::{Client, GrantType};
use crate::oauth::acr::Authn;
use crate::oauth::device::DeviceStatus;
use crate::oauth::device::authorization::publish;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::scope;
use crate::provider::Provider;

/// Handles `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4). Errors,
/// all 400 (RFC 8628 §3.5): `authorization_pending` (the user has not answered yet),
/// `slow_down` (polled sooner than `interval` seconds after the last poll; the interval grows
/// by 5 seconds), `access_denied` (the user denied), `expired_token` (the codes expired on the
/// virtual clock), `invalid_grant` (unknown device code, another client's, or already used).
pub async fn exchange(p: &Provider, client: &Client, form: &Form) -> Result<TokenResponse, OAuthError> {
    let device_code = form.require("device_code")?;
    // RFC 8707 §2: `resource` at the token request, checked before the code is polled.
    let resources = crate::oauth::resource_indicators::for_client(p, client, form)?;
    let now = p.clock.now();
    let owner = p.device_codes.by_device_code(device_code).ok_or_else(|| {
        OAuthError::invalid_grant("unknown device code (or the server restarted since it was issued)")
    })?;
    if owner.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(format!(
            "the device code was issued to another client, not to `{}`",
            client.client_id
        )));
    }
    let Some((g, too_early)) = p.device_codes.poll(device_code, now) else {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "the device code has expired; start again at the device authorization endpoint",
        ));
    };
    if g.expires_at <= now {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            format!(
                "the device code expired {} s ago; start again at the device authorization endpoint",
                now - g.expires_at
            ),
        ));
    }
    if too_early {
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            format!(
                "polled {} s after the last poll, but the interval is {} s; it is now {} s (RFC 8628 §3.5)",
                now - g.last_poll.unwrap_or(now),
                g.interval,
                g.interval + crate::oauth::device::SLOW_DOWN_STEP
            ),
        ));
    }
    match g.status {
        DeviceStatus::Pending => Err(OAuthError::new(
            ErrorCode::AuthorizationPending,
            format!(
                "the user has not yet entered the code {} and answered; poll again in {} s",
                g.display_code(),
                g.interval
            ),
        )),
        DeviceStatus::Denied => Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the user denied the device's request",
        )),
        DeviceStatus::Used => Err(OAuthError::invalid_grant(
            "the device code was already exchanged for tokens",
        )),
        DeviceStatus::Approved => {
            if let Some(used) = p.device_codes.by_device_code(device_code) {
                publish(p, &used, false);
            }
            let approval = g
                .approval
                .clone()
                .ok_or_else(|| OAuthError::invalid_grant("the device code has no approving user"))?;
            let user = find_user(p, Some(&approval.username)).await?;
            let scopes = scope::parse(&g.scopes.join(" "))?;
            user_tokens(
                p,
                client,
                &user,
                UserGrant {
                    scopes,
                    auth_time: approval.auth_time,
                    authn: Authn {
                        acr: approval.acr.clone(),
                        amr: approval.amr.clone(),
                        id_token_claims: Vec::new(),
                        sid: None,
                    },
                    nonce: None,
                    grant_type: GrantType::DeviceCode.as_str(),
                    // The device request's id names the grant, so the GUI can link to its tokens.
                    grant_id: g.id.clone(),
                    parent_id: None,
                    refresh: RefreshPolicy::New,
                    granted_resources: resources.clone(),
                    resources,
                },
            )
            .await
        }
    }
}
