//! Path patterns of resource rules (`/books/*`, `/books/**`), and which rule a call matches.
//!
//! The path is split at `/`; empty segments (a trailing `/`, doubled slashes) are ignored. A
//! pattern segment `*` matches exactly one segment, `**` matches any number of segments (zero
//! included), any other segment matches itself exactly (case-sensitive, after percent-decoding
//! neither side: patterns are compared with the path as sent).

use crate::model::Rule;

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_segments(rest, &path[skip..])),
        Some((&"*", rest)) => !path.is_empty() && match_segments(rest, &path[1..]),
        Some((lit, rest)) => path.first() == Some(lit) && match_segments(rest, &path[1..]),
    }
}

/// Whether `path` (relative to the resource, e.g. `/books/1`) matches `pattern`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = segments(pattern);
    let path = segments(path);
    // `**` backtracks; patterns are short, but bound the work on long paths anyway.
    if path.len() > 64 {
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
        assert!(!path_matches("/Books", "/books"));
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
}
