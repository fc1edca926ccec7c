//! `POST /admin/api/reset`: back to the state the server started with, between tests.
//!
//! What requests created goes: tokens (every kind), remembered consents, browser sessions,
//! waiting authorization requests, the request log and the resource calls (their numbering
//! restarts at 1), the virtual clock's offset. What the API changed in the registry (settings,
//! scopes, clients, users, resources) is put back as it stood once the config file was applied
//! at start. The signing keys stay, unless asked: then every key is replaced by a fresh one.
//! One `server.reset` event tells the UI to refetch.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Admin, AdminError};
use crate::events::Event;
use crate::keys::SigningKey;

/// The request (the body is optional; `?keys=true` works too).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Also replace every signing key with a freshly generated one (of the restored settings'
    /// `signing_alg`); tokens signed before no longer verify. Default false.
    #[serde(default)]
    pub keys: bool,
}

/// What a reset did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetSummary {
    /// Tokens removed (every kind).
    pub tokens: u64,
    /// Remembered consent decisions removed.
    pub consents: u64,
    /// Request-log entries removed.
    pub requests: u64,
    /// Whether the signing keys were replaced.
    pub keys: bool,
    /// How long the reset took on the server, in milliseconds.
    pub elapsed_ms: f64,
}

/// Resets the server (see the module documentation).
pub async fn reset(a: &Admin, req: ResetRequest) -> Result<ResetSummary, AdminError> {
    let started = Instant::now();
    let p = &a.provider;
    let new_key = if req.keys {
        // Generated before anything changes: a failure leaves the server as it was.
        let alg = match p.store.load_baseline_settings().await? {
            Some(s) => s.signing_alg,
            None => p.settings().signing_alg,
        };
        let now = p.clock.now();
        Some(
            tokio::task::spawn_blocking(move || SigningKey::generate(alg, now))
                .await
                .map_err(AdminError::internal)??,
        )
    } else {
        None
    };
    let counts = p.store.reset_to_baseline(new_key).await?;
    let requests = a.requests.clear();
    p.reload_after_reset().await?;
    if req.keys {
        p.keys.reload(&p.store, p.clock.now()).await?;
    }
    p.events.publish(p.clock.now_ms(), Event::Reset { keys: req.keys });
    Ok(ResetSummary {
        tokens: counts.tokens,
        consents: counts.consents,
        requests,
        keys: req.keys,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}
