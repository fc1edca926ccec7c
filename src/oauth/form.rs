//! Strict `application/x-www-form-urlencoded` parsing for OAuth requests.
//!
//! Unlike a lenient parser, this one refuses what RFC 6749 says is malformed: invalid UTF-8 or
//! percent escapes are `invalid_request`, and a parameter read with [`Form::get`] that appears
//! more than once is `invalid_request` (RFC 6749 §3.1, §3.2). A parameter sent without a value
//! counts as omitted (RFC 6749 §3.1).

use super::error::OAuthError;

/// Parsed form (or query) parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    params: Vec<(String, String)>,
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte,
/// and the result must be UTF-8.
pub fn decode_component(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).ok_or("a `%` escape is cut short")?;
                let s = std::str::from_utf8(hex).map_err(|_| "invalid `%` escape")?;
                let v = u8::from_str_radix(s, 16).map_err(|_| format!("invalid `%` escape `%{s}`"))?;
                out.push(v);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "a value is not valid UTF-8".to_string())
}

impl Form {
    /// Parses a body or query string.
    pub fn parse(raw: &[u8]) -> Result<Form, OAuthError> {
        let mut params = Vec::new();
        for pair in raw.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let bad = |e: String| OAuthError::invalid_request(format!("malformed form body: {e}"));
            let k = decode_component(k).map_err(bad)?;
            let v = decode_component(v).map_err(bad)?;
            params.push((k, v));
        }
        Ok(Form { params })
    }

    /// Builds a form from pairs (tests, internal callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Form {
        Form {
            params: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }

    /// The decoded size of all names and values, in bytes.
    pub fn size(&self) -> usize {
        self.params.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// The value of `name`; `None` when absent or empty; `invalid_request` when repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.params {
            if k == name {
                if found.is_some() {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter `{name}` is included more than once (RFC 6749 §3.2)"
                    )));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    /// The value of `name`, or `invalid_request` naming it when absent.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("missing required parameter `{name}`")))
    }

    /// Whether `name` is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(k, _)| k == name)
    }

    /// All parameters, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn decodes_plus_and_percent() {
        let f = Form::parse(b"a=x+y%2Bz&b=%E2%9C%93").unwrap();
        assert_eq!(f.get("a").unwrap(), Some("x y+z"));
        assert_eq!(f.get("b").unwrap(), Some("\u{2713}"));
    }

    #[test]
    fn refuses_invalid_utf8_and_escapes() {
        assert_eq!(Form::parse(b"a=%FF").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(Form::parse(b"a=%zz").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(Form::parse(b"a=%4").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(Form::parse(b"a=\xff").unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn repeated_parameters_are_invalid_requests() {
        let f = Form::parse(b"scope=a&scope=b").unwrap();
        let e = f.get("scope").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(e.description.contains("scope"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let f = Form::parse(b"scope=&grant_type").unwrap();
        assert_eq!(f.get("scope").unwrap(), None);
        assert!(f.require("grant_type").is_err());
    }
}
