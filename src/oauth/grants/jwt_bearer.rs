//! The JWT bearer grant (RFC 7523 §2.1, §3): a client presents a JWT signed by a trusted
//! issuer (`[[trusted_issuers]]`) as `assertion` and gets an access token for the JWT's `sub`.
//!
//! The client authenticates as usual first (a public client identifies itself by
//! `client_id`, RFC 7523 §2.1 making client authentication optional). Every failure of the
//! assertion is `invalid_grant` (RFC 7523 §3.1) with a description naming the claim.
//! No refresh token is issued: the client presents a fresh assertion instead.

use serde_json::{Map, Value};

use super::TokenResponse;
use crate::model::{Client, GrantType};
use crate::oauth::assertion::{
    self, ASYMMETRIC_ALGS, AssertionReport, AssertionSeen, Expectations, Peeked, Refusal, VerifyKeys,
};
use crate::oauth::client_auth::{self, Fetched};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::form::Form;
use crate::oauth::issue::{self, AccessTokenRequest};
use crate::oauth::scope;
use crate::provider::Provider;

/// Longest accepted lifetime of a JWT bearer assertion, in seconds (1 hour: what Google's
/// service-account assertions use, the longest common one).
pub const MAX_BEARER_ASSERTION_LIFETIME: i64 = 3_600;

fn refused(r: &Refusal) -> OAuthError {
    match r {
        Refusal::Busy(m) => OAuthError::new(ErrorCode::TemporarilyUnavailable, m.clone()),
        other => OAuthError::invalid_grant(format!("assertion refused: {}", other.message())),
    }
}

/// Handles `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` for an authenticated
/// `client` (RFC 7523 §2.1). `scope` is limited to the client's allowed scopes (RFC 6749
/// §3.3). The assertion's report goes to `seen`.
pub async fn grant(
    p: &Provider,
    client: &Client,
    form: &Form,
    seen: &AssertionSeen,
) -> Result<TokenResponse, OAuthError> {
    let jwt = form.require("assertion")?;
    let basis = p.settings().assertion_time;
    let now = p.clock.peer_now(basis);
    let peeked = Peeked::parse(jwt).map_err(|r| refused(&r))?;
    let mut report = AssertionReport::of("assertion", "jwt-bearer", &peeked, now, basis);
    let result = verify(p, &peeked, now, basis, &mut report).await;
    match &result {
        Ok(()) => report.accepted = true,
        Err(e) => report.refused = Some(e.description.clone()),
    }
    seen.record(report);
    result?;
    let sub = peeked.claim_str("sub").unwrap_or_default().to_string();
    let scopes = scope::grant(form.get("scope")?, &client.scopes, &client.client_id)?;
    let resources = crate::oauth::resource_indicators::for_client(p, client, form)?;
    let mut extra = Map::new();
    if let Some(iss) = peeked.claim_str("iss") {
        // Who vouched for the subject, for the token page and the API (not a registered claim).
        extra.insert("assertion_iss".into(), Value::String(iss.to_string()));
    }
    let issued = issue::access_token_for(
        p,
        AccessTokenRequest {
            client,
            subject: sub,
            username: None,
            scopes: scopes.clone(),
            grant_type: GrantType::JwtBearer.as_str(),
            grant_id: None,
            parent_id: None,
            ttl: None,
            extra_claims: extra,
        },
        (!resources.is_empty()).then_some(resources),
    )
    .await?;
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: scopes.join(" "),
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
    })
}

async fn verify(
    p: &Provider,
    peeked: &Peeked,
    now: i64,
    basis: crate::clock::PeerTime,
    report: &mut AssertionReport,
) -> Result<(), OAuthError> {
    let iss = peeked
        .claim_str("iss")
        .ok_or_else(|| OAuthError::invalid_grant("assertion refused: `iss` is missing (RFC 7523 §3, item 1)"))?;
    let Some(trusted) = p.trusted_issuer(iss) else {
        return Err(OAuthError::invalid_grant(format!(
            "assertion refused: `iss` `{iss}` is not a trusted issuer (add it to [[trusted_issuers]])"
        )));
    };
    let sub = peeked
        .claim_str("sub")
        .ok_or_else(|| OAuthError::invalid_grant("assertion refused: `sub` is missing (RFC 7523 §3, item 2)"))?;
    if !trusted.allowed_subjects.is_empty() && !trusted.allowed_subjects.iter().any(|s| s == sub) {
        return Err(OAuthError::invalid_grant(format!(
            "assertion refused: `sub` `{sub}` is not among the subjects `{iss}` may assert ({})",
            trusted.allowed_subjects.join(", ")
        )));
    }
    let mut audiences = client_auth::accepted_audiences(p, crate::oauth::paths::TOKEN);
    audiences.extend(trusted.audiences.iter().cloned());
    let algorithms: Vec<&str> = if trusted.algorithms.is_empty() {
        ASYMMETRIC_ALGS.to_vec()
    } else {
        trusted.algorithms.iter().map(String::as_str).collect()
    };
    let expect = Expectations {
        issuer: &trusted.issuer,
        subject: None,
        audiences: &audiences,
        algorithms: &algorithms,
        max_lifetime: MAX_BEARER_ASSERTION_LIFETIME,
        jti_required: false,
        replay_scope: format!("issuer:{}", trusted.issuer),
        now,
        basis,
    };
    if let Some(set) = &trusted.jwks {
        report.key_source = "jwks".into();
        assertion::verify(peeked, VerifyKeys::Jwks(&set.keys), &expect, &p.jtis).map_err(|r| refused(&r))
    } else if let Some(uri) = &trusted.jwks_uri {
        report.key_source = "jwks_uri".into();
        client_auth::verify_with_uri(p, peeked, uri, &expect)
            .await
            .map_err(|e| match e {
                Fetched::Refused(r) => refused(&r),
                Fetched::Failed(m) => OAuthError::invalid_grant(format!(
                    "assertion refused: the keys of `{iss}` could not be fetched: {m}"
                )),
            })
    } else {
        Err(OAuthError::invalid_grant(format!(
            "assertion refused: trusted issuer `{iss}` has no keys (jwks or jwks_uri)"
        )))
    }
}
