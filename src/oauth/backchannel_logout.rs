//! OpenID Connect Back-Channel Logout 1.0: logout tokens (§2.4) sent to each client of a
//! browser session when it ends (§2.5), and the session changes that the admin API and the GUI
//! watch (`session.started`, `session.updated`, `session.ended`, `backchannel_logout.completed`).
//!
//! A session ends at `/end_session` (RP-initiated logout) or from the admin API; then every
//! client it signed in to that registered a `backchannel_logout_uri` gets a logout token, all
//! in parallel, each POST bounded by `[server] backchannel_logout_timeout`. The caller waits for
//! the outcomes (at most that timeout), so a relying party that the browser is redirected to
//! afterwards has already been told. The HTTP request itself is the HTTP layer's
//! ([`crate::oauth::session::LogoutSender`]).

use std::time::Duration;

use serde_json::{Value, json};

use super::error::OAuthError;
use super::session::{DeliveryOutcome, LogoutDelivery, LogoutPost, LogoutTrigger, Posted, Session, judge};
use crate::events::Event;
use crate::ids;
use crate::model::Client;
use crate::provider::Provider;

/// The `events` member's key (Back-Channel Logout 1.0 §2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The logout token's header `typ` (Back-Channel Logout 1.0 §2.4, RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
/// A logout token's lifetime, seconds (§2.4 recommends a short one, e.g. two minutes).
pub const LOGOUT_TOKEN_TTL: i64 = 120;
/// Extra time, beyond the POST timeout, after which a sender that did not give up is no longer
/// waited for.
const GRACE: Duration = Duration::from_millis(500);

/// The claims of a logout token for `client` about `session` (§2.4): `iss`, `aud` (the client
/// id), `iat`, `exp` (`iat` + [`LOGOUT_TOKEN_TTL`]), `jti`, `events`, and both `sub` and `sid`;
/// never `nonce` (§2.4 forbids it). Times from the provider's clock.
pub fn logout_claims(p: &Provider, client_id: &str, session: &Session) -> Value {
    let now = p.clock.now();
    json!({
        "iss": p.issuer.id,
        "aud": client_id,
        "iat": now,
        "exp": now.saturating_add(LOGOUT_TOKEN_TTL),
        "jti": ids::token_id(),
        "sub": session.sub,
        "sid": session.sid,
        "events": { EVENT: {} },
    })
}

/// Signs logout token claims with the active key, header `typ: logout+jwt`.
pub fn sign(p: &Provider, claims: &Value) -> Result<String, OAuthError> {
    Ok(p.keys.sign_jwt(TYP, claims)?.0)
}

/// Signs a browser in ([`crate::oauth::session::Sessions::sign_in`]) and publishes
/// `session.started`.
pub fn sign_in(p: &Provider, username: &str, sub: &str, acr: Option<String>, amr: Vec<String>) -> Session {
    let s = p.sessions.sign_in(username, sub, acr, amr, p.clock.now());
    p.events
        .publish(p.clock.now_ms(), Event::SessionStarted(Box::new(s.clone())));
    s
}

/// Records that the browser session `session` signed in to `client_id` and publishes
/// `session.updated` (`grant_id`: the grant issued by the authorization response).
pub fn signed_in_to(p: &Provider, session: &Session, client_id: &str, grant_id: &str) {
    if let Some(s) = p.sessions.signed_in_to(&session.id, client_id, grant_id, p.clock.now()) {
        p.events.publish(p.clock.now_ms(), Event::SessionUpdated(Box::new(s)));
    }
}

/// Ends the session with cookie value `cookie` at `/end_session`, publishes `session.ended`
/// and sends the back-channel logouts, waiting for them (at most the timeout). `None`: no such
/// live session.
pub async fn end_by_cookie(p: &Provider, cookie: &str) -> Option<(Session, Vec<LogoutDelivery>)> {
    let s = p.sessions.end_session(cookie, p.clock.now(), "end_session")?;
    Some(ended(p, s, LogoutTrigger::EndSession).await)
}

/// Ends the live session `sid` from the admin API, like [`end_by_cookie`]. `None`: no such
/// live session.
pub async fn end_by_sid(p: &Provider, sid: &str) -> Option<(Session, Vec<LogoutDelivery>)> {
    let s = p.sessions.end_by_sid(sid, p.clock.now(), "admin")?;
    Some(ended(p, s, LogoutTrigger::Admin).await)
}

async fn ended(p: &Provider, s: Session, trigger: LogoutTrigger) -> (Session, Vec<LogoutDelivery>) {
    p.events
        .publish(p.clock.now_ms(), Event::SessionEnded(Box::new(s.clone())));
    // Before the logout tokens go out, so a relying party told of the logout finds its
    // session-bound refresh tokens already dead.
    if let Err(e) = revoke_session_refresh_tokens(p, &s).await {
        tracing::warn!(error = %e, "revoking the refresh tokens of an ended session failed");
    }
    let ids: Vec<String> = s.clients.iter().map(|c| c.client_id.clone()).collect();
    let deliveries = notify(p, &s, &ids, trigger).await;
    let now = p.sessions.by_sid(&s.sid, p.clock.now()).unwrap_or(s);
    (now, deliveries)
}

/// Sends a logout token to each of `client_ids` (clients of `session`) that still exists and
/// has a `backchannel_logout_uri`, in parallel, and waits for every outcome (each bounded by
/// `[server] backchannel_logout_timeout`). Each delivery is recorded on the session and
/// published, first as pending, then with its outcome.
pub async fn notify(
    p: &Provider,
    session: &Session,
    client_ids: &[String],
    trigger: LogoutTrigger,
) -> Vec<LogoutDelivery> {
    let timeout = Duration::from_secs(p.settings().backchannel_logout_timeout.0);
    let targets: Vec<std::sync::Arc<Client>> = client_ids
        .iter()
        .filter_map(|id| p.client(id))
        .filter(|c| c.backchannel_logout_uri.is_some())
        .collect();
    let sends = targets.iter().map(|c| deliver(p, session, c, trigger, timeout));
    futures_util::future::join_all(sends).await
}

/// One logout token to one client: recorded as pending, POSTed, recorded with its outcome.
async fn deliver(
    p: &Provider,
    session: &Session,
    client: &Client,
    trigger: LogoutTrigger,
    timeout: Duration,
) -> LogoutDelivery {
    let uri = client.backchannel_logout_uri.clone().unwrap_or_default();
    let claims = logout_claims(p, &client.client_id, session);
    let jti = claims["jti"].as_str().unwrap_or_default().to_string();
    let mut d = LogoutDelivery {
        jti: jti.clone(),
        sid: session.sid.clone(),
        client_id: client.client_id.clone(),
        uri: uri.clone(),
        trigger,
        sent_at: p.clock.now_ms(),
        outcome: DeliveryOutcome::Pending,
        status: None,
        error: None,
        duration_ms: None,
        request_id: None,
        claims: claims.clone(),
    };
    record(p, &d);
    let posted = match (sign(p, &claims), url::Url::parse(&uri), p.sessions.sender()) {
        (Err(e), _, _) => Posted {
            error: Some(format!("the logout token could not be signed: {}", e.description)),
            ..Posted::default()
        },
        (_, Err(e), _) => Posted {
            error: Some(format!("backchannel_logout_uri `{uri}` is not a URL: {e}")),
            ..Posted::default()
        },
        (_, _, None) => Posted {
            error: Some("no HTTP client is installed in this server".into()),
            ..Posted::default()
        },
        // A client that registered itself (RFC 7591) chose this URL: the `[fetch]` policy
        // decides where Latchkey may send requests for it, so a registration cannot aim POSTs
        // at other hosts of the developer's network (clients from the config file or the admin
        // API are the developer's own).
        (_, Ok(url), _)
            if client.registration.is_some()
                && let Err(why) = crate::fetch::check_url(&url, &p.settings().fetch) =>
        {
            Posted {
                error: Some(format!(
                    "not sent: {why} (the [fetch] policy applies to dynamically registered clients)"
                )),
                ..Posted::default()
            }
        }
        (Ok(token), Ok(url), Some(sender)) => {
            let req = LogoutPost {
                url: &url,
                logout_token: &token,
                timeout,
                client_id: &client.client_id,
                sid: &session.sid,
                jti: &jti,
            };
            match tokio::time::timeout(timeout + GRACE, sender.post(req)).await {
                Ok(posted) => posted,
                Err(_) => Posted {
                    error: Some(format!("no answer within {} s", timeout.as_secs())),
                    duration_ms: (timeout + GRACE).as_secs_f64() * 1000.0,
                    ..Posted::default()
                },
            }
        }
    };
    let (outcome, error) = judge(posted.status, posted.error.as_deref());
    d.outcome = outcome;
    d.status = posted.status;
    d.error = error;
    d.duration_ms = Some((posted.duration_ms * 10.0).round() / 10.0);
    d.request_id = posted.request_id;
    record(p, &d);
    p.events
        .publish(p.clock.now_ms(), Event::BackchannelLogout(Box::new(d.clone())));
    d
}

fn record(p: &Provider, d: &LogoutDelivery) {
    if let Some(s) = p.sessions.record_delivery(d) {
        p.events.publish(p.clock.now_ms(), Event::SessionUpdated(Box::new(s)));
    }
}

/// Back-Channel Logout 1.0 §2.7: refresh tokens issued from the ended session without
/// `offline_access` are revoked (reason `session ended`); those with `offline_access`, and
/// access tokens, stay. Publishes `token.revoked`.
async fn revoke_session_refresh_tokens(p: &Provider, s: &Session) -> Result<(), crate::store::StoreError> {
    let reason = "session ended (Back-Channel Logout 1.0 §2.7)";
    let now = p.clock.now();
    let mut revoked = Vec::new();
    for grant in s.clients.iter().flat_map(|c| c.grants.iter()) {
        let tokens = p
            .store
            .list_tokens(crate::store::TokenFilter {
                grant_id: Some(grant.clone()),
                kind: Some(crate::store::TokenKind::RefreshToken),
                status: Some(crate::store::TokenStatus::Active),
                limit: 100,
                ..Default::default()
            })
            .await?;
        for (_, t) in tokens {
            if t.scope.split(' ').any(|x| x == "offline_access") {
                continue;
            }
            if p.store
                .set_token_status(&t.id, crate::store::TokenStatus::Revoked, reason, now)
                .await?
            {
                revoked.push(t.id);
            }
        }
    }
    super::revoke::publish_revoked(p, revoked, reason.to_string()).await
}
