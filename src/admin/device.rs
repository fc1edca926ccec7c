//! Pending device authorization requests (RFC 8628) for the admin API and the GUI: list them,
//! and approve or deny one as a chosen user (headless tests, and the GUI's buttons).

use serde::Deserialize;
use utoipa::ToSchema;

use super::AdminError;
use crate::oauth::acr;
use crate::oauth::device::authorization::{publish, publish_expired};
use crate::oauth::device::{Approval, DeviceStatus, normalize};
use crate::provider::Provider;

pub use crate::oauth::device::view::{DeviceCodeView, view};

/// The body of `POST /admin/api/device-codes/{user_code}/approve`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The user the device acts for.
    pub username: String,
}

/// Every live (unexpired) device request, newest first.
pub fn list(p: &Provider) -> Vec<DeviceCodeView> {
    let now = p.clock.now();
    publish_expired(p, now);
    p.device_codes.list(now).iter().map(|g| view(p, g)).collect()
}

fn code_of(user_code: &str) -> Result<String, AdminError> {
    normalize(user_code).ok_or_else(|| {
        AdminError::bad_request(format!(
            "`{user_code}` is not a user code: 8 letters of BCDFGHJKLMNPQRSTVWXZ, as XXXX-XXXX (case and dash do not matter)"
        ))
    })
}

async fn decide(p: &Provider, user_code: &str, approval: Option<Approval>) -> Result<DeviceCodeView, AdminError> {
    let code = code_of(user_code)?;
    let now = p.clock.now();
    match p.device_codes.decide(&code, approval, now) {
        Ok(g) => {
            publish(p, &g, false);
            Ok(view(p, &g))
        }
        Err(None) => Err(AdminError::not_found(format!(
            "pending device code `{}` (unknown or expired)",
            crate::oauth::device::display(&code)
        ))),
        Err(Some(g)) => Err(AdminError::conflict(format!(
            "device code `{}` is {} already; only a pending code can be approved or denied",
            g.display_code(),
            match g.status {
                DeviceStatus::Pending => "pending",
                DeviceStatus::Approved => "approved",
                DeviceStatus::Denied => "denied",
                DeviceStatus::Used => "used",
            }
        ))),
    }
}

/// Approves a pending device request as `username`, who counts as having authenticated now
/// (with the persona's `acr`). 404: unknown or expired code; 409: already answered; 422:
/// unknown user.
pub async fn approve(p: &Provider, user_code: &str, r: ApproveRequest) -> Result<DeviceCodeView, AdminError> {
    code_of(user_code)?;
    let user = p
        .store
        .find_user(&r.username)
        .await?
        .ok_or_else(|| AdminError::field("username", format!("user `{}` does not exist", r.username)))?;
    let approval = Approval {
        username: user.user.username.clone(),
        auth_time: p.clock.now(),
        acr: user.user.acr.clone(),
        amr: acr::methods(&user.user, false),
    };
    decide(p, user_code, Some(approval)).await
}

/// Denies a pending device request: the device's next poll gets `access_denied`.
pub async fn deny(p: &Provider, user_code: &str) -> Result<DeviceCodeView, AdminError> {
    decide(p, user_code, None).await
}
