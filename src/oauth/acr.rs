//! Step-up authentication: the authentication context a client asks for (`acr_values`, OIDC
//! Core §3.1.2.1; an `acr` member of the `claims` parameter, §5.5, §5.5.1.1) and what a persona
//! satisfies (its `acr` and `amr`, §2).
//!
//! A persona authenticates at its configured `acr` (none: level `"0"`, OIDC Core §2: "did not
//! meet the requirements of ISO/IEC 29115 level 1"), with its `amr` (RFC 8176 values). A
//! voluntary request (`acr_values`, or a non-essential `acr` claim) never fails: the id_token
//! reports the level actually reached. An essential `acr` claim that the persona cannot
//! satisfy is a failed authentication attempt (§5.5.1.1), answered with the error response of
//! §3.1.2.6: `access_denied` (RFC 6749 §4.1.2.1).

use serde_json::{Map, Value};

use super::error::{ErrorCode, OAuthError};
use crate::model::User;

/// How the user of a grant authenticated, carried from the code to the refresh tokens so every
/// id_token of the grant states the same (OIDC Core §2, §12.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authn {
    /// `acr`, when stated.
    pub acr: Option<String>,
    /// `amr`.
    pub amr: Vec<String>,
    /// Claims the `claims` parameter asked for in the id_token.
    pub id_token_claims: Vec<String>,
    /// The browser session's `sid` (Back-Channel Logout 1.0 §2.1), when the grant began with one.
    pub sid: Option<String>,
}

/// The `acr` value of a persona that has none configured (OIDC Core §2, level 0).
pub const LEVEL_ZERO: &str = "0";

/// What the authorization request asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcrRequest {
    /// The requested values, in order of preference (`acr_values`, or the claim's `value` /
    /// `values`). Empty: no acr was asked for (or any value, for an essential claim).
    pub values: Vec<String>,
    /// Whether `acr` was requested as an essential claim (`claims` parameter).
    pub essential: bool,
    /// Whether the request asked for `acr` at all (then the id_token always carries one).
    pub requested: bool,
    /// Other claims the `claims` parameter asks for in the id_token (names), released when the
    /// persona has them.
    pub id_token_claims: Vec<String>,
}

impl AcrRequest {
    /// Parses `acr_values` (space-separated) and the `claims` parameter (a JSON object, OIDC
    /// Core §5.5). Only its `id_token` member is used; `userinfo` is accepted and ignored.
    /// A `claims` value that is not a JSON object, or whose `acr` request is malformed, is
    /// `invalid_request`.
    pub fn parse(acr_values: Option<&str>, claims: Option<&str>) -> Result<AcrRequest, OAuthError> {
        let mut r = AcrRequest::default();
        if let Some(raw) = acr_values {
            r.values = raw.split(' ').filter(|v| !v.is_empty()).map(str::to_string).collect();
            r.requested = !r.values.is_empty();
        }
        let Some(raw) = claims else {
            return Ok(r);
        };
        let bad = |why: &str| OAuthError::invalid_request(format!("the claims parameter {why} (OIDC Core §5.5)"));
        let doc: Map<String, Value> = serde_json::from_str(raw).map_err(|_| bad("is not a JSON object"))?;
        for member in ["id_token", "userinfo"] {
            if let Some(v) = doc.get(member)
                && !v.is_object()
            {
                return Err(bad(&format!("member `{member}` must be an object")));
            }
        }
        let Some(Value::Object(id_token)) = doc.get("id_token") else {
            return Ok(r);
        };
        for (name, spec) in id_token {
            if name != "acr" {
                r.id_token_claims.push(name.clone());
                continue;
            }
            r.requested = true;
            let spec = match spec {
                Value::Null => continue,
                Value::Object(o) => o,
                _ => return Err(bad("asks for `acr` with neither null nor an object")),
            };
            if let Some(e) = spec.get("essential") {
                r.essential = e
                    .as_bool()
                    .ok_or_else(|| bad("has an `essential` that is not a boolean"))?;
            }
            let mut values = Vec::new();
            if let Some(v) = spec.get("value") {
                values.push(
                    v.as_str()
                        .ok_or_else(|| bad("has an acr `value` that is not a string"))?
                        .to_string(),
                );
            }
            if let Some(vs) = spec.get("values") {
                let list = vs
                    .as_array()
                    .ok_or_else(|| bad("has acr `values` that is not an array of strings"))?;
                for v in list {
                    values.push(
                        v.as_str()
                            .ok_or_else(|| bad("has acr `values` that is not an array of strings"))?
                            .to_string(),
                    );
                }
            }
            // The claim's values take precedence over acr_values (§5.5.1.1 is the stronger
            // request).
            if !values.is_empty() || r.essential {
                r.values = values;
            }
        }
        Ok(r)
    }

    /// Whether an authentication at `level` satisfies the request: any level when nothing
    /// essential was asked, else one of the values (any value when none are listed).
    pub fn accepts(&self, level: &str) -> bool {
        !self.essential || self.values.is_empty() || self.values.iter().any(|v| v == level)
    }

    /// Whether `level` is one the request names (or the request names none): what the login
    /// page marks, for voluntary and essential requests alike.
    pub fn meets(&self, level: &str) -> bool {
        self.values.is_empty() || self.values.iter().any(|v| v == level)
    }

    /// The `acr` the id_token carries for a sign-in at `level` (a persona's [`level`]): the
    /// level reached, when the persona has one configured or the request asked for acr.
    /// `Err(access_denied)` when an essential request cannot be met (§5.5.1.1, §3.1.2.6).
    pub fn outcome(&self, level: Option<&str>, username: &str) -> Result<Option<String>, OAuthError> {
        let reached = level.unwrap_or(LEVEL_ZERO);
        if !self.accepts(reached) {
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                format!(
                    "the essential acr ({}) cannot be met: persona `{username}` authenticates at acr `{reached}`; \
                     an essential acr that is not met is a failed authentication (OIDC Core §5.5.1.1, §3.1.2.6)",
                    self.values.join(" or ")
                ),
            ));
        }
        Ok((level.is_some() || self.requested).then(|| reached.to_string()))
    }
}

/// The acr a persona authenticates at (`None`: level 0, not stated unless asked for).
pub fn level(user: &User) -> Option<&str> {
    user.acr.as_deref()
}

/// The `amr` of a sign-in (RFC 8176): the persona's configured methods, else `pwd` when a
/// password was checked, else none (a persona picked with one click).
pub fn methods(user: &User, password_checked: bool) -> Vec<String> {
    if !user.amr.is_empty() {
        user.amr.clone()
    } else if password_checked {
        vec!["pwd".to_string()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_are_voluntary_and_ordered() {
        let r = AcrRequest::parse(Some("urn:mfa  urn:pwd"), None).unwrap();
        assert_eq!(r.values, ["urn:mfa", "urn:pwd"]);
        assert!(!r.essential && r.requested);
        assert_eq!(r.outcome(None, "bob").unwrap().as_deref(), Some("0"));
        assert_eq!(r.outcome(Some("urn:mfa"), "alice").unwrap().as_deref(), Some("urn:mfa"));
        let none = AcrRequest::parse(None, None).unwrap();
        assert_eq!(none.outcome(None, "bob").unwrap(), None);
        assert_eq!(none.outcome(Some("urn:x"), "bob").unwrap().as_deref(), Some("urn:x"));
    }

    #[test]
    fn an_essential_acr_fails_with_access_denied() {
        let r = AcrRequest::parse(
            Some("urn:ignored"),
            Some(r#"{"id_token":{"acr":{"essential":true,"values":["urn:mfa","urn:hwk"]},"email":null}}"#),
        )
        .unwrap();
        assert_eq!(r.values, ["urn:mfa", "urn:hwk"]);
        assert!(r.essential);
        assert_eq!(r.id_token_claims, ["email"]);
        let e = r.outcome(None, "bob").unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);
        assert!(e.description.contains("§5.5.1.1"), "{}", e.description);
        assert_eq!(r.outcome(Some("urn:hwk"), "alice").unwrap().as_deref(), Some("urn:hwk"));
        let single = AcrRequest::parse(
            None,
            Some(r#"{"id_token":{"acr":{"essential":true,"value":"urn:mfa"}}}"#),
        )
        .unwrap();
        assert!(single.outcome(Some("urn:other"), "carol").is_err());
    }

    #[test]
    fn malformed_claims_are_invalid_requests() {
        for bad in [
            "not json",
            "[1]",
            r#"{"id_token":3}"#,
            r#"{"id_token":{"acr":{"essential":"yes"}}}"#,
            r#"{"id_token":{"acr":{"values":"urn:x"}}}"#,
            r#"{"id_token":{"acr":true}}"#,
        ] {
            let e = AcrRequest::parse(None, Some(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{bad}");
        }
    }
}
