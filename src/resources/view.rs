//! A resource as the admin API and the events show it.

use serde::Serialize;
use utoipa::ToSchema;

use super::profiles::Policy;
use super::server::{identifier, metadata_url};
use crate::issuer::Issuer;
use crate::model::Resource;

/// A resource as the admin API shows it: the stored object plus read-only `identifier`,
/// `metadata_url` and `effective` (the resolved policy). They are ignored when a resource is
/// written (so what was read can be written back).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResourceView {
    /// The resource.
    #[serde(flatten)]
    pub resource: Resource,
    /// `{issuer}/resources/{name}`: tokens whose `aud` is this are accepted (read-only).
    pub identifier: String,
    /// The RFC 9728 metadata URL (read-only).
    pub metadata_url: String,
    /// What the simulated API checks: the profile's defaults with the resource's own keys
    /// applied (read-only).
    pub effective: Policy,
}

impl ResourceView {
    /// The view of `r` under `issuer`.
    pub fn of(issuer: &Issuer, r: Resource) -> ResourceView {
        ResourceView {
            identifier: identifier(issuer, &r.name),
            metadata_url: metadata_url(issuer, &r.name),
            effective: Policy::resolve(&r),
            resource: r,
        }
    }
}
