//! How a device authorization request is shown to the admin API and in the `device_code.*`
//! events (never with the device code itself).

use serde::Serialize;
use utoipa::ToSchema;

use super::{DeviceGrant, DeviceStatus, display};
use crate::oauth::paths;
use crate::provider::Provider;

/// A device authorization request as the admin API and the `device_code.*` events show it
/// (never the device code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeviceCodeView {
    /// Its id; also the `grant_id` of the tokens it produces.
    pub id: String,
    /// The user code, `XXXX-XXXX`.
    pub user_code: String,
    /// The client that asked.
    pub client_id: String,
    /// The client's display name.
    pub client_name: String,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// `pending`, `approved`, `denied` or `used`.
    pub status: DeviceStatus,
    /// Who approved (or denied, from the verification page), once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// When it was made, UNIX seconds (virtual clock).
    pub created_at: i64,
    /// When it expires, UNIX seconds (virtual clock).
    pub expires_at: i64,
    /// The current minimum polling interval, seconds (grows by 5 with each `slow_down`).
    pub interval: i64,
    /// The last poll, UNIX seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_poll: Option<i64>,
    /// `verification_uri_complete` (for a QR code).
    pub verification_uri_complete: String,
}

/// The view of a device request.
pub fn view(p: &Provider, g: &DeviceGrant) -> DeviceCodeView {
    let client_name = p
        .client(&g.client_id)
        .map(|c| {
            if c.name.is_empty() {
                c.client_id.clone()
            } else {
                c.name.clone()
            }
        })
        .unwrap_or_else(|| g.client_id.clone());
    DeviceCodeView {
        id: g.id.clone(),
        user_code: g.display_code(),
        client_id: g.client_id.clone(),
        client_name,
        scope: g.scopes.join(" "),
        status: g.status.clone(),
        username: g.approval.as_ref().map(|a| a.username.clone()),
        created_at: g.created_at,
        expires_at: g.expires_at,
        interval: g.interval,
        last_poll: g.last_poll,
        verification_uri_complete: complete_uri(p, &g.user_code),
    }
}

/// `verification_uri_complete` of a user code (display form), RFC 8628 §3.3.1.
pub fn complete_uri(p: &Provider, user_code: &str) -> String {
    format!("{}?user_code={}", p.issuer.url(paths::DEVICE), display(user_code))
}
