//! Scope parameters (RFC 6749 §3.3).

use super::error::OAuthError;
use crate::validate::is_scope_token;

/// Splits a `scope` parameter into its tokens, refusing malformed ones. Duplicates are dropped,
/// order is kept.
pub fn parse(raw: &str) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        if !is_scope_token(s) {
            return Err(OAuthError::invalid_scope(format!(
                "`{s}` is not a valid scope token (RFC 6749 §3.3)"
            )));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

/// The scopes to grant: the requested ones if they are all `allowed`, or all of `allowed` when
/// none were requested. A scope beyond `allowed` is `invalid_scope` naming it.
pub fn grant(requested: Option<&str>, allowed: &[String], client_id: &str) -> Result<Vec<String>, OAuthError> {
    let requested = match requested {
        Some(raw) => parse(raw)?,
        None => Vec::new(),
    };
    if requested.is_empty() {
        return Ok(allowed.to_vec());
    }
    let denied: Vec<&str> = requested
        .iter()
        .filter(|s| !allowed.iter().any(|a| a == *s))
        .map(String::as_str)
        .collect();
    if !denied.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "client `{client_id}` may not request {}; its allowed scopes are: {}",
            denied.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
            if allowed.is_empty() {
                "(none)".to_string()
            } else {
                allowed.join(" ")
            }
        )));
    }
    Ok(requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn allowed() -> Vec<String> {
        vec!["read".into(), "write".into()]
    }

    #[test]
    fn absent_scope_grants_everything_allowed() {
        assert_eq!(grant(None, &allowed(), "c").unwrap(), allowed());
        assert_eq!(grant(Some("  "), &allowed(), "c").unwrap(), allowed());
    }

    #[test]
    fn a_subset_is_granted_as_requested() {
        assert_eq!(grant(Some("write"), &allowed(), "c").unwrap(), vec!["write"]);
        assert_eq!(
            grant(Some("write read write"), &allowed(), "c").unwrap(),
            vec!["write", "read"]
        );
    }

    #[test]
    fn a_superset_is_invalid_scope_naming_the_extra() {
        let e = grant(Some("read admin"), &allowed(), "c").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert!(e.description.contains("`admin`"), "{}", e.description);
    }

    #[test]
    fn malformed_scope_tokens_are_invalid_scope() {
        assert_eq!(parse("a \"b\"").unwrap_err().code, ErrorCode::InvalidScope);
    }
}
