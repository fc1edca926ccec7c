//! The admin side of the resource-server simulator: resources as the admin API shows them
//! (with `identifier`, `metadata_url` and `effective`), the profiles, checking a token without a call, and
//! the recent calls.

use std::sync::Arc;

use serde::Deserialize;
use utoipa::ToSchema;

use super::AdminError;
use crate::model::Resource;
use crate::provider::Provider;
use crate::resources::{self, BearerInput, Compiled, Profile, ResourceCall, ResourceView, Verdict};

/// The read-only keys of a resource in the admin API, accepted and ignored on input.
pub const READ_ONLY_KEYS: &[&str] = &["identifier", "metadata_url", "effective"];

/// Decodes a resource written to the admin API: `identifier`, `metadata_url` and `effective`
/// (what a GET returned) are dropped first, so a read resource can be written back as is.
pub fn decode_resource(body: &[u8]) -> Result<Resource, AdminError> {
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AdminError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if let Some(m) = value.as_object_mut() {
        for k in READ_ONLY_KEYS {
            m.remove(*k);
        }
    }
    let bytes = serde_json::to_vec(&value).map_err(AdminError::internal)?;
    super::decode_json(&bytes)
}

/// Every resource, by name.
pub fn list(p: &Provider) -> Vec<ResourceView> {
    p.resources()
        .into_iter()
        .map(|r| ResourceView::of(&p.issuer, r))
        .collect()
}

/// One resource.
pub fn get(p: &Provider, name: &str) -> Result<ResourceView, AdminError> {
    p.resource_server
        .get(name)
        .map(|c| ResourceView::of(&p.issuer, c.resource.clone()))
        .ok_or_else(|| AdminError::not_found(format!("resource `{name}`")))
}

fn compiled(p: &Provider, name: &str) -> Result<Arc<Compiled>, AdminError> {
    p.resource_server
        .get(name)
        .ok_or_else(|| AdminError::not_found(format!("resource `{name}`")))
}

/// Every profile, the default first.
pub fn profiles() -> Vec<Profile> {
    resources::profiles::profiles().to_vec()
}

/// The body of `POST /admin/api/resources/{name}/check`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The token, as it would be sent in `Authorization: Bearer`.
    pub token: String,
    /// The HTTP method of the simulated call (default `GET`).
    #[serde(default)]
    pub method: Option<String>,
    /// The path relative to the resource (default `/`).
    #[serde(default)]
    pub path: Option<String>,
}

/// Checks a token against a resource as a call would, without recording a call. The caller
/// fills the challenge and publishes `resource.checked`.
pub async fn check(p: &Provider, name: &str, req: CheckRequest) -> Result<(Arc<Compiled>, Verdict), AdminError> {
    let c = compiled(p, name)?;
    let method = req.method.unwrap_or_else(|| "GET".into());
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(AdminError::field("method", format!("`{method}` is not an HTTP method")));
    }
    let method = method.to_ascii_uppercase();
    let path = req.path.unwrap_or_else(|| "/".into());
    if !path.starts_with('/') {
        return Err(AdminError::field(
            "path",
            "must start with `/` (it is relative to the resource)",
        ));
    }
    let input = BearerInput {
        authorization: vec![format!("Bearer {}", req.token.trim()).into_bytes()],
        ..BearerInput::default()
    };
    let verdict = resources::evaluate(p, &c, &input, &method, &path).await;
    Ok((c, verdict))
}

/// The resource's recent calls, newest first (at most [`resources::CALLS_PER_RESOURCE`]).
pub fn calls(p: &Provider, name: &str) -> Result<Vec<Arc<ResourceCall>>, AdminError> {
    compiled(p, name)?;
    Ok(p.resource_server.calls.list(name))
}

/// One recent call.
pub fn call(p: &Provider, name: &str, id: i64) -> Result<Arc<ResourceCall>, AdminError> {
    compiled(p, name)?;
    p.resource_server.calls.get(name, id).ok_or_else(|| {
        AdminError::not_found(format!(
            "call {id} of resource `{name}` (only the last {} calls are kept)",
            resources::CALLS_PER_RESOURCE
        ))
    })
}
