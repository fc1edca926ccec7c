//! Finding the access token of a request to a bearer-protected endpoint (RFC 6750 §2), with
//! the error each malformed request deserves (§3.1). Used by `/userinfo` and by the protected
//! resources; the HTTP layer gathers the inputs and turns errors into challenges
//! (`http::error::bearer_challenge`).

use super::error::OAuthError;

/// What a request offers as its access token, as the HTTP layer found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerRequest<'a> {
    /// Every `Authorization` header value, raw (RFC 6750 §2.1).
    pub authorization: &'a [&'a [u8]],
    /// `access_token` of an `application/x-www-form-urlencoded` body (§2.2), for endpoints and
    /// methods that accept one (never GET).
    pub form_token: Option<&'a str>,
    /// Whether the URI query carries an `access_token` parameter (§2.3). Latchkey does not
    /// accept tokens in URLs (§5.3: they end up in logs and browser history).
    pub query_token: bool,
}

/// Whether `s` matches RFC 6750 §2.1's `b64token`:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| B64TOKEN[b as usize])
}

/// The `b64token` characters as a table (a token is checked on every protected call).
const B64TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    t
};

/// The token of an `Authorization` header value: `Ok(None)` for another scheme (Basic, ...),
/// `Err(invalid_request)` for a Bearer header without a well-formed token.
fn from_header(raw: &[u8]) -> Result<Option<String>, OAuthError> {
    let value = std::str::from_utf8(raw)
        .map_err(|_| OAuthError::invalid_request("the Authorization header is not valid UTF-8"))?;
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(OAuthError::invalid_request(
            "the Authorization header says Bearer but carries no token (RFC 6750 §2.1)",
        ));
    }
    if !is_b64token(token) {
        return Err(OAuthError::invalid_request(
            "the Bearer token is malformed: it must be one b64token (letters, digits, `-._~+/`, then `=` padding), \
             without spaces or quotes (RFC 6750 §2.1)",
        ));
    }
    Ok(Some(token.to_string()))
}

/// The request's access token (RFC 6750 §2).
///
/// Errors:
/// - no token anywhere, or only credentials of another scheme: [`OAuthError::no_token`]
///   (401 with a bare challenge, §3.1); a token only in the query string is answered the same
///   way (an unsupported method, §3.1), with a description that says why;
/// - a malformed `Authorization: Bearer` header, several `Authorization` headers, or a token
///   sent by more than one method (§2: "MUST NOT use more than one method"): `invalid_request`
///   (400).
pub fn access_token(r: &BearerRequest<'_>) -> Result<String, OAuthError> {
    if r.authorization.len() > 1 {
        return Err(OAuthError::invalid_request(
            "the request has more than one Authorization header",
        ));
    }
    let header = match r.authorization.first() {
        Some(raw) => from_header(raw)?,
        None => None,
    };
    let methods = usize::from(header.is_some()) + usize::from(r.form_token.is_some()) + usize::from(r.query_token);
    if methods > 1 {
        return Err(OAuthError::invalid_request(
            "the access token was sent by more than one method (Authorization header, form body, query); \
             use exactly one (RFC 6750 §2)",
        ));
    }
    match (header, r.form_token) {
        (Some(t), _) => Ok(t),
        (None, Some(t)) => Ok(t.to_string()),
        (None, None) if r.query_token => Err(OAuthError::no_token(
            "the access token was sent in the URL query, which Latchkey does not accept (RFC 6750 §2.3, §5.3): \
             send Authorization: Bearer <token>",
        )),
        (None, None) => Err(OAuthError::no_token(
            "no access token: send Authorization: Bearer <token> (RFC 6750 §2.1)",
        )),
    }
}

/// A faithful ASCII rendering of `s` for a challenge's auth-param value: only the characters
/// RFC 6750 §3 allows in `error_description` (`%x20-21 / %x23-5B / %x5D-7E`), which is also
/// safe inside any quoted-string. `§` becomes `section`, typographic quotes, dashes, arrows and
/// ellipses their ASCII forms, accented Latin letters their base letter (`é` → `e`, `ß` →
/// `ss`), `"` becomes `'` and `\` becomes `/`; control characters become spaces, and any other
/// character is dropped (never replaced by `?`). Runs of spaces are collapsed. The full text
/// belongs in the JSON body, which has no such limit.
pub fn ascii_param(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push = |out: &mut String, t: &str| {
        for c in t.chars() {
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(c);
        }
    };
    for c in s.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            c if c.is_ascii_control() || (c as u32 >= 0x80 && c.is_control()) || c.is_whitespace() => {
                push(&mut out, " ")
            }
            c if c.is_ascii() => out.push(c),
            c => push(&mut out, transliterate(c)),
        }
    }
    out.trim_end().to_string()
}

/// The ASCII form of one non-ASCII character ("" when there is none worth keeping).
fn transliterate(c: char) -> &'static str {
    match c {
        '§' => " section ",
        '¶' => " paragraph ",
        '‘' | '’' | '‚' | '′' | '´' => "'",
        '“' | '”' | '„' | '″' | '«' | '»' => "'",
        '‹' => "<",
        '›' => ">",
        '–' | '—' | '‐' | '‑' | '‒' | '−' => "-",
        '…' => "...",
        '→' | '⟶' => "->",
        '←' => "<-",
        '↔' => "<->",
        '⇒' => "=>",
        '•' | '·' => "-",
        '×' => "x",
        '÷' => "/",
        '≤' => "<=",
        '≥' => ">=",
        '≠' => "!=",
        '±' => "+/-",
        '©' => "(c)",
        '®' => "(r)",
        '™' => "(tm)",
        '°' => " degrees",
        '€' => "EUR",
        '£' => "GBP",
        '¥' => "JPY",
        '¿' | '¡' => "",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'Ţ' | 'Ť' | 'Ŧ' => "T",
        'ţ' | 'ť' | 'ŧ' => "t",
        'Þ' => "Th",
        'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::ErrorCode;

    fn run(headers: &[&str], form: Option<&str>, query: bool) -> Result<String, OAuthError> {
        let raw: Vec<&[u8]> = headers.iter().map(|h| h.as_bytes()).collect();
        access_token(&BearerRequest {
            authorization: &raw,
            form_token: form,
            query_token: query,
        })
    }

    #[test]
    fn a_bearer_header_or_a_form_token_is_read() {
        assert_eq!(run(&["Bearer abc.DEF-_~+/=="], None, false).unwrap(), "abc.DEF-_~+/==");
        assert_eq!(run(&["bearer   x"], None, false).unwrap(), "x");
        assert_eq!(run(&[], Some("tok"), false).unwrap(), "tok");
    }

    #[test]
    fn no_token_or_another_scheme_is_a_bare_challenge() {
        for e in [
            run(&[], None, false).unwrap_err(),
            run(&["Basic d2ViOnNlY3JldA=="], None, false).unwrap_err(),
            run(&[], None, true).unwrap_err(),
        ] {
            assert!(e.without_credentials, "{e:?}");
            assert_eq!(e.code, ErrorCode::InvalidToken);
        }
    }

    #[test]
    fn malformed_requests_are_invalid_request() {
        for e in [
            run(&["Bearer"], None, false).unwrap_err(),
            run(&["Bearer "], None, false).unwrap_err(),
            run(&["Bearer a b"], None, false).unwrap_err(),
            run(&["Bearer \"quoted\""], None, false).unwrap_err(),
            run(&["Bearer ==="], None, false).unwrap_err(),
            run(&["Bearer a", "Bearer b"], None, false).unwrap_err(),
            run(&["Bearer a"], Some("b"), false).unwrap_err(),
            run(&["Bearer a"], None, true).unwrap_err(),
            run(&[], Some("b"), true).unwrap_err(),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{e:?}");
            assert!(!e.without_credentials);
        }
        let raw: &[&[u8]] = &[b"Bearer \xff"];
        let e = access_token(&BearerRequest {
            authorization: raw,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }
}
