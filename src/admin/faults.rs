//! `/admin/api/faults`, `/admin/api/scenarios` and `/admin/api/stats` (issue 15, docs/faults.md):
//! fault rules with their counters, scenarios, and call counts. Every change goes through
//! [`Provider`], which validates, persists and publishes `faults.changed` (or
//! `scenarios.changed`, `scenario.applied`).

use serde::Deserialize;
use utoipa::ToSchema;

use super::AdminError;
use crate::faults::stats::StatsView;
use crate::faults::{FaultRule, RuleView, Scenario};
use crate::provider::Provider;

fn rule(p: &Provider, name: &str) -> Result<RuleView, AdminError> {
    p.faults
        .get(name)
        .ok_or_else(|| AdminError::not_found(format!("fault rule `{name}`")))
}

/// Every rule with its counters, in the order they are tried.
pub fn list(p: &Provider) -> Vec<RuleView> {
    p.faults.list()
}

/// One rule with its counters (404 when there is none by that name).
pub fn get(p: &Provider, name: &str) -> Result<RuleView, AdminError> {
    rule(p, name)
}

/// Adds a rule (tried after the existing ones); 409 when the name is taken, 422 naming the
/// field when it is invalid.
pub async fn create(p: &Provider, r: FaultRule) -> Result<RuleView, AdminError> {
    let name = r.name.clone();
    p.create_fault(r).await?;
    rule(p, &name)
}

/// Replaces (or creates) the rule `name`; the body may rename it. Its counters restart.
pub async fn replace(p: &Provider, name: &str, r: FaultRule) -> Result<(bool, RuleView), AdminError> {
    let new_name = r.name.clone();
    let created = p.replace_fault(name, r).await?;
    Ok((created, rule(p, &new_name)?))
}

/// Replaces every rule at once (an empty list removes them all).
pub async fn replace_all(p: &Provider, rules: Vec<FaultRule>) -> Result<Vec<RuleView>, AdminError> {
    p.set_faults(rules).await?;
    Ok(p.faults.list())
}

/// Deletes the rule `name`.
pub async fn delete(p: &Provider, name: &str) -> Result<(), AdminError> {
    Ok(p.delete_fault(name).await?)
}

/// Turns the rule `name` on or off (counters kept).
pub async fn enable(p: &Provider, name: &str, enabled: bool) -> Result<RuleView, AdminError> {
    p.enable_fault(name, enabled).await?;
    rule(p, name)
}

/// Puts the counters of `name` (or of every rule) back to zero.
pub fn reset_counters(p: &Provider, name: Option<&str>) -> Result<Vec<RuleView>, AdminError> {
    p.reset_fault_counters(name)?;
    Ok(p.faults.list())
}

/// Call counts since start or the last reset.
pub fn stats(p: &Provider) -> StatsView {
    p.stats.view()
}

/// Starts the call counts afresh.
pub fn reset_stats(p: &Provider) -> StatsView {
    p.stats.reset_at(p.clock.now_ms());
    p.stats.view()
}

/// Every scenario.
pub async fn scenarios(p: &Provider) -> Result<Vec<Scenario>, AdminError> {
    Ok(p.scenarios().await?)
}

/// One scenario.
pub async fn scenario(p: &Provider, name: &str) -> Result<Scenario, AdminError> {
    p.scenarios()
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AdminError::not_found(format!("scenario `{name}`")))
}

/// Creates a scenario; 409 when the name is taken.
pub async fn create_scenario(p: &Provider, s: Scenario) -> Result<Scenario, AdminError> {
    if p.scenarios().await?.iter().any(|x| x.name == s.name) {
        return Err(AdminError::conflict(format!(
            "scenario `{}` already exists; use PUT to change it",
            s.name
        )));
    }
    let name = s.name.clone();
    p.upsert_scenario(s).await?;
    scenario(p, &name).await
}

/// Creates or replaces the scenario `name` (the body's `name` must match). Returns whether
/// it was created.
pub async fn replace_scenario(p: &Provider, name: &str, s: Scenario) -> Result<(bool, Scenario), AdminError> {
    if s.name != name {
        return Err(AdminError::field("name", format!("must match the URL (`{name}`)")));
    }
    let created = p.upsert_scenario(s).await?;
    Ok((created, scenario(p, name).await?))
}

/// Deletes a scenario.
pub async fn delete_scenario(p: &Provider, name: &str) -> Result<(), AdminError> {
    Ok(p.delete_scenario(name).await?)
}

/// `POST /admin/api/scenarios/{name}/save`: what to keep besides the clock offset, the fault
/// rules and the settings.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveScenario {
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Also keep every client and user (default false).
    #[serde(default)]
    pub include_registry: bool,
}

/// Saves the current state as the scenario `name` (replacing one of that name).
pub async fn save_current(p: &Provider, name: &str, req: SaveScenario) -> Result<Scenario, AdminError> {
    let s = p.snapshot_scenario(name, req.description, req.include_registry).await?;
    p.upsert_scenario(s).await?;
    scenario(p, name).await
}

/// Applies the scenario `name`.
pub async fn apply(p: &Provider, name: &str) -> Result<Scenario, AdminError> {
    Ok(p.apply_scenario(name).await?)
}
