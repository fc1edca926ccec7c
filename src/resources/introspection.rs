//! Introspection mode: the API asks the authorization server (RFC 7662) instead of verifying
//! the token itself. Latchkey's own introspection runs in process, as the resource's
//! `introspection_client`, honouring `[introspection] require_scope` and `validate_audience`
//! (django-oidc-provider's model), so `active`, the audience check and revocation all come from
//! the same answer a real API would get.

use serde_json::{Map, Value, json};

use super::jwt::{self, Format};
use super::verdict::{Check, CheckName, TokenSummary};
use super::{Compiled, Outcome};
use crate::oauth::introspect::{self, is_active};
use crate::oauth::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::store::{TokenRecord, TokenStatus};

const NOT_LOCAL: &str = "introspection mode: the API asks Latchkey instead of verifying the JWT itself";

/// Why a recorded token introspects inactive.
fn inactive_reason(p: &Provider, r: &TokenRecord, now: i64) -> String {
    if r.status != TokenStatus::Active {
        return format!(
            "it was {} ({})",
            r.status.as_str(),
            r.status_reason.as_deref().unwrap_or("no reason recorded")
        );
    }
    if r.expires_at <= now {
        return format!("it expired {} s ago by Latchkey's clock", now - r.expires_at);
    }
    if !matches!(
        r.kind,
        crate::store::TokenKind::AccessToken | crate::store::TokenKind::RefreshToken
    ) {
        return format!("it is an {}, which introspection never reports active", r.kind.as_str());
    }
    if r.kid.as_deref().is_some_and(|k| !p.keys.is_published(k)) {
        return "its signing key is no longer published".into();
    }
    if !introspect::issued_here(p, r) {
        return "it was issued for another issuer".into();
    }
    "[introspection] validate_audience = true and the token's aud is not among the introspecting client's scopes \
     or audiences"
        .into()
}

/// Every row after `request`, introspection mode.
pub async fn check(p: &Provider, c: &Compiled, token: &str, required: &[String]) -> Outcome {
    let policy = &c.policy;
    let (format, parsed) = jwt::parse(token);
    let mut rows = Vec::with_capacity(14);
    rows.push(jwt::format_row(format, false));
    let caller = c.resource.introspection_client.as_deref().and_then(|id| p.client(id));
    let answer = match (&c.resource.introspection_client, &caller) {
        // The API's credentials name no client: the introspection endpoint answers 401.
        (Some(id), None) => Some(Err(OAuthError::new(
            ErrorCode::InvalidClient,
            format!("introspection_client `{id}` is not a registered client"),
        ))),
        _ if matches!(format, Format::Jws | Format::Opaque) => {
            Some(introspect::introspect_as(p, caller.as_deref(), token).await)
        }
        _ => None,
    };
    let record = match &answer {
        Some(Ok((_, r))) => r.clone(),
        _ => None,
    };
    let (kind, source) = jwt::kind_of(record.as_ref().map(|r| r.kind), parsed.as_ref());
    rows.push(jwt::kind_row(policy, kind, source));
    for name in [CheckName::Typ, CheckName::Alg, CheckName::Kid, CheckName::Signature] {
        rows.push(Check::skipped(name, NOT_LOCAL));
    }
    let response: Option<Map<String, Value>> = match &answer {
        Some(Ok((Value::Object(m), _))) => Some(m.clone()),
        _ => None,
    };
    let active = response
        .as_ref()
        .is_some_and(|m| m.get("active") == Some(&Value::Bool(true)));
    if active {
        let claims = response.as_ref().cloned().unwrap_or_default();
        let expected_iss = c.resource.expected_issuer.as_deref().unwrap_or(&p.issuer.id);
        rows.push(jwt::iss_row(
            expected_iss,
            claims.get("iss"),
            policy,
            "(introspection response) ",
        ));
        let mut accepted = vec![c.identifier.clone()];
        accepted.extend(c.resource.audience.values().iter().cloned());
        rows.push(jwt::aud_row(
            &accepted,
            claims.get("aud"),
            policy,
            "(introspection response) ",
        ));
        for name in [CheckName::Exp, CheckName::Nbf, CheckName::Iat] {
            rows.push(Check::skipped(
                name,
                "introspection answered active: Latchkey checked the times",
            ));
        }
        rows.push(jwt::scope_row(policy, &claims, required, "(introspection response) "));
    } else {
        for name in [
            CheckName::Iss,
            CheckName::Aud,
            CheckName::Exp,
            CheckName::Nbf,
            CheckName::Iat,
            CheckName::Scope,
        ] {
            rows.push(Check::skipped(
                name,
                "an inactive introspection answer carries no claims",
            ));
        }
    }
    let now = p.clock.now();
    let caller_json = json!(c.resource.introspection_client);
    rows.push(match &answer {
        None => Check::skipped(
            CheckName::Active,
            "the token could not be sent to introspection (see format)",
        ),
        Some(Err(e)) => Check::failed(
            CheckName::Active,
            json!(true),
            json!({"error": e.code.as_str(), "introspection_client": caller_json}),
            format!("introspection refused the API: {}", e.description),
            if c.resource.introspection_client.is_none() {
                "give the resource an introspection_client holding the token_introspection scope, or turn off \
                 [introspection] require_scope"
                    .to_string()
            } else if caller.is_none() {
                "register the introspection_client as a client, or name an existing one".to_string()
            } else {
                "give the introspection_client the token_introspection scope, or turn off [introspection] \
                 require_scope"
                    .to_string()
            },
        ),
        Some(Ok(_)) if active => Check::passed(
            CheckName::Active,
            json!(true),
            json!(true),
            format!(
                "introspection (as {}) answered active",
                c.resource
                    .introspection_client
                    .as_deref()
                    .unwrap_or("the resource, with no client")
            ),
        ),
        Some(Ok(_)) => {
            let why = match &record {
                None => "Latchkey did not issue this token (or not in this database)".to_string(),
                Some(r) if is_active(p, r) => inactive_reason(p, r, now),
                Some(r) => inactive_reason(p, r, now),
            };
            Check::failed(
                CheckName::Active,
                json!(true),
                json!(false),
                format!("introspection answered active: false: {why}"),
                match &record {
                    Some(r) if r.status == TokenStatus::Revoked => "get a new token: this one was revoked",
                    Some(r) if r.expires_at <= now => "get a new token (refresh it)",
                    None => "send a token issued by this Latchkey",
                    _ => "check the [introspection] options and the introspecting client's scopes and audiences",
                },
            )
        }
    });
    rows.push(match &record {
        None => Check::skipped(CheckName::Revocation, "Latchkey has no record of this token"),
        Some(r) if r.status == TokenStatus::Active => Check::passed(
            CheckName::Revocation,
            json!("active"),
            json!("active"),
            "Latchkey's record: not revoked",
        ),
        Some(r) => Check::failed(
            CheckName::Revocation,
            json!("active"),
            json!(r.status.as_str()),
            format!(
                "Latchkey recorded this token as {} ({})",
                r.status.as_str(),
                r.status_reason.as_deref().unwrap_or("no reason recorded")
            ),
            "get a new token",
        ),
    });
    let summary = response.as_ref().filter(|_| active).map(|m| {
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        TokenSummary {
            sub: s("sub"),
            client_id: s("client_id"),
            scope: jwt::token_scopes(policy, m).map(|(_, v)| v.join(" ")),
            jti: s("jti"),
            kind: Some(kind.to_string()),
        }
    });
    Outcome { rows, summary }
}
