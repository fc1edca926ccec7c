//! Scenarios: a named snapshot of what a test needs (the clock offset, the fault rules, and
//! optionally clients, users and a few settings), kept as `[[scenarios]]` in the config file
//! and applied with `POST /admin/api/scenarios/{name}/apply` or `latchkey serve --scenario`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FaultRule;
use crate::model::{Client, Seconds, Settings, TokenFormat, User};
use crate::validate::{FieldError, Path};

/// The settings a scenario may set; what it leaves out keeps its current value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSettings {
    /// Access-token lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<Seconds>,
    /// id_token lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<Seconds>,
    /// Refresh-token lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<Seconds>,
    /// Authorization-code lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_ttl: Option<Seconds>,
    /// `jwt` or `opaque`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<TokenFormat>,
    /// Rotate refresh tokens on use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_rotation: Option<bool>,
}

impl ScenarioSettings {
    /// `current` with what this names replaced.
    pub fn over(&self, current: &Settings) -> Settings {
        Settings {
            access_token_ttl: self.access_token_ttl.unwrap_or(current.access_token_ttl),
            id_token_ttl: self.id_token_ttl.unwrap_or(current.id_token_ttl),
            refresh_token_ttl: self.refresh_token_ttl.unwrap_or(current.refresh_token_ttl),
            code_ttl: self.code_ttl.unwrap_or(current.code_ttl),
            access_token_format: self.access_token_format.unwrap_or(current.access_token_format),
            refresh_token_rotation: self.refresh_token_rotation.unwrap_or(current.refresh_token_rotation),
            ..current.clone()
        }
    }

    /// Every one of these settings as `current` has it (what "save current state" keeps).
    pub fn of(current: &Settings) -> ScenarioSettings {
        ScenarioSettings {
            access_token_ttl: Some(current.access_token_ttl),
            id_token_ttl: Some(current.id_token_ttl),
            refresh_token_ttl: Some(current.refresh_token_ttl),
            code_ttl: Some(current.code_ttl),
            access_token_format: Some(current.access_token_format),
            refresh_token_rotation: Some(current.refresh_token_rotation),
        }
    }
}

/// A scenario, as `[[scenarios]]` and `/admin/api/scenarios` hold it.
///
/// Applying it sets the clock offset (seconds; absent: back to real time), replaces every
/// fault rule with `faults` (their counters start at zero), creates or updates the clients and
/// users it names (others stay) and applies `settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name (`token endpoint down`).
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The virtual clock's offset from real time, seconds (3600 = an hour ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset: Option<i64>,
    /// The fault rules in force while the scenario is applied (replacing all others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRule>,
    /// Clients created or updated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
    /// Users created or updated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    /// Settings changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ScenarioSettings>,
}

/// The largest clock offset a scenario may set, seconds (ten years).
pub const MAX_OFFSET: i64 = 10 * 365 * 86_400;

/// Checks a scenario's own fields and its fault rules (clients and users are checked when
/// applied, like any other change). Errors name the field under `at`.
pub fn validate(s: &Scenario, at: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if s.name.trim().is_empty() || s.name.len() > 100 || s.name.chars().any(char::is_control) {
        errs.push(FieldError::new(
            at.then("name"),
            "must be 1-100 characters without control characters",
        ));
    }
    if s.clock_offset.is_some_and(|o| o.abs() > MAX_OFFSET) {
        errs.push(FieldError::new(
            at.then("clock_offset"),
            format!("at most {MAX_OFFSET} seconds either way"),
        ));
    }
    errs.extend(super::validate_set(&s.faults, &at.then("faults")));
    errs
}
