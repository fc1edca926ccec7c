//! The one place fault rules apply (docs/faults.md): a middleware that classifies the request
//! ([`classify`]), counts it ([`crate::faults::stats`]), asks [`crate::faults::Faults::decide`]
//! whether a rule fires, and renders the rule's action.
//!
//! With no enabled rule a request costs the classification (a few string comparisons), one
//! atomic add for the call count and one atomic load. The admin API and the UI are never
//! classified, so no rule can touch them. An `error` at the authorization, login or consent
//! endpoint goes to a redirect URI only after the request was validated the usual way (a
//! registered client, a registered redirect URI), or to the one of the parked authorization
//! request: a rule cannot make Latchkey an open redirector.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{bearer_challenge, http_error, no_store};
use super::oauth::AppState;
use crate::events::{Event, FaultFired};
use crate::faults::{self, ActionKind, Endpoint, Facts, FaultMark, FaultRule, JwksFault, Malformed, TokenField};
use crate::oauth::authorize::{AuthRequest, AuthResponse, Outcome};
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::form::Form;
use crate::oauth::paths;
use crate::provider::Provider;

/// Put on a response that must not be sent: the connection task closes the connection
/// instead (the `drop` and `timeout` actions). The response's status (`444`) is what the
/// request log shows.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// The status the request log shows for a request answered by closing the connection
/// (nginx's "no response").
pub const NO_RESPONSE: u16 = 444;

/// The endpoint a request path is for, or `None` (the admin API, the UI, unknown paths:
/// faults never apply there). `issuer_path` is the issuer's path prefix (`""` or
/// `/realms/dev`). RFC 8414's path-inserted metadata URL and RFC 9728's resource metadata
/// count as discovery.
pub fn classify(path: &str, issuer_path: &str) -> Option<Endpoint> {
    if path.starts_with("/.well-known/") && !issuer_path.is_empty() {
        return Some(Endpoint::Discovery);
    }
    let rest = if issuer_path.is_empty() {
        path
    } else {
        path.strip_prefix(issuer_path)?
    };
    Some(match rest {
        paths::TOKEN => Endpoint::Token,
        paths::AUTHORIZE => Endpoint::Authorize,
        paths::LOGIN => Endpoint::Login,
        paths::CONSENT => Endpoint::Consent,
        paths::USERINFO => Endpoint::Userinfo,
        paths::INTROSPECT => Endpoint::Introspect,
        paths::REVOKE => Endpoint::Revoke,
        paths::JWKS => Endpoint::Jwks,
        paths::END_SESSION => Endpoint::EndSession,
        paths::DEVICE_AUTHORIZATION => Endpoint::DeviceAuthorization,
        paths::DEVICE => Endpoint::Device,
        paths::PAR => Endpoint::Par,
        r if r == paths::REGISTER || r.starts_with("/register/") => Endpoint::Register,
        r if r.starts_with("/.well-known/") => Endpoint::Discovery,
        r if r.starts_with("/resources/") => Endpoint::Resources,
        _ => return None,
    })
}

/// Whether the endpoint's parameters come in a form body (when POSTed).
fn has_form_body(e: Endpoint) -> bool {
    matches!(
        e,
        Endpoint::Token
            | Endpoint::Introspect
            | Endpoint::Revoke
            | Endpoint::Login
            | Endpoint::Consent
            | Endpoint::Authorize
            | Endpoint::EndSession
            | Endpoint::DeviceAuthorization
            | Endpoint::Par
    )
}

/// One `application/x-www-form-urlencoded` value, without parsing the whole body (the first
/// occurrence; a value that does not decode counts as absent).
fn form_value<'a>(raw: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    raw.split(|b| *b == b'&').find_map(|pair| {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        if k != name.as_bytes() || v.is_empty() {
            return None;
        }
        if v.iter().all(|b| *b != b'%' && *b != b'+') {
            return std::str::from_utf8(v).ok().map(Cow::Borrowed);
        }
        crate::oauth::form::decode_component(v).ok().map(Cow::Owned)
    })
}

/// What the request says about itself, borrowed from its parts.
struct Raw<'a> {
    headers: &'a HeaderMap,
    query: &'a [u8],
    body: &'a [u8],
}

impl Raw<'_> {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        form_value(self.body, name).or_else(|| form_value(self.query, name))
    }

    fn client_id(&self) -> Option<Cow<'_, str>> {
        if let BasicAuth::Credentials { id, .. } =
            BasicAuth::parse(self.headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes))
        {
            return Some(Cow::Owned(id));
        }
        self.param("client_id")
    }
}

/// The parked authorization request a login or consent request is about (its form or query
/// names it in `req`; the browser's flow cookie must be the one it was started with).
fn parked(p: &Provider, raw: &Raw<'_>) -> Option<crate::oauth::pending::Pending> {
    let id = raw.param("req")?;
    let flow = super::oidc::flow_cookie(raw.headers);
    p.pending.get(&id, flow.as_deref(), p.clock.now()).ok()
}

/// Applies the fault rules (see the module documentation).
pub async fn apply(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let Some(endpoint) = classify(req.uri().path(), &p.issuer.path) else {
        return next.run(req).await;
    };
    // A streamed body (the explaining proxy) is never read here; protocol bodies were
    // buffered by the request log already, so reading them again copies nothing.
    // The body is read when a rule may need it, or for the call counts' client (no Basic
    // credentials) and user (the password grant's `username`); introspection and revocation
    // with Basic credentials and no rule pass through without it.
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().get(..6).is_some_and(|s| s.eq_ignore_ascii_case(b"basic ")));
    let wants_body = has_form_body(endpoint)
        && req.method() == Method::POST
        && (p.faults.watches(endpoint) || !basic || endpoint == Endpoint::Token);
    let (parts, body) = req.into_parts();
    let (bytes, body) = if wants_body {
        match to_bytes(body, super::MAX_BODY).await {
            Ok(b) => (b.clone(), Body::from(b)),
            Err(_) => {
                return http_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    format!("the request body is larger than {} KiB", super::MAX_BODY / 1024),
                );
            }
        }
    } else {
        (Bytes::new(), body)
    };
    let raw = Raw {
        headers: &parts.headers,
        query: parts.uri.query().unwrap_or("").as_bytes(),
        body: &bytes,
    };
    let client = raw.client_id();
    let typed_user = match endpoint {
        Endpoint::Login => raw.param("username").or_else(|| raw.param("persona")),
        Endpoint::Token => raw.param("username"),
        _ => None,
    };
    p.stats.count(endpoint, client.as_deref(), typed_user.as_deref());
    let rebuild = |parts, body: Body| Request::from_parts(parts, body);
    if !p.faults.watches(endpoint) {
        return next.run(rebuild(parts, body)).await;
    }
    // Login and consent: the client, scope and (at consent) user of the parked request.
    let pending = matches!(endpoint, Endpoint::Login | Endpoint::Consent)
        .then(|| parked(&p, &raw))
        .flatten();
    let pending_scope = pending.as_ref().map(|x| x.request.scopes.join(" "));
    let session_user = pending
        .as_ref()
        .and_then(|x| x.authenticated.as_ref())
        .map(|s| s.username.clone());
    // Only what a rule at this endpoint can match on (validation refuses the rest): a long
    // body (introspecting a JWT) is not scanned for fields no rule can ask about.
    let can = endpoint.matches_on();
    let grant_type = can.contains(&"grant_type").then(|| raw.param("grant_type")).flatten();
    let scope = can.contains(&"scope").then(|| raw.param("scope")).flatten();
    let resource_path = (endpoint == Endpoint::Resources)
        .then(|| parts.uri.path().split_once("/resources/").map(|(_, r)| r))
        .flatten();
    let facts = Facts {
        client_id: pending
            .as_ref()
            .map(|x| x.request.client_id.as_str())
            .or(client.as_deref()),
        username: typed_user.as_deref().or(session_user.as_deref()),
        grant_type: grant_type.as_deref(),
        scope: pending_scope.as_deref().or(scope.as_deref()),
        resource_path,
    };
    let Some(fired) = p.faults.decide(endpoint, &facts, p.clock.now_ms()) else {
        return next.run(rebuild(parts, body)).await;
    };
    let rule = fired.rule.rule.clone();
    let (method, path) = (parts.method.to_string(), parts.uri.path().to_string());
    let pending_request = pending.map(|x| (x.id, x.request));
    let form = if endpoint == Endpoint::Authorize && rule.action == ActionKind::Error {
        let src: &[u8] = if wants_body { &bytes } else { raw.query };
        Form::parse(src).ok()
    } else {
        None
    };
    let flow = super::oidc::flow_cookie(&parts.headers);
    let run = |parts, body| next.run(rebuild(parts, body));
    let (mut resp, change) = match rule.action {
        ActionKind::Error => {
            let target = match (endpoint, form, pending_request) {
                (Endpoint::Authorize, Some(f), _) => crate::oauth::authorize::parse::parse(&p, &f).ok().map(|(_, r)| r),
                (Endpoint::Login | Endpoint::Consent, _, Some((id, _))) => {
                    // The flow ends here: the parked request is used up like a real denial.
                    p.pending
                        .take(&id, flow.as_deref(), p.clock.now())
                        .ok()
                        .map(|x| x.request)
                }
                _ => None,
            };
            error_response(&p, endpoint, &rule, target)
        }
        ActionKind::Status => status_response(&rule),
        ActionKind::Delay => {
            let ms = rule.delay_ms.unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (run(parts, body).await, format!("answered {ms} ms late"))
        }
        ActionKind::Timeout => {
            let ms = rule.timeout_ms.unwrap_or(faults::DEFAULT_TIMEOUT_MS);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (
                dropped(),
                format!("no answer for {ms} ms, then the connection was closed"),
            )
        }
        ActionKind::Drop => (dropped(), "connection closed without an answer".into()),
        ActionKind::Malformed => {
            let resp = run(parts, body).await;
            malformed(resp, rule.malformed.unwrap_or(Malformed::Html)).await
        }
        ActionKind::Tamper => {
            let resp = run(parts, body).await;
            tamper(&p, resp, &rule).await
        }
        ActionKind::Jwks => jwks_response(&p, &rule),
    };
    let count = fired.rule.view().fired;
    tracing::info!(target: "latchkey::faults", rule = %rule.name, "{method} {path}: {change}");
    p.events.publish(
        p.clock.now_ms(),
        Event::FaultFired(Box::new(FaultFired {
            rule: rule.name.clone(),
            endpoint: endpoint.as_str().to_string(),
            method,
            path,
            change: change.clone(),
            fired: count,
        })),
    );
    resp.extensions_mut().insert(Arc::new(FaultMark {
        rule: rule.name.clone(),
        change,
    }));
    resp
}

fn dropped() -> Response {
    let mut r = StatusCode::from_u16(NO_RESPONSE)
        .unwrap_or(StatusCode::BAD_GATEWAY)
        .into_response();
    r.extensions_mut().insert(DropConnection);
    r
}

fn describe(rule: &FaultRule) -> String {
    rule.error_description
        .clone()
        .unwrap_or_else(|| format!("fault rule `{}` made this request fail", ascii(&rule.name)))
}

/// `s` with everything outside printable ASCII (and `"`, `\`) replaced by `?` (RFC 6749 §5.2).
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// `error`: the OAuth error, at the redirect URI for the authorization steps (`target` is the
/// validated request), else as JSON (RFC 6749 §5.2) with the challenge RFC 6750 §3 or
/// RFC 6749 §5.2 (`invalid_client`) asks for.
fn error_response(
    p: &Provider,
    endpoint: Endpoint,
    rule: &FaultRule,
    target: Option<AuthRequest>,
) -> (Response, String) {
    let code = rule.error.as_deref().unwrap_or("server_error");
    let desc = describe(rule);
    if endpoint.redirects_errors() {
        return match target {
            Some(r) => {
                let mut params = vec![
                    ("error".to_string(), code.to_string()),
                    ("error_description".to_string(), desc),
                ];
                if let Some(s) = &r.state {
                    params.push(("state".into(), s.clone()));
                }
                params.push(("iss".into(), p.issuer.id.clone()));
                let how = match r.mode {
                    crate::oauth::request::ResponseMode::Query => "query",
                    crate::oauth::request::ResponseMode::Fragment => "fragment",
                    crate::oauth::request::ResponseMode::FormPost => "form_post",
                };
                let change = format!("error {code} sent to {} ({how})", r.redirect_uri);
                let out = Outcome::Respond(AuthResponse {
                    redirect_uri: r.redirect_uri,
                    mode: r.mode,
                    params,
                });
                (super::oidc::render(p, out), change)
            }
            None => (
                super::pages::error(
                    "Request refused",
                    &format!("{code}: {desc}. (No valid authorization request to return the error to.)"),
                ),
                format!("error {code} shown as a page (no validated redirect URI)"),
            ),
        };
    }
    let default = match code {
        "invalid_client" | "invalid_token" => 401,
        "insufficient_scope" => 403,
        "server_error" => 500,
        "temporarily_unavailable" => 503,
        _ => 400,
    };
    let status = StatusCode::from_u16(rule.status.unwrap_or(default)).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = no_store(http_error(status, code, desc.clone()));
    let bearer = matches!(endpoint, Endpoint::Userinfo | Endpoint::Resources);
    if bearer && matches!(status.as_u16(), 401 | 403) {
        let challenge = bearer_challenge("latchkey", Some(code), Some(&desc), None, None);
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    } else if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"latchkey\""),
        );
    }
    if matches!(status.as_u16(), 429 | 503) {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(faults::DEFAULT_RETRY_AFTER));
    }
    (resp, format!("error {code} ({})", status.as_u16()))
}

/// `status`: the status with the rule's body (JSON when it parses as JSON) and `Retry-After`
/// for 429 and 503.
fn status_response(rule: &FaultRule) -> (Response, String) {
    let code = rule.status.unwrap_or(500);
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = rule
        .body
        .clone()
        .unwrap_or_else(|| format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or("")));
    let json = serde_json::from_str::<serde_json::Value>(&body).is_ok();
    let ct = if json {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut resp = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response();
    let mut change = format!("status {code}");
    if matches!(code, 429 | 503) {
        let secs = rule.retry_after.unwrap_or(faults::DEFAULT_RETRY_AFTER);
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        change.push_str(&format!(", Retry-After {secs}"));
    } else if let Some(secs) = rule.retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    (no_store(resp), change)
}

/// The HTML page a `malformed = "html"` rule answers with (what a captive portal or a proxy
/// error page looks like to a client expecting JSON).
const PORTAL_HTML: &str = "<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p><hr><p>nginx</p></body></html>\n";

async fn malformed(resp: Response, how: Malformed) -> (Response, String) {
    let (mut parts, body) = resp.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let change = match how {
        Malformed::TruncatedJson => {
            let cut = bytes.len() / 2;
            let cut_body = bytes.slice(..cut);
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let r = Response::from_parts(parts, Body::from(cut_body));
            return (r, format!("body cut to {cut} of {} bytes", bytes.len()));
        }
        Malformed::Html => {
            parts.status = StatusCode::OK;
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            parts.headers.remove(header::LOCATION);
            return (
                Response::from_parts(parts, Body::from(PORTAL_HTML)),
                "an HTML page (status 200) instead of the answer".into(),
            );
        }
        Malformed::WrongContentType => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            "Content-Type: text/plain".to_string()
        }
    };
    (Response::from_parts(parts, Body::from(bytes)), change)
}

/// `tamper`: the token response's `access_token` or `id_token` changed
/// ([`crate::faults::tamper`]). The tampered token is not recorded, so it introspects inactive.
async fn tamper(p: &Provider, resp: Response, rule: &FaultRule) -> (Response, String) {
    let field = rule.token.unwrap_or_default();
    let Some(how) = rule.tamper else {
        return (resp, "nothing changed".into());
    };
    if !resp.status().is_success() {
        let s = resp.status().as_u16();
        return (resp, format!("nothing to tamper with: the answer was {s}"));
    }
    let (parts, body) = resp.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut doc: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(_) => {
            return (
                Response::from_parts(parts, Body::from(bytes)),
                "nothing to tamper with".into(),
            );
        }
    };
    let key = field.as_str();
    let original = doc.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let sign = |h: &serde_json::Value, b: &[u8]| p.keys.sign_raw(h, b).ok();
    let change = match original
        .as_deref()
        .and_then(|t| faults::tamper::tamper(&sign, t, how, rule.claim.as_deref(), p.clock.now()))
    {
        Some((token, what)) => {
            doc.insert(key.to_string(), serde_json::Value::String(token));
            format!("{key} tampered ({}): {what}", how.as_str())
        }
        None if original.is_some() => format!("{key} is not a JWT (opaque): nothing changed"),
        None => format!("no {key} in the answer: nothing changed"),
    };
    let out = serde_json::to_vec(&doc).map(Bytes::from).unwrap_or(bytes);
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    if field == TokenField::AccessToken || field == TokenField::IdToken {
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    (Response::from_parts(parts, Body::from(out)), change)
}

/// `jwks`: another JWK Set (or a 503).
fn jwks_response(p: &Provider, rule: &FaultRule) -> (Response, String) {
    let how = rule.jwks.unwrap_or(JwksFault::Empty);
    if how == JwksFault::Unavailable {
        let secs = rule.retry_after.unwrap_or(faults::DEFAULT_RETRY_AFTER);
        let mut r = http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the JWKS is unavailable (fault rule)".into(),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return (r, format!("503, Retry-After {secs}"));
    }
    let doc: serde_json::Value = serde_json::from_slice(&p.keys.jwks_json()).unwrap_or_default();
    let keys = doc.get("keys").and_then(|k| k.as_array()).cloned().unwrap_or_default();
    let (active, _) = p.keys.active();
    let kid_of = |k: &serde_json::Value| k.get("kid").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let (kept, change): (Vec<serde_json::Value>, String) = match how {
        JwksFault::Empty => (Vec::new(), "an empty key set".into()),
        JwksFault::KeyMissing => {
            let gone = rule.kid.clone().unwrap_or(active);
            (
                keys.into_iter().filter(|k| kid_of(k) != gone).collect(),
                format!("key `{gone}` left out"),
            )
        }
        JwksFault::PreviousOnly | JwksFault::Unavailable => {
            let kept: Vec<_> = keys.into_iter().filter(|k| kid_of(k) != active).collect();
            let n = kept.len();
            (
                kept,
                format!("only the {n} previous key(s), not the current `{active}`"),
            )
        }
    };
    let body = serde_json::json!({ "keys": kept }).to_string();
    let resp = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response();
    (resp, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_knows_every_endpoint_and_never_the_admin_api() {
        assert_eq!(classify("/token", ""), Some(Endpoint::Token));
        assert_eq!(classify("/realms/dev/token", "/realms/dev"), Some(Endpoint::Token));
        assert_eq!(classify("/token", "/realms/dev"), None);
        assert_eq!(
            classify("/.well-known/openid-configuration", ""),
            Some(Endpoint::Discovery)
        );
        assert_eq!(
            classify("/.well-known/oauth-authorization-server/realms/dev", "/realms/dev"),
            Some(Endpoint::Discovery)
        );
        assert_eq!(classify("/resources/orders/1", ""), Some(Endpoint::Resources));
        assert_eq!(
            classify("/device_authorization", ""),
            Some(Endpoint::DeviceAuthorization)
        );
        assert_eq!(classify("/device", ""), Some(Endpoint::Device));
        assert_eq!(classify("/par", ""), Some(Endpoint::Par));
        for p in [
            "/admin",
            "/admin/",
            "/admin/api/faults",
            "/admin/api/reset",
            "/admin/clients",
            "/",
            "/favicon.ico",
        ] {
            assert_eq!(classify(p, ""), None, "{p}");
            assert_eq!(classify(&format!("/realms/dev{p}"), "/realms/dev"), None, "{p}");
        }
        for p in paths::ALL {
            assert!(classify(p, "").is_some(), "{p} is not classified");
        }
    }

    #[test]
    fn form_values_decode_only_when_needed() {
        let raw = b"grant_type=client_credentials&client_id=a%20b&scope=x+y&empty=";
        assert_eq!(form_value(raw, "grant_type").as_deref(), Some("client_credentials"));
        assert_eq!(form_value(raw, "client_id").as_deref(), Some("a b"));
        assert_eq!(form_value(raw, "scope").as_deref(), Some("x y"));
        assert_eq!(form_value(raw, "empty"), None);
        assert_eq!(form_value(raw, "client"), None);
    }
}
