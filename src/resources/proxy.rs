//! The explaining proxy's data and rules, free of any HTTP framework (the forwarding itself is
//! `crate::http::proxy`): where a request goes upstream, the verdict summary sent to the
//! upstream, and the record of what the upstream answered, related to Latchkey's verdict.
//!
//! Path mapping: a call to `{issuer}/resources/{name}{rest}?{query}` goes to
//! `{upstream}{rest}?{query}`, where `{upstream}` is the configured URL with any trailing `/`
//! removed (its path is a prefix), `{rest}` is the request's path after the resource name,
//! byte for byte (percent-encoding kept), and the query is passed verbatim. So with
//! `upstream = "http://127.0.0.1:3000"`, `/resources/books/v1/books?x=1` goes to
//! `http://127.0.0.1:3000/v1/books?x=1`; with `upstream = "http://127.0.0.1:3000/api"` it goes
//! to `http://127.0.0.1:3000/api/v1/books?x=1`; `/resources/books` goes to the upstream URL
//! itself (`/` when it has no path).

use serde::Serialize;
use utoipa::ToSchema;

use super::verdict::{CheckResult, Verdict};
use crate::model::ProxyMode;

/// The request header carrying Latchkey's verdict to the upstream, and the response header
/// linking to the recorded call.
pub const VERDICT_HEADER: &str = "latchkey-verdict";
/// Longest value of one parameter of the verdict request header, in characters (before escaping).
pub const MAX_HEADER_PARAM: usize = 200;

/// How a proxied call went (on the call in `resource.called`, and on the request-log entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProxyRecord {
    /// `enforce` or `observe`.
    pub mode: ProxyMode,
    /// Where the request went (or would have gone), without the query.
    pub upstream_url: String,
    /// Whether the request was forwarded (an `enforce` refusal is not).
    pub forwarded: bool,
    /// The status the upstream answered (`null`: not forwarded, or no answer).
    pub upstream_status: Option<u16>,
    /// The upstream's `WWW-Authenticate` challenges, joined with `, ` (`null`: none).
    pub upstream_challenge: Option<String>,
    /// Why the upstream gave no answer (unreachable: 502; silent: 504).
    pub error: Option<String>,
    /// One or two sentences relating the upstream's answer to Latchkey's verdict: why the
    /// upstream refused the token (when it answered 401 or 403), or that the two disagree.
    pub explanation: Option<String>,
}

/// The URL a request goes to (see the module doc): `upstream` (an absolute http(s) URL
/// without query), the request's path after the resource name, and its raw query.
pub fn target_url(upstream: &url::Url, rest: &str, query: Option<&str>) -> String {
    let base_path = upstream.path().trim_end_matches('/');
    let mut out = upstream.origin().ascii_serialization();
    out.push_str(base_path);
    out.push_str(rest);
    if base_path.is_empty() && rest.is_empty() {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Whether a request path (after the resource name) has a `.` or `..` segment, plain or
/// percent-encoded: such a path could climb out of the upstream's path prefix, so the proxy
/// refuses it (clients normalise dot segments before sending, RFC 3986 §5.2.4).
pub fn has_dot_segment(rest: &str) -> bool {
    rest.split('/').any(|seg| {
        let s = seg.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    })
}

/// Quotes a parameter value for the verdict header: printable ASCII, `"` and `\` escaped,
/// anything else `?`, at most [`MAX_HEADER_PARAM`] characters (cut with `...`).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_HEADER_PARAM {
            out.push_str("...");
            break;
        }
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

/// The `Latchkey-Verdict` request header sent to the upstream: ASCII, at most about 1 KiB.
///
/// - accepted: `allowed; sub="alice"; client_id="books-app"; scope="read_books"`
///   (parameters the token lacks are left out);
/// - refused (observe mode only; enforce mode answers refusals itself):
///   `refused; status=401; error="invalid_token"; check="aud"`, or `refused; status=401;
///   check="request"` without a token.
pub fn verdict_header(v: &Verdict) -> String {
    let mut out = String::new();
    if v.allowed {
        out.push_str("allowed");
    } else {
        out.push_str(&format!("refused; status={}", v.status));
        if let Some(e) = v.error {
            out.push_str(&format!("; error={}", quoted(e.as_str())));
        }
        if let Some(c) = v.decided_by {
            out.push_str(&format!("; check={}", quoted(c.as_str())));
        }
    }
    if let Some(t) = &v.token {
        for (k, val) in [("sub", &t.sub), ("client_id", &t.client_id), ("scope", &t.scope)] {
            if let Some(val) = val {
                out.push_str(&format!("; {k}={}", quoted(val)));
            }
        }
    }
    out
}

/// Relates what the upstream answered to Latchkey's verdict, in one or two sentences, or
/// `None` when there is nothing to explain (both agree the call is fine).
///
/// The upstream answered 401 or 403: why (the verdict's deciding row and its fix), or that
/// Latchkey finds nothing wrong with the token, so the API expects something the resource's
/// settings do not reproduce. The upstream accepted a call Latchkey refuses: the API is more
/// lenient than the resource's profile.
pub fn explain(v: &Verdict, upstream_status: u16, upstream_challenge: Option<&str>) -> Option<String> {
    let challenge = upstream_challenge
        .map(|c| format!(" (WWW-Authenticate: {c})"))
        .unwrap_or_default();
    let decisive = v.checks.iter().find(|r| r.result == CheckResult::Failed);
    match (upstream_status, decisive) {
        (401 | 403, Some(row)) => {
            let mut s = format!(
                "The upstream answered {upstream_status}{challenge}; Latchkey refuses the call too, at the `{}` check: {}",
                row.check.as_str(),
                row.explanation
            );
            if !s.ends_with('.') {
                s.push('.');
            }
            if let Some(fix) = &row.fix {
                let mut chars = fix.chars();
                if let Some(first) = chars.next() {
                    s.push_str(" Fix: ");
                    s.extend(first.to_uppercase());
                    s.push_str(chars.as_str());
                    if !s.ends_with('.') {
                        s.push('.');
                    }
                }
            }
            Some(s)
        }
        (401 | 403, None) => Some(format!(
            "The upstream answered {upstream_status}{challenge}, but the token passes every check Latchkey makes for this resource (profile `{}`): the API expects something these settings do not reproduce; compare its audience, issuer, algorithms, accepted typ and required scopes with the verdict's expected values, or check that it can fetch the JWKS.",
            v.profile
        )),
        (200..=399, Some(row)) => Some(format!(
            "The upstream accepted the call ({upstream_status}) although Latchkey refuses it at the `{}` check ({}); the API is more lenient than profile `{}`.",
            row.check.as_str(),
            row.explanation,
            v.profile
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::verdict::{BearerError, Check, CheckName, TokenSummary};

    fn verdict(allowed: bool) -> Verdict {
        Verdict {
            allowed,
            status: if allowed { 200 } else { 401 },
            resource: "books".into(),
            method: "GET".into(),
            path: "/v1".into(),
            profile: "latchkey".into(),
            validation: "jwt".into(),
            required_scopes: vec![],
            decided_by: (!allowed).then_some(CheckName::Aud),
            error: (!allowed).then_some(BearerError::InvalidToken),
            error_description: None,
            checks: if allowed {
                vec![]
            } else {
                vec![Check::failed(
                    CheckName::Aud,
                    serde_json::json!("books-api"),
                    serde_json::json!("other"),
                    "aud is `other`",
                    "request a token for books-api",
                )]
            },
            challenge: None,
            token: Some(TokenSummary {
                sub: Some("al\"ice\u{e9}".into()),
                client_id: Some("app".into()),
                scope: None,
                ..TokenSummary::default()
            }),
            dpop_challenge: false,
            dpop_nonce: None,
            dpop_report: None,
        }
    }

    #[test]
    fn target_urls_append_path_and_query() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            target_url(&u("http://127.0.0.1:3000"), "/v1/books", Some("x=1")),
            "http://127.0.0.1:3000/v1/books?x=1"
        );
        assert_eq!(
            target_url(&u("http://127.0.0.1:3000/"), "", None),
            "http://127.0.0.1:3000/"
        );
        assert_eq!(
            target_url(&u("http://127.0.0.1:3000/api/"), "/v1/%20x", Some("")),
            "http://127.0.0.1:3000/api/v1/%20x?"
        );
        assert_eq!(target_url(&u("https://api.test/api"), "", None), "https://api.test/api");
        assert_eq!(target_url(&u("http://[::1]:80/"), "/", None), "http://[::1]/");
    }

    #[test]
    fn dot_segments_are_found() {
        assert!(has_dot_segment("/a/../b"));
        assert!(has_dot_segment("/%2E%2e/admin"));
        assert!(has_dot_segment("/."));
        assert!(!has_dot_segment("/a/.well-known/b..c"));
    }

    #[test]
    fn verdict_header_is_ascii_and_bounded() {
        assert_eq!(
            verdict_header(&verdict(true)),
            "allowed; sub=\"al\\\"ice?\"; client_id=\"app\""
        );
        assert_eq!(
            verdict_header(&verdict(false)),
            "refused; status=401; error=\"invalid_token\"; check=\"aud\"; sub=\"al\\\"ice?\"; client_id=\"app\""
        );
        let mut v = verdict(true);
        v.token.as_mut().unwrap().scope = Some("s ".repeat(5000));
        let h = verdict_header(&v);
        assert!(h.len() < 1024 && h.is_ascii(), "{h}");
    }

    #[test]
    fn explanations_relate_upstream_and_verdict() {
        let e = explain(&verdict(false), 401, Some("Bearer error=\"invalid_token\"")).unwrap();
        assert!(
            e.contains("answered 401")
                && e.contains("`aud`")
                && e.contains("aud is `other`. Fix: Request a token for books-api."),
            "{e}"
        );
        assert!(
            explain(&verdict(true), 403, None)
                .unwrap()
                .contains("passes every check")
        );
        assert!(explain(&verdict(false), 200, None).unwrap().contains("more lenient"));
        assert_eq!(explain(&verdict(true), 200, None), None);
        assert_eq!(explain(&verdict(false), 500, None), None);
    }
}
