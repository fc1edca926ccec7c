//! One entry of the request log as the admin API and the `request.logged` event show it
//! (plain data: the log itself is [`super::requests`]).

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::resources::proxy::ProxyRecord;
use crate::resources::verdict::Verdict;

/// One request parameter or header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its value, or `[redacted]`.
    pub value: String,
    /// `query` or `body` (parameters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

/// What the response said, without any token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ResponseSummary {
    /// HTTP status.
    pub status: u16,
    /// The response's content type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The RFC 6749 §5.2 error code, for an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `token_type` of a token response (or an introspection answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Lifetime of the issued token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Which tokens the response carried (names only: `access_token`, `id_token`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issued: Vec<String>,
    /// `active` of an introspection answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Where a redirect went (codes and tokens redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoggedRequest {
    /// Increasing from 1.
    pub id: i64,
    /// When it arrived (server clock), UNIX milliseconds.
    pub at: i64,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The response status.
    pub status: u16,
    /// How long the answer took.
    pub duration_ms: f64,
    /// The client, from HTTP Basic or a `client_id` parameter.
    pub client_id: Option<String>,
    /// Query and form parameters, secrets redacted.
    pub params: Vec<Param>,
    /// Notable request headers (`Authorization` and `Cookie` redacted).
    pub headers: Vec<Param>,
    /// A note on a body that was not a form (its type and size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_note: Option<String>,
    /// The response, without tokens.
    pub response: ResponseSummary,
    /// The JSON response body as sent, with tokens, codes and secrets replaced by
    /// `[redacted]`; absent when the response was not JSON (an HTML page, a redirect) or was
    /// not captured (over 64 KiB, or streamed by the proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub response_body: Option<serde_json::Value>,
    /// A `curl -s` command reproducing the request; secrets are shell variables written
    /// `${CLIENT_SECRET:?set CLIENT_SECRET first}`, so an unset or empty variable stops the
    /// shell instead of sending an empty secret.
    pub curl: String,
    /// The variables `curl` needs (`CLIENT_SECRET`, `TOKEN`, `CODE`, ...), in order of use.
    pub curl_variables: Vec<String>,
    /// For a call to a protected resource (or through the explaining proxy): Latchkey's
    /// verdict on the token presented.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Verdict>)]
    pub verdict: Option<Arc<Verdict>>,
    /// For a call through the explaining proxy: where it went, what the upstream answered
    /// (status, `WWW-Authenticate`) and how that relates to the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ProxyRecord>)]
    pub proxy: Option<Arc<ProxyRecord>>,
    /// For a request carrying a client assertion (`private_key_jwt`, `client_secret_jwt`) or a
    /// JWT bearer `assertion`: its claims, the time it was checked against (`real` or
    /// `virtual`), the skew seen, and the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::oauth::assertion::AssertionReport>)]
    pub assertion: Option<Arc<crate::oauth::assertion::AssertionReport>>,
    /// For a request carrying a DPoP proof (RFC 9449): its header and claims decoded, the key's
    /// thumbprint, the time `iat` was checked against, and every check (`typ`, `alg`, `jwk`,
    /// `signature`, `htm`, `htu`, `iat`, `jti`, `nonce`, `ath`, `jkt`) with the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::oauth::dpop::ProofReport>)]
    pub dpop: Option<Arc<crate::oauth::dpop::ProofReport>>,
    /// When a fault rule changed the response: the rule and what it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::faults::FaultMark>)]
    pub fault: Option<Arc<crate::faults::FaultMark>>,
    /// For a request Latchkey made itself (a back-channel logout POST): what it was for and
    /// how it ended. `path` is then the whole URL it went to, and `status` the receiver's
    /// (502 when it was unreachable, 504 when it did not answer in time).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<OutboundMark>)]
    pub outbound: Option<Arc<OutboundMark>>,
    /// For a pushed authorization request (RFC 9126) and an authorization request naming its
    /// `request_uri`: the link between the two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<PushLink>,
}

/// What marks a request Latchkey sent (rather than received) in the request log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OutboundMark {
    /// What it was: `backchannel_logout`.
    pub kind: String,
    /// The client it went to.
    pub client_id: String,
    /// The browser session's `sid`.
    pub sid: String,
    /// The logout token's `jti`.
    pub jti: String,
    /// `delivered` (200 or 204) or `failed`.
    pub outcome: crate::oauth::session::DeliveryOutcome,
    /// Why it failed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a push and the authorization requests that used its `request_uri` link up in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PushLink {
    /// The `request_uri` (`urn:ietf:params:oauth:request_uri:...`).
    pub request_uri: String,
    /// On an authorization request: the log id of the push that issued its `request_uri`
    /// (absent when that push is no longer in the log, or never was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_id: Option<i64>,
    /// On a push: the log ids of the authorization requests that named its `request_uri`
    /// (oldest first; a reuse shows as a second one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorize_ids: Vec<i64>,
}

impl LoggedRequest {
    /// Approximate bytes this entry holds (for the event replay buffer's byte bound).
    pub fn approx_size(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let params = |v: &[Param]| v.iter().map(|p| p.name.len() + p.value.len() + 64).sum::<usize>();
        let r = &self.response;
        std::mem::size_of::<LoggedRequest>()
            + self.method.len()
            + self.path.len()
            + opt(&self.client_id)
            + params(&self.params)
            + params(&self.headers)
            + opt(&self.body_note)
            + self.curl.len()
            + self.curl_variables.iter().map(|v| v.len() + 24).sum::<usize>()
            + self.response_body.as_ref().map_or(0, |b| b.to_string().len())
            + opt(&r.content_type)
            + opt(&r.error)
            + opt(&r.error_description)
            + opt(&r.scope)
            + opt(&r.location)
            + r.issued.iter().map(String::len).sum::<usize>()
    }
}
