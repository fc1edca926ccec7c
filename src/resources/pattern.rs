//! Path patterns of resource rules (`/books/*`, `/books/**`), and which rule a call matches.
//!
//! The path is split at `/`; empty segments (a trailing `/`, doubled slashes) are ignored. A
//! pattern segment `*` matches exactly one segment, `**` matches any number of segments (zero
//! included), any other segment matches itself, ignoring ASCII letter case.
//!
//! Rules are matched against the path as the API behind them would read it, so that no
//! spelling of a path slips past a rule the API's router would still route to the protected
//! handler ([`normalize`]): percent-encoded characters are decoded (RFC 3986 §6.2.2.2, `%62ooks`
//! is `books`), `;parameters` are removed from each segment (Tomcat and Spring route
//! `/books;x=1/1` as `/books/1`), letter case is ignored (ASP.NET Core routes `/BOOKS/1` as
//! `/books/1`), and a path that cannot be judged safely (an encoded `/` or `\`, a `.` or `..`
//! segment, more than [`MAX_SEGMENTS`] segments) is refused rather than matched by no rule.

use crate::model::Rule;

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_segments(rest, &path[skip..])),
        Some((&"*", rest)) => !path.is_empty() && match_segments(rest, &path[1..]),
        Some((lit, rest)) => {
            path.first().is_some_and(|p| p.eq_ignore_ascii_case(lit)) && match_segments(rest, &path[1..])
        }
    }
}

/// The most path segments a call may have (`**` backtracks; bounding the path bounds the work).
pub const MAX_SEGMENTS: usize = 64;

/// The path (relative to the resource, as sent) as rules see it: each segment without its
/// `;parameters` and percent-decoded, joined with `/`. `Err` says why the path cannot be judged
/// safely: an encoded `/` or `\\` (the API may read it as a separator), a `.` or `..` segment
/// (the API may resolve it), invalid UTF-8 or a control character after decoding, or more than
/// [`MAX_SEGMENTS`] segments. Such a call is refused with `invalid_request` (RFC 6750 §3.1).
pub fn normalize(path: &str) -> Result<String, String> {
    let raw = segments(path);
    if raw.len() > MAX_SEGMENTS {
        return Err(format!("the path has more than {MAX_SEGMENTS} segments"));
    }
    let mut out = String::with_capacity(path.len());
    for seg in raw {
        let seg = seg.split(';').next().unwrap_or("");
        let decoded = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| format!("the path segment `{seg}` is not UTF-8 once percent-decoded"))?;
        if decoded.contains('/') || decoded.contains('\\') {
            return Err(format!(
                "the path segment `{seg}` hides a `/` or `\\` in percent-encoding, which the API may read as a separator"
            ));
        }
        if decoded == "." || decoded == ".." {
            return Err(format!(
                "the path has a `{decoded}` segment, which the API may resolve to another path (RFC 3986 §5.2.4)"
            ));
        }
        if decoded.chars().any(char::is_control) {
            return Err(format!(
                "the path segment `{seg}` has a control character once percent-decoded"
            ));
        }
        if decoded.is_empty() {
            continue;
        }
        out.push('/');
        out.push_str(&decoded);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Whether `path` (relative to the resource and already [`normalize`]d, e.g. `/books/1`)
/// matches `pattern`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = segments(pattern);
    let path = segments(path);
    if path.len() > MAX_SEGMENTS {
        return false;
    }
    match_segments(&pattern, &path)
}

/// Whether `rule` applies to `method` and `path`.
pub fn rule_matches(rule: &Rule, method: &str, path: &str) -> bool {
    let method_ok = match rule.method.as_deref() {
        None | Some("*") => true,
        Some(m) => m.eq_ignore_ascii_case(method),
    };
    method_ok && path_matches(&rule.path, path)
}

/// The first rule that applies to `method` and `path`.
pub fn first_match<'a>(rules: &'a [Rule], method: &str, path: &str) -> Option<&'a Rule> {
    rules.iter().find(|r| rule_matches(r, method, path))
}

/// Checks a pattern: it starts with `/`, and `*`/`**` stand alone in their segment.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if !pattern.starts_with('/') {
        return Err(format!(
            "`{pattern}` must start with `/` (it is relative to the resource)"
        ));
    }
    if pattern.contains('?') || pattern.contains('#') {
        return Err(format!("`{pattern}` must be a path only, without `?` or `#`"));
    }
    for seg in segments(pattern) {
        if seg.contains('*') && seg != "*" && seg != "**" {
            return Err(format!(
                "`{pattern}`: a wildcard stands alone in its segment (`/books/*` or `/books/**`, not `{seg}`)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_double_wildcards() {
        assert!(path_matches("/books/*", "/books/1"));
        assert!(path_matches("/books/*", "/books/1/"));
        assert!(!path_matches("/books/*", "/books"));
        assert!(!path_matches("/books/*", "/books/1/notes"));
        assert!(path_matches("/books/**", "/books"));
        assert!(path_matches("/books/**", "/books/1/notes"));
        assert!(path_matches("/**", "/"));
        assert!(path_matches("/", ""));
        assert!(path_matches("/books/*/notes", "/books/7/notes"));
        assert!(!path_matches("/books/*/notes", "/books/7/pages"));
        assert!(path_matches("/a/**/z", "/a/z"));
        assert!(path_matches("/a/**/z", "/a/b/c/z"));
        assert!(path_matches("/Books", "/books"), "letter case is ignored");
    }

    #[test]
    fn rules_match_by_method_and_path_first_wins() {
        let rules = vec![
            Rule {
                method: Some("post".into()),
                path: "/books/**".into(),
                scopes: vec!["add_books".into()],
            },
            Rule {
                method: None,
                path: "/books/**".into(),
                scopes: vec!["read_books".into()],
            },
        ];
        assert_eq!(first_match(&rules, "POST", "/books").unwrap().scopes, vec!["add_books"]);
        assert_eq!(
            first_match(&rules, "GET", "/books/1").unwrap().scopes,
            vec!["read_books"]
        );
        assert!(first_match(&rules, "GET", "/authors").is_none());
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_pattern("/books/*").is_ok());
        assert!(check_pattern("books").is_err());
        assert!(check_pattern("/books*").is_err());
        assert!(check_pattern("/b?x=1").is_err());
    }

    #[test]
    fn every_spelling_of_a_path_meets_its_rule() {
        for spelled in [
            "/%62ooks/1",
            "/books;x=1/1",
            "/BOOKS/1",
            "/Books/1",
            "//books//1/",
            "/b%6Fok%73/1",
        ] {
            let n = normalize(spelled).unwrap();
            assert!(path_matches("/books/*", &n), "{spelled} -> {n}");
        }
        for refused in [
            "/books%2F1",
            "/books%2f1",
            "/books%5C1",
            "/../books/1",
            "/books/%2e%2e/1",
            "/books/./1",
            "/books/%00",
        ] {
            assert!(normalize(refused).is_err(), "{refused}");
        }
        let deep = "/a".repeat(MAX_SEGMENTS + 1);
        assert!(normalize(&deep).is_err());
        assert_eq!(normalize("/").unwrap(), "/");
    }
}
