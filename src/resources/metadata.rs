//! OAuth 2.0 Protected Resource Metadata (RFC 9728) of each resource, served at the location
//! §3.1 derives from its identifier ([`super::metadata_url`]).

use serde_json::{Value, json};

use super::Compiled;
use crate::provider::Provider;

/// The metadata document (RFC 9728 §2, §3.2): `resource` is exactly the identifier (§3.3).
pub fn document(p: &Provider, c: &Compiled) -> Value {
    let mut scopes: Vec<String> = c.resource.required_scopes.clone();
    for rule in &c.resource.rules {
        for s in &rule.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
    }
    let mut doc = json!({
        "resource": c.identifier,
        "authorization_servers": [p.issuer.id],
        "scopes_supported": scopes,
        "bearer_methods_supported": c.policy.bearer_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "resource_name": c.resource.name,
    });
    // RFC 9728 §2: the proof algorithms, when the API checks DPoP (RFC 9449 §7).
    if c.policy.dpop
        && let Some(m) = doc.as_object_mut()
    {
        m.insert(
            "dpop_signing_alg_values_supported".into(),
            json!(crate::oauth::dpop::ALGS),
        );
    }
    doc
}
