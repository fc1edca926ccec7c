//! The request log (design §5): every protocol request with its parameters (secrets and tokens
//! redacted), the JSON response body (tokens and secrets redacted) with a summary, and a `curl`
//! command that reproduces it with shell variables (`${CLIENT_SECRET:?...}`, `${TOKEN:?...}`)
//! where the secrets were: a variable that is unset or empty stops the shell with a message
//! instead of sending an empty secret.
//!
//! The log is an in-memory ring of the last [`CAPACITY`] requests; each entry is also published
//! as a `request.logged` event. The HTTP layer captures the raw request and response and hands
//! them to [`RequestLog::record`]; everything that decides what is shown lives here.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

pub use super::log_entry::{LoggedRequest, Param, PushLink, ResponseSummary};
use super::{AdminError, Page, page_limit};
use crate::events::{Event, EventBus};
use crate::oauth::client_auth::BasicAuth;
use crate::oauth::form::{Form, decode_component};
use crate::resources::Verdict;

/// How many requests are kept.
pub const CAPACITY: usize = 1000;
/// How many bytes of captured requests and responses are kept at most (approximate): beyond
/// it the oldest entries go, even below [`CAPACITY`], so a burst of large requests cannot hold
/// hundreds of megabytes.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// A captured request header value is cut to this many bytes.
pub const MAX_HEADER_VALUE: usize = 4 * 1024;
/// Larger bodies are not captured (the protocol endpoints refuse them anyway).
pub const MAX_CAPTURE: usize = 64 * 1024;
/// The request headers the log shows (`authorization` and `cookie` redacted).
pub const SHOWN_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "content-type",
    "accept",
    "origin",
    "user-agent",
    "dpop",
];

/// Captured only to recognise the admin UI's own requests ([`from_admin_ui`]) and Latchkey's
/// readiness probe ([`is_readiness_probe`]); never shown.
const UI_MARKER_HEADERS: &[&str] = &[
    "referer",
    "sec-fetch-site",
    "sec-fetch-mode",
    "host",
    READINESS_PROBE_HEADER,
];

/// Whether a request header is captured: shown in the log, or read by [`from_admin_ui`].
pub fn captures_header(name: &str) -> bool {
    SHOWN_HEADERS.contains(&name) || UI_MARKER_HEADERS.contains(&name)
}

/// Whether a request is the admin UI's own (it fetches the discovery document, for instance):
/// those are not logged, the log is for the developer's apps. The rule: a `fetch`/XHR (not a
/// page navigation: following a link from the UI to `/authorize` is logged) whose `Referer` is
/// a page under `/admin/` of this server. Same origin is proven by `Sec-Fetch-Site:
/// same-origin` when the browser sends it, else by the `Referer` origin being the issuer's or
/// its host being the request's `Host`.
pub fn from_admin_ui(c: &Captured) -> bool {
    let Some(referer) = c.header("referer").and_then(|r| url::Url::parse(r).ok()) else {
        return false;
    };
    if c.header("sec-fetch-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("navigate"))
    {
        return false;
    }
    let same_origin = match c.header("sec-fetch-site") {
        Some(site) => site.eq_ignore_ascii_case("same-origin"),
        None => {
            let authority = match (referer.host_str(), referer.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => String::new(),
            };
            referer.origin().ascii_serialization() == c.origin
                || c.header("host").is_some_and(|h| h.eq_ignore_ascii_case(&authority))
        }
    };
    same_origin && is_admin_page(referer.path())
}

/// The header Latchkey's own readiness probe (`--ready-file`, `latchkey exec`) sends, so its
/// discovery request does not appear in the request log as if an app had made it.
pub const READINESS_PROBE_HEADER: &str = "latchkey-readiness-probe";

/// Whether `c` is Latchkey's own readiness probe ([`READINESS_PROBE_HEADER`]).
pub fn is_readiness_probe(c: &Captured) -> bool {
    c.header(READINESS_PROBE_HEADER).is_some()
}

/// `/admin` or anything under `/admin/`, at the root or under an issuer path.
fn is_admin_page(path: &str) -> bool {
    path.ends_with("/admin") || path.contains("/admin/")
}
/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Parameters whose values are secrets or tokens: never logged, placeholders in `curl`.
pub const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "password",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "device_code",
    "registration_access_token",
    "logout_token",
];

/// Whether a parameter's value must be redacted.
pub fn is_secret(name: &str) -> bool {
    SECRET_PARAMS.contains(&name)
}

/// The shell variable that stands for a secret parameter in `curl`.
pub fn variable(name: &str) -> String {
    match name {
        "token" | "access_token" => "TOKEN".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

/// The shell placeholder that stands for a secret parameter in `curl`:
/// `${CLIENT_SECRET:?set CLIENT_SECRET first}`, which stops the shell (POSIX `${var:?word}`)
/// when the variable is unset or empty, so an empty secret is never sent silently.
pub fn placeholder(name: &str) -> String {
    required_var(&variable(name))
}

/// `${NAME:?set NAME first}`.
pub fn required_var(name: &str) -> String {
    format!("${{{name}:?set {name} first}}")
}

/// A request and its response as the HTTP layer saw them.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// When it arrived, UNIX milliseconds (server clock).
    pub at_ms: i64,
    /// `scheme://host[:port]` the request was addressed to (for `curl`).
    pub origin: String,
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    /// Request headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The request body, when captured.
    pub body: Option<Bytes>,
    /// The response status.
    pub status: u16,
    /// The response's content type.
    pub response_content_type: Option<String>,
    /// The response's `Location`.
    pub location: Option<String>,
    /// The response body, when it was JSON and captured (parsed only when the entry is shown).
    pub response_json: Option<Bytes>,
    /// How long it took.
    pub duration_ms: f64,
    /// The resource verdict the response carried (a shared pointer: logging stays cheap).
    pub verdict: Option<Arc<Verdict>>,
    /// What the explaining proxy did, when the response came through it.
    pub proxy: Option<Arc<crate::resources::proxy::ProxyRecord>>,
    /// The client assertion or JWT bearer assertion the request carried, as judged.
    pub assertion: Option<Arc<crate::oauth::assertion::AssertionReport>>,
    /// The DPoP proof the request carried, decoded, with every check (RFC 9449).
    pub dpop: Option<Arc<crate::oauth::dpop::ProofReport>>,
    /// The fault rule that changed the response, if one did.
    pub fault: Option<Arc<crate::faults::FaultMark>>,
    /// Set for a request Latchkey sent itself (a back-channel logout).
    pub outbound: Option<Arc<super::log_entry::OutboundMark>>,
    /// A push (RFC 9126) or an authorization request naming its `request_uri`.
    pub push: Option<Arc<crate::oauth::authorize::pushed::PushMark>>,
}

impl Captured {
    /// Approximate bytes this capture holds.
    pub fn approx_size(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let bytes = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        std::mem::size_of::<Captured>()
            + self.origin.len()
            + self.method.len()
            + self.path.len()
            + opt(&self.query)
            + self.headers.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
            + bytes(&self.body)
            + opt(&self.response_content_type)
            + opt(&self.location)
            + bytes(&self.response_json)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

struct Ring {
    next_id: i64,
    /// Sum of the entries' [`Captured::approx_size`].
    bytes: usize,
    /// Raw captures: redaction and rendering happen when an entry is read or watched, so
    /// logging costs the request path almost nothing.
    entries: VecDeque<(i64, Arc<Captured>)>,
    /// Pushed authorization requests (RFC 9126) in the log: `request_uri` → the push's id.
    pushes: HashMap<String, i64>,
    /// An authorization request's id → the id of the push whose `request_uri` it named.
    pushed_by: HashMap<i64, i64>,
}

impl Ring {
    /// Forgets the links of an entry leaving the log.
    fn unlink(&mut self, id: i64, c: &Captured) {
        self.pushed_by.remove(&id);
        if let Some(m) = c.push.as_ref().filter(|m| m.pushed)
            && self.pushes.get(&m.request_uri) == Some(&id)
        {
            self.pushes.remove(&m.request_uri);
        }
    }

    /// The push link of entry `id` (see [`PushLink`]).
    fn link(&self, id: i64, c: &Captured) -> Option<PushLink> {
        let m = c.push.as_ref()?;
        Some(PushLink {
            request_uri: m.request_uri.clone(),
            push_id: if m.pushed {
                None
            } else {
                self.pushed_by.get(&id).copied()
            },
            authorize_ids: if m.pushed {
                let mut ids: Vec<i64> = self
                    .pushed_by
                    .iter()
                    .filter(|(_, push)| **push == id)
                    .map(|(a, _)| *a)
                    .collect();
                ids.sort_unstable();
                ids
            } else {
                Vec::new()
            },
        })
    }
}

/// The bounded, in-memory request log.
pub struct RequestLog {
    ring: Mutex<Ring>,
    capacity: usize,
    events: EventBus,
}

impl RequestLog {
    /// An empty log keeping `capacity` entries, publishing on `events`.
    pub fn new(capacity: usize, events: EventBus) -> RequestLog {
        RequestLog {
            ring: Mutex::new(Ring {
                next_id: 1,
                bytes: 0,
                entries: VecDeque::with_capacity(capacity.min(CAPACITY)),
                pushes: HashMap::new(),
                pushed_by: HashMap::new(),
            }),
            capacity: capacity.max(1),
            events,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        match self.ring.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Forgets every entry and numbers the next one 1 again (a reset). Returns how many
    /// entries it forgot.
    pub fn clear(&self) -> u64 {
        let mut ring = self.lock();
        let n = u64::try_from(ring.entries.len()).unwrap_or(u64::MAX);
        ring.entries.clear();
        ring.pushes.clear();
        ring.pushed_by.clear();
        ring.bytes = 0;
        ring.next_id = 1;
        n
    }

    /// Stores a captured request and, when someone watches the event stream, publishes it
    /// (redacted and rendered) as `request.logged`. Returns its id; the admin UI's own requests
    /// ([`from_admin_ui`]) are not stored (`None`).
    pub fn record(&self, c: Captured) -> Option<i64> {
        if from_admin_ui(&c) || is_readiness_probe(&c) {
            return None;
        }
        let at = c.at_ms;
        let size = c.approx_size();
        let c = Arc::new(c);
        let (id, link) = {
            let mut ring = self.lock();
            let id = ring.next_id;
            ring.next_id += 1;
            while ring.entries.len() >= self.capacity || (!ring.entries.is_empty() && ring.bytes + size > MAX_BYTES) {
                let Some((old_id, old)) = ring.entries.pop_front() else {
                    break;
                };
                ring.bytes = ring.bytes.saturating_sub(old.approx_size());
                ring.unlink(old_id, &old);
            }
            ring.bytes += size;
            if let Some(m) = &c.push {
                if m.pushed {
                    ring.pushes.insert(m.request_uri.clone(), id);
                } else if let Some(push) = ring.pushes.get(&m.request_uri).copied() {
                    ring.pushed_by.insert(id, push);
                }
            }
            ring.entries.push_back((id, c.clone()));
            (id, ring.link(id, &c))
        };
        self.events
            .publish_if_watched(at, || Event::RequestLogged(Box::new(build(id, &c, link))));
        Some(id)
    }

    /// Newest first, `limit` at most, older than `cursor` (an id) when given.
    pub fn list(&self, limit: Option<usize>, cursor: Option<i64>) -> Result<Page<LoggedRequest>, AdminError> {
        let limit = page_limit(limit)?;
        let picked: Vec<(i64, Arc<Captured>, Option<PushLink>)> = {
            let ring = self.lock();
            ring.entries
                .iter()
                .rev()
                .filter(|(id, _)| cursor.is_none_or(|c| *id < c))
                .take(limit + 1)
                .map(|(id, c)| (*id, c.clone(), ring.link(*id, c)))
                .collect()
        };
        let mut items: Vec<LoggedRequest> = picked.into_iter().map(|(id, c, link)| build(id, &c, link)).collect();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| e.id)
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// One entry.
    pub fn get(&self, id: i64) -> Result<LoggedRequest, AdminError> {
        let found = {
            let ring = self.lock();
            ring.entries
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, c)| (c.clone(), ring.link(id, c)))
        };
        found
            .map(|(c, link)| build(id, &c, link))
            .ok_or_else(|| AdminError::not_found(format!("request {id} (only the last {} are kept)", self.capacity)))
    }
}

fn pairs(raw: &[u8], source: &'static str) -> Option<Vec<(String, String, &'static str)>> {
    let form = Form::parse(raw).ok()?;
    Some(
        form.pairs()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), source))
            .collect(),
    )
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

fn build(id: i64, c: &Captured, link: Option<PushLink>) -> LoggedRequest {
    let mut e = build_entry(id, c);
    e.curl_variables = curl_variables(&e.curl);
    e.pushed = link;
    e
}

/// The variables a `curl` command needs (`${NAME:?...}`), in order of first use.
fn curl_variables(curl: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = curl;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let name: String = rest
            .chars()
            .take_while(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || *ch == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with(":?") && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The JSON response body with every secret member (tokens, codes, secrets; [`is_secret`])
/// replaced by `[redacted]`, at any depth. `None` when the response was not JSON or was not
/// captured (larger than [`MAX_CAPTURE`], or streamed).
fn response_body(c: &Captured) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(c.response_json.as_ref()?).ok()?;
    redact_json(&mut v);
    Some(v)
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if is_secret(k) && !val.is_null() {
                    *val = Value::String(REDACTED.to_string());
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn build_entry(id: i64, c: &Captured) -> LoggedRequest {
    let mut raw_params: Vec<(String, String, &'static str)> = Vec::new();
    let mut body_note = None;
    if let Some(q) = c.query.as_deref().filter(|q| !q.is_empty()) {
        match pairs(q.as_bytes(), "query") {
            Some(p) => raw_params.extend(p),
            None => body_note = Some("the query string is malformed".to_string()),
        }
    }
    let content_type = c.header("content-type");
    let mut form_body = false;
    // A JSON body (dynamic client registration, RFC 7591): its members as parameters, the
    // whole (secrets replaced) for the curl command.
    let mut json_body: Option<Value> = None;
    if let Some(body) = c.body.as_ref().filter(|b| !b.is_empty()) {
        if let Some(Value::Object(m)) = is_json_type(content_type)
            .then(|| serde_json::from_slice::<Value>(body).ok())
            .flatten()
        {
            for (k, v) in &m {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                raw_params.push((k.clone(), text, "body"));
            }
            json_body = Some(Value::Object(m));
        } else if is_form(content_type) {
            match pairs(body, "body") {
                Some(p) => {
                    raw_params.extend(p);
                    form_body = true;
                }
                None => body_note = Some(format!("a malformed form body of {} bytes", body.len())),
            }
        } else {
            body_note = Some(format!(
                "a body of {} bytes ({}), not shown",
                body.len(),
                content_type.unwrap_or("no content type")
            ));
        }
    }
    let basic = BasicAuth::parse(c.header("authorization").map(str::as_bytes));
    let client_id = match &basic {
        BasicAuth::Credentials { id, .. } => Some(id.clone()),
        _ => raw_params
            .iter()
            .find(|(k, _, _)| k == "client_id")
            .map(|(_, v, _)| v.clone())
            // A client assertion names its client in `sub` (RFC 7523 §3, OIDC Core §9).
            .or_else(|| {
                c.assertion
                    .as_ref()
                    .filter(|a| a.parameter == "client_assertion")
                    .and_then(|a| a.sub.clone())
            }),
    };
    let client_id = client_id.or_else(|| c.outbound.as_ref().map(|o| o.client_id.clone()));
    let params = raw_params
        .iter()
        .map(|(k, v, s)| Param {
            name: k.clone(),
            value: if is_secret(k) { REDACTED.to_string() } else { v.clone() },
            source: Some(s),
        })
        .collect();
    let headers = c
        .headers
        .iter()
        .filter(|(k, _)| SHOWN_HEADERS.contains(&k.as_str()))
        .map(|(k, v)| Param {
            name: k.clone(),
            value: redact_header(k, v),
            source: None,
        })
        .collect();
    LoggedRequest {
        id,
        at: c.at_ms,
        method: c.method.clone(),
        path: c.path.clone(),
        status: c.status,
        duration_ms: (c.duration_ms * 10.0).round() / 10.0,
        client_id,
        params,
        headers,
        body_note,
        response: summarize(c),
        response_body: response_body(c),
        curl_variables: Vec::new(),
        curl: match &json_body {
            Some(j) => curl_json(c, j, &basic),
            None => curl(c, &raw_params, form_body, &basic),
        },
        verdict: c.verdict.clone(),
        assertion: c.assertion.clone(),
        dpop: c.dpop.clone(),
        proxy: c.proxy.clone(),
        fault: c.fault.clone(),
        outbound: c.outbound.clone(),
        pushed: None,
    }
}

/// A header value as logged: credentials never appear (the scheme does).
pub fn redact_header(name: &str, value: &str) -> String {
    match name {
        "authorization" | "dpop" => match value.trim().split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_string(),
        },
        "cookie" => REDACTED.to_string(),
        _ => value.to_string(),
    }
}

/// A URL (absolute or relative) with secret query and fragment parameters redacted: the
/// `Location` of an authorization response carries codes and tokens.
pub fn redact_url(url: &str) -> String {
    let (before_frag, frag) = match url.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_frag.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_frag, None),
    };
    let mut out = base.to_string();
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_pairs(q));
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(&redact_pairs(f));
    }
    out
}

fn redact_pairs(s: &str) -> String {
    s.split('&')
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            let name = decode_component(key.as_bytes()).unwrap_or_default();
            if is_secret(&name) {
                format!("{key}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn summarize(c: &Captured) -> ResponseSummary {
    let mut s = ResponseSummary {
        status: c.status,
        content_type: c.response_content_type.clone(),
        location: c.location.as_deref().map(redact_url),
        ..ResponseSummary::default()
    };
    let json: Option<Value> = c.response_json.as_ref().and_then(|b| serde_json::from_slice(b).ok());
    if let Some(Value::Object(m)) = &json {
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        s.error = text("error");
        s.error_description = text("error_description");
        s.token_type = text("token_type");
        s.scope = text("scope");
        s.expires_in = m.get("expires_in").and_then(Value::as_u64);
        s.active = m.get("active").and_then(Value::as_bool);
        s.issued = ["access_token", "refresh_token", "id_token"]
            .iter()
            .filter(|k| m.contains_key(**k))
            .map(|k| k.to_string())
            .collect();
    }
    s
}

/// Escapes `s` for a double-quoted shell word.
pub fn shell_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        if matches!(ch, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Renders a `curl` command for a request; secret values become shell placeholders.
fn curl(c: &Captured, params: &[(String, String, &'static str)], form_body: bool, basic: &BasicAuth) -> String {
    // `-s`: no progress meter in the way of the JSON answer.
    let mut parts: Vec<String> = vec!["curl -s".to_string()];
    let query_params: Vec<_> = params.iter().filter(|(_, _, s)| *s == "query").collect();
    let body_params: Vec<_> = params.iter().filter(|(_, _, s)| *s == "body").collect();
    let get_like = c.method == "GET" || c.method == "HEAD";
    // GET parameters go through `-G`, so curl encodes them exactly like a form.
    let url = if get_like || query_params.is_empty() {
        format!("{}{}", c.origin, c.path)
    } else {
        let q: Vec<String> = query_params
            .iter()
            .map(|(k, v, _)| {
                if is_secret(k) {
                    format!("{k}={}", placeholder(k))
                } else {
                    format!("{}={}", encode(k), encode(v))
                }
            })
            .collect();
        format!("{}{}?{}", c.origin, c.path, q.join("&"))
    };
    if get_like && !query_params.is_empty() {
        parts.push("-G".into());
    } else if c.method != "GET" && !(c.method == "POST" && form_body) {
        parts.push(format!("-X {}", c.method));
    }
    parts.push(format!("\"{}\"", shell_dq(&url)));
    match basic {
        BasicAuth::Credentials { id, secret } => {
            // RFC 6749 §2.3.1: the id and secret are form-urlencoded before curl joins them
            // with `:` and base64-encodes them; curl sends `-u` as is, so encode here. The
            // secret stays a placeholder: when the real one changes under form-encoding, the
            // placeholder says the encoded form is wanted.
            let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let secret_var = if form(secret) == *secret {
                required_var("CLIENT_SECRET")
            } else {
                required_var("CLIENT_SECRET_FORM_URLENCODED")
            };
            parts.push(format!("-u \"{}:{secret_var}\"", shell_dq(&form(id))));
        }
        _ => {
            if let Some(auth) = c.header("authorization") {
                let scheme = auth.trim().split(' ').next().unwrap_or("");
                if scheme.eq_ignore_ascii_case("bearer") {
                    parts.push(format!("-H \"Authorization: Bearer {}\"", required_var("TOKEN")));
                } else if scheme.eq_ignore_ascii_case("dpop") {
                    parts.push(format!("-H \"Authorization: DPoP {}\"", required_var("TOKEN")));
                } else {
                    parts.push(format!("-H \"Authorization: {}\"", required_var("AUTHORIZATION")));
                }
            }
        }
    }
    if c.header("cookie").is_some() {
        parts.push(format!("-H \"Cookie: {}\"", required_var("COOKIE")));
    }
    // A DPoP proof is single-use and names this request (RFC 9449 §4.2, §11.1): a fresh one
    // is needed, never the logged one.
    if c.header("dpop").is_some() {
        parts.push(format!("-H \"DPoP: {}\"", required_var("DPOP_PROOF")));
    }
    let data: Vec<&(String, String, &'static str)> = if get_like { query_params } else { body_params };
    for (k, v, _) in data {
        let value = if is_secret(k) { placeholder(k) } else { shell_dq(v) };
        parts.push(format!("--data-urlencode \"{}={value}\"", shell_dq(k)));
    }
    parts.join(" \\\n  ")
}

fn is_json_type(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// The curl command of a JSON request (RFC 7591 registration, RFC 7592 update): the body with
/// each secret member replaced by its shell variable.
fn curl_json(c: &Captured, body: &Value, basic: &BasicAuth) -> String {
    const MARK: &str = "@@latchkey-secret-";
    let mut body = body.clone();
    let mut secrets = Vec::new();
    if let Value::Object(m) = &mut body {
        for (k, v) in m.iter_mut() {
            if is_secret(k) && !v.is_null() {
                secrets.push(placeholder(k));
                *v = Value::String(format!("{MARK}{}", secrets.len() - 1));
            }
        }
    }
    let mut data = shell_dq(&body.to_string());
    for (i, p) in secrets.iter().enumerate() {
        data = data.replace(&format!("{MARK}{i}"), p);
    }
    let mut parts = vec!["curl -s".to_string()];
    if c.method != "POST" {
        parts.push(format!("-X {}", c.method));
    }
    parts.push(format!("\"{}{}\"", shell_dq(&c.origin), shell_dq(&c.path)));
    if let BasicAuth::Absent = basic
        && let Some(auth) = c.header("authorization")
        && auth
            .trim()
            .split(' ')
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    {
        parts.push(format!("-H \"Authorization: Bearer {}\"", required_var("TOKEN")));
    }
    parts.push("-H \"Content-Type: application/json\"".into());
    parts.push(format!("--data-raw \"{data}\""));
    parts.join(" \\\n  ")
}

/// Percent-encodes a query component.
fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic_request(id: &str, secret: &str) -> Captured {
        use base64::Engine;
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)));
        let mut c = token_request();
        c.headers = vec![
            ("authorization".into(), format!("Basic {basic}")),
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
        ];
        c.body = Some(Bytes::from_static(b"grant_type=client_credentials"));
        c
    }

    #[test]
    fn the_log_is_bounded_by_bytes_as_well_as_by_count() {
        let log = RequestLog::new(CAPACITY, EventBus::new());
        let big = |i: usize| Captured {
            path: "/authorize".into(),
            query: Some(format!("state={}", "x".repeat(60_000 + i))),
            ..Captured::default()
        };
        let per = big(0).approx_size();
        let n = MAX_BYTES / per + 50;
        for i in 0..n {
            log.record(big(i));
        }
        let ring = log.lock();
        assert!(ring.bytes <= MAX_BYTES, "{} > {MAX_BYTES}", ring.bytes);
        assert!(ring.entries.len() < n && ring.entries.len() >= MAX_BYTES / (per + n) - 1);
        assert_eq!(
            ring.bytes,
            ring.entries.iter().map(|(_, c)| c.approx_size()).sum::<usize>()
        );
        // The newest entries are the ones kept.
        assert_eq!(ring.entries.back().map(|(id, _)| *id), Some(n as i64));
    }

    #[test]
    fn curl_form_urlencodes_the_basic_client_id_and_flags_a_secret_that_needs_it() {
        let e = build(1, &basic_request("we ird:id", "plain-secret"), None);
        assert!(
            e.curl
                .contains("-u \"we+ird%3Aid:${CLIENT_SECRET:?set CLIENT_SECRET first}\""),
            "{}",
            e.curl
        );
        assert!(!e.curl.contains("plain-secret"), "{}", e.curl);
        let e = build(1, &basic_request("books-app", "p@ss:w rd"), None);
        assert!(
            e.curl
                .contains("-u \"books-app:${CLIENT_SECRET_FORM_URLENCODED:?set CLIENT_SECRET_FORM_URLENCODED first}\""),
            "{}",
            e.curl
        );
        assert!(!e.curl.contains("p@ss"), "{}", e.curl);
    }

    fn token_request() -> Captured {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("books-app:s3cr3t-value");
        Captured {
            at_ms: 1_000,
            origin: "http://localhost:8000".into(),
            method: "POST".into(),
            path: "/token".into(),
            query: None,
            headers: vec![
                ("authorization".into(), format!("Basic {basic}")),
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ],
            body: Some(Bytes::from_static(
                b"grant_type=client_credentials&scope=read_books+add_books&client_secret=another-secret",
            )),
            status: 200,
            response_content_type: Some("application/json".into()),
            location: None,
            response_json: Some(Bytes::from(
                serde_json::json!({
                    "access_token": "eyJhbGciOi.secret.token",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": "read_books add_books",
                })
                .to_string(),
            )),
            duration_ms: 1.234,
            verdict: None,
            proxy: None,
            assertion: None,
            dpop: None,
            fault: None,
            outbound: None,
            push: None,
        }
    }

    #[test]
    fn a_json_registration_is_shown_and_replayed_without_its_secrets() {
        let mut c = token_request();
        c.path = "/register/dyn-1".into();
        c.method = "PUT".into();
        c.headers = vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), "Bearer rat-secret-value".into()),
        ];
        c.body = Some(Bytes::from_static(
            br#"{"client_id":"dyn-1","client_secret":"s3cr3t","redirect_uris":["http://127.0.0.1/cb"]}"#,
        ));
        let e = build_entry(1, &c);
        let json = serde_json::to_string(&e).unwrap();
        assert!(!json.contains("s3cr3t") && !json.contains("rat-secret-value"), "{json}");
        let p = e.params.iter().find(|p| p.name == "redirect_uris").unwrap();
        assert_eq!(p.value, r#"["http://127.0.0.1/cb"]"#);
        assert!(e.body_note.is_none());
        assert!(e.curl.contains("-X PUT"), "{}", e.curl);
        assert!(e.curl.contains("-H \"Content-Type: application/json\""), "{}", e.curl);
        assert!(
            e.curl
                .contains("-H \"Authorization: Bearer ${TOKEN:?set TOKEN first}\""),
            "{}",
            e.curl
        );
        assert!(
            e.curl
                .contains(r#"\"client_secret\":\"${CLIENT_SECRET:?set CLIENT_SECRET first}\""#),
            "{}",
            e.curl
        );
    }

    #[test]
    fn secrets_and_tokens_are_redacted() {
        let e = build(1, &token_request(), None);
        let json = serde_json::to_string(&e).unwrap();
        for secret in ["s3cr3t-value", "another-secret", "eyJhbGciOi", "Ym9va3"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        assert_eq!(e.client_id.as_deref(), Some("books-app"));
        let secret = e.params.iter().find(|p| p.name == "client_secret").unwrap();
        assert_eq!(secret.value, REDACTED);
        let scope = e.params.iter().find(|p| p.name == "scope").unwrap();
        assert_eq!(scope.value, "read_books add_books");
        let auth = e.headers.iter().find(|p| p.name == "authorization").unwrap();
        assert_eq!(auth.value, "Basic [redacted]");
        assert_eq!(e.response.token_type.as_deref(), Some("Bearer"));
        assert_eq!(e.response.issued, vec!["access_token".to_string()]);
        assert_eq!(e.duration_ms, 1.2);
    }

    #[test]
    fn curl_reproduces_a_token_request_with_placeholders() {
        let e = build(1, &token_request(), None);
        assert_eq!(
            e.curl,
            "curl -s \\\n  \"http://localhost:8000/token\" \\\n  \
             -u \"books-app:${CLIENT_SECRET:?set CLIENT_SECRET first}\" \\\n  \
             --data-urlencode \"grant_type=client_credentials\" \\\n  \
             --data-urlencode \"scope=read_books add_books\" \\\n  \
             --data-urlencode \"client_secret=${CLIENT_SECRET:?set CLIENT_SECRET first}\""
        );
        assert_eq!(e.curl_variables, vec!["CLIENT_SECRET".to_string()]);
    }

    #[test]
    fn the_response_body_is_kept_with_tokens_redacted_at_any_depth() {
        let mut c = token_request();
        c.response_json = Some(Bytes::from(
            serde_json::json!({
                "access_token": "AT-VALUE",
                "refresh_token": "RT-VALUE",
                "id_token": "ID-VALUE",
                "token_type": "Bearer",
                "expires_in": 3600,
                "nested": [{ "client_secret": "CS-VALUE", "kept": "visible" }],
                "device_code": null,
            })
            .to_string(),
        ));
        let e = build(1, &c, None);
        let body = e.response_body.clone().unwrap();
        assert_eq!(body["access_token"], REDACTED);
        assert_eq!(body["refresh_token"], REDACTED);
        assert_eq!(body["id_token"], REDACTED);
        assert_eq!(body["nested"][0]["client_secret"], REDACTED);
        assert_eq!(body["nested"][0]["kept"], "visible");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["device_code"].is_null());
        let json = serde_json::to_string(&e).unwrap();
        for secret in ["AT-VALUE", "RT-VALUE", "ID-VALUE", "CS-VALUE"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        // Not JSON, or not captured: no body.
        c.response_json = None;
        assert!(build(1, &c, None).response_body.is_none());
        c.response_json = Some(Bytes::from_static(b"<html>"));
        assert!(build(1, &c, None).response_body.is_none());
    }

    #[test]
    fn curl_uses_get_parameters_and_escapes_shell_characters() {
        let c = Captured {
            origin: "http://localhost:8000".into(),
            method: "GET".into(),
            path: "/authorize".into(),
            query: Some("client_id=a&state=%24HOME%22x&code_verifier=v".into()),
            headers: vec![("authorization".into(), "Bearer abc.def".into())],
            status: 302,
            location: Some("http://localhost:3000/cb?code=SECRETCODE&state=x#access_token=T&id_token=I".into()),
            ..Captured::default()
        };
        let e = build(2, &c, None);
        assert_eq!(
            e.curl,
            "curl -s \\\n  -G \\\n  \"http://localhost:8000/authorize\" \\\n  \
             -H \"Authorization: Bearer ${TOKEN:?set TOKEN first}\" \\\n  \
             --data-urlencode \"client_id=a\" \\\n  --data-urlencode \"state=\\$HOME\\\"x\" \\\n  \
             --data-urlencode \"code_verifier=${CODE_VERIFIER:?set CODE_VERIFIER first}\""
        );
        assert_eq!(e.curl_variables, vec!["TOKEN".to_string(), "CODE_VERIFIER".to_string()]);
        assert_eq!(
            e.response.location.as_deref(),
            Some("http://localhost:3000/cb?code=[redacted]&state=x#access_token=[redacted]&id_token=[redacted]")
        );
        assert!(!serde_json::to_string(&e).unwrap().contains("SECRETCODE"));
        assert_eq!(e.client_id.as_deref(), Some("a"));
    }

    #[test]
    fn the_ring_is_bounded_and_pages_newest_first() {
        let log = RequestLog::new(3, EventBus::new());
        for _ in 0..5 {
            log.record(token_request());
        }
        let page = log.list(Some(2), None).unwrap();
        assert_eq!(page.items.iter().map(|e| e.id).collect::<Vec<_>>(), vec![5, 4]);
        assert_eq!(page.next_cursor, Some(4));
        let next = log.list(Some(2), page.next_cursor).unwrap();
        assert_eq!(next.items.iter().map(|e| e.id).collect::<Vec<_>>(), vec![3]);
        assert_eq!(next.next_cursor, None);
        assert!(log.get(1).is_err(), "evicted");
        assert!(log.list(Some(0), None).is_err());
    }
}
