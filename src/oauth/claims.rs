//! Which user claims a set of scopes releases (OIDC Core §5.4; custom scopes list theirs).

use serde_json::{Map, Value};

use crate::model::{Scope, User};

/// The claims of `user` released by `scopes`: `sub` always, then every claim a granted scope
/// lists that the user has. `preferred_username` falls back to the username under `profile`.
pub fn release(user: &User, sub: &str, scopes: &[String], registry: &[Scope]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(sub.to_string()));
    for name in scopes {
        let Some(scope) = registry.iter().find(|s| &s.name == name) else {
            continue;
        };
        for claim in &scope.claims {
            if claim == "sub" {
                continue;
            }
            if let Some(v) = user.claims.get(claim) {
                out.insert(claim.clone(), v.clone());
            } else if claim == "preferred_username" {
                out.insert(claim.clone(), Value::String(user.username.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin_scopes;
    use serde_json::json;

    fn alice() -> User {
        User {
            username: "alice".into(),
            password: None,
            sub: Some("s-1".into()),
            claims: json!({"name": "Alice", "email": "a@example.com", "email_verified": true, "team": "blue",
                           "phone_number": "+1"})
            .as_object()
            .cloned()
            .unwrap(),
            auto_login: false,
            acr: None,
            amr: vec![],
        }
    }

    #[test]
    fn claims_follow_the_granted_scopes() {
        let reg = builtin_scopes();
        let c = release(&alice(), "s-1", &["openid".into()], &reg);
        assert_eq!(Value::Object(c), json!({"sub": "s-1"}));
        let c = release(&alice(), "s-1", &["openid".into(), "email".into()], &reg);
        assert_eq!(
            Value::Object(c),
            json!({"sub": "s-1", "email": "a@example.com", "email_verified": true})
        );
        let c = release(&alice(), "s-1", &["profile".into()], &reg);
        assert_eq!(c["name"], "Alice");
        assert_eq!(c["preferred_username"], "alice");
        assert!(!c.contains_key("email"));
    }

    #[test]
    fn custom_scopes_release_their_claims() {
        let mut reg = builtin_scopes();
        reg.push(Scope {
            name: "teams".into(),
            description: String::new(),
            claims: vec!["team".into()],
            builtin: false,
        });
        let c = release(&alice(), "s-1", &["teams".into()], &reg);
        assert_eq!(c["team"], "blue");
    }
}
