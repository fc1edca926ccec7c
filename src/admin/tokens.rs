//! Tokens: the list (newest first, filtered, paginated), one token decoded with its signature
//! check, live status and the exact introspection answer, revocation, and minting a token
//! for a client (used by `POST /admin/api/tokens` and `latchkey token` alike).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{AdminError, Page, page_limit};
use crate::model::{Seconds, TokenFormat};
use crate::oauth::introspect;
use crate::oauth::issue::{self, AccessTokenRequest};
use crate::provider::Provider;
use crate::store::{TokenFilter, TokenKind, TokenRecord, TokenStatus};

/// A token's live state: the stored status, with `expired` derived from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Usable.
    Active,
    /// Past its `exp` by the server clock.
    Expired,
    /// Revoked.
    Revoked,
    /// Used up (an exchanged code, a rotated refresh token).
    Consumed,
    /// Not expired, but signed with a key that has left the JWKS: nobody can verify it any
    /// more, and `/introspect` answers `active: false`.
    KeyRetired,
}

/// The live state of a record at `now`; `published` says whether a `kid` is still in the
/// JWKS. Revoked and consumed come first, then expired, then a retired key.
pub fn state_of(r: &TokenRecord, now: i64, published: impl Fn(&str) -> bool) -> TokenState {
    match r.status {
        TokenStatus::Revoked => TokenState::Revoked,
        TokenStatus::Consumed => TokenState::Consumed,
        TokenStatus::Active if r.expires_at <= now => TokenState::Expired,
        TokenStatus::Active if r.kid.as_deref().is_some_and(|k| !published(k)) => TokenState::KeyRetired,
        TokenStatus::Active => TokenState::Active,
    }
}

/// The ids of the stored keys that are no longer in the JWKS.
pub(crate) async fn unpublished_kids(p: &Provider) -> Result<Vec<String>, AdminError> {
    Ok(p.store
        .list_keys()
        .await?
        .into_iter()
        .map(|k| k.kid)
        .filter(|k| !p.keys.is_published(k))
        .collect())
}

/// A recorded token, without its value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenItem {
    /// The `jti` (or a random id for opaque tokens and codes).
    pub id: String,
    /// `access_token`, `refresh_token`, `id_token` or `authorization_code`.
    pub kind: String,
    /// `jwt` or `opaque`.
    pub format: String,
    /// The client it was issued to.
    pub client_id: String,
    /// `sub`.
    pub subject: String,
    /// The user's username, when a user is involved.
    pub username: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// `aud` values.
    pub audience: Vec<String>,
    /// `iat`, UNIX seconds.
    pub issued_at: i64,
    /// `exp`, UNIX seconds.
    pub expires_at: i64,
    /// The live state now.
    pub state: TokenState,
    /// When the stored status last changed.
    pub status_at: Option<i64>,
    /// Why it was revoked or consumed.
    pub status_reason: Option<String>,
    /// The grant that produced it (`admin` for minted tokens).
    pub grant_type: String,
    /// The grant family.
    pub grant_id: Option<String>,
    /// The token it derives from.
    pub parent_id: Option<String>,
    /// The signing key, for JWTs.
    pub kid: Option<String>,
    /// The claims (the JWT payload, or what an opaque token stands for).
    #[schema(value_type = Object)]
    pub claims: Value,
    /// When this used-up code or refresh token was presented again (a replay, which revoked
    /// its grant: RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14), UNIX seconds.
    pub replayed_at: Option<i64>,
}

fn item(p: &Provider, r: &TokenRecord, now: i64) -> TokenItem {
    TokenItem {
        id: r.id.clone(),
        kind: r.kind.as_str().to_string(),
        format: r.format.as_str().to_string(),
        client_id: r.client_id.clone(),
        subject: r.subject.clone(),
        username: r.username.clone(),
        scope: r.scope.clone(),
        audience: r.audience.clone(),
        issued_at: r.issued_at,
        expires_at: r.expires_at,
        state: state_of(r, now, |k| p.keys.is_published(k)),
        status_at: r.status_at,
        status_reason: r.status_reason.clone(),
        grant_type: r.grant_type.clone(),
        grant_id: r.grant_id.clone(),
        parent_id: r.parent_id.clone(),
        kid: r.kid.clone(),
        claims: r.claims.clone(),
        replayed_at: r.replayed_at,
    }
}

/// Filters of the token list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Only this client's tokens.
    pub client_id: Option<String>,
    /// Only this user's tokens.
    pub username: Option<String>,
    /// Only the tokens of this grant (the `grant_id` of a token: its code, every refresh, the
    /// tokens issued from each).
    pub grant_id: Option<String>,
    /// `access_token`, `refresh_token`, `id_token` or `authorization_code`.
    pub kind: Option<String>,
    /// `active`, `expired`, `revoked`, `consumed` or `key_retired`.
    pub status: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

fn parse_kind(s: &str) -> Result<TokenKind, AdminError> {
    match s {
        "access_token" => Ok(TokenKind::AccessToken),
        "refresh_token" => Ok(TokenKind::RefreshToken),
        "id_token" => Ok(TokenKind::IdToken),
        "authorization_code" => Ok(TokenKind::AuthorizationCode),
        _ => Err(AdminError::field(
            "kind",
            format!("`{s}` is not a token kind; use access_token, refresh_token, id_token or authorization_code"),
        )),
    }
}

/// Tokens newest first.
pub async fn list(p: &Provider, q: TokenQuery) -> Result<Page<TokenItem>, AdminError> {
    let limit = page_limit(q.limit)?;
    let now = p.clock.now();
    let mut f = TokenFilter {
        client_id: q.client_id,
        username: q.username,
        grant_id: q.grant_id,
        kind: q.kind.as_deref().map(parse_kind).transpose()?,
        before_rowid: q.cursor,
        limit: limit + 1,
        ..TokenFilter::default()
    };
    match q.status.as_deref() {
        None => {}
        Some("active") => {
            f.status = Some(TokenStatus::Active);
            f.live_at = Some(now);
            f.kid_not_in = Some(unpublished_kids(p).await?);
        }
        Some("key_retired") => {
            f.status = Some(TokenStatus::Active);
            f.live_at = Some(now);
            f.kid_in = Some(unpublished_kids(p).await?);
        }
        Some("expired") => {
            f.status = Some(TokenStatus::Active);
            f.expired_at = Some(now);
        }
        Some("revoked") => f.status = Some(TokenStatus::Revoked),
        Some("consumed") => f.status = Some(TokenStatus::Consumed),
        Some(other) => {
            return Err(AdminError::field(
                "status",
                format!("`{other}` is not a status; use active, expired, revoked, consumed or key_retired"),
            ));
        }
    }
    let mut rows = p.store.list_tokens(f).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(rowid, _)| *rowid)
    } else {
        None
    };
    Ok(Page {
        items: rows.iter().map(|(_, r)| item(p, r, now)).collect(),
        next_cursor,
    })
}

/// The result of checking a JWT's signature against the current JWKS.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureCheck {
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The header's `alg`.
    pub alg: Option<String>,
    /// Whether a published key verifies the signature.
    pub verified: bool,
    /// Why not (or which key verified it).
    pub reason: String,
}

/// A token's live status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LiveStatus {
    /// `active`, `expired`, `revoked` or `consumed`.
    pub state: TokenState,
    /// Why, for people.
    pub reason: String,
    /// Seconds left before it expires (0 once expired).
    pub expires_in: i64,
}

/// Everything about one token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenDetail {
    /// The record, when this server issued the token.
    pub record: Option<TokenItem>,
    /// The raw token.
    pub token: String,
    /// `jwt` or `opaque`.
    pub format: String,
    /// The decoded JOSE header, for a JWT.
    #[schema(value_type = Option<Object>)]
    pub header: Option<Value>,
    /// The decoded payload, for a JWT.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Value>,
    /// The signature check, for a JWT.
    pub signature: Option<SignatureCheck>,
    /// The live status, when this server issued the token.
    pub status: Option<LiveStatus>,
    /// Exactly what `/introspect` answers for it (RFC 7662), as asked by the client it was
    /// issued to; `[introspection] validate_audience` depends on the caller and is not applied.
    #[schema(value_type = Object)]
    pub introspection: Value,
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = B64.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks a compact JWS against the published keys, ignoring `exp`, `nbf` and `aud` (the
/// live status covers time; this is only about the signature).
pub fn check_signature(p: &Provider, token: &str, header: &Value) -> SignatureCheck {
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_string);
    let alg = header.get("alg").and_then(Value::as_str).map(str::to_string);
    let fail = |reason: String| SignatureCheck {
        kid: kid.clone(),
        alg: alg.clone(),
        verified: false,
        reason,
    };
    // RFC 7518 §3.6: `none` means no signature at all; that, not the missing `kid`, is the news.
    if alg.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("none")) {
        return fail(
            "unsigned: `alg` is `none`, so anyone can write this token; no verifier should accept it (RFC 8725 §3.1)"
                .into(),
        );
    }
    // HS256/384/512: a shared secret, never in a JWKS.
    if let Some(a) = alg.as_deref().filter(|a| a.starts_with("HS")) {
        return fail(format!(
            "signed with a shared secret ({a}), which no JWKS publishes; paste the secret to verify it"
        ));
    }
    let Some(k) = kid.as_deref() else {
        return fail("the header has no `kid`, so no published key can be chosen".into());
    };
    let jwks: JwkSet = match serde_json::from_slice(&p.keys.jwks_json()) {
        Ok(s) => s,
        Err(e) => return fail(format!("the JWKS does not decode: {e}")),
    };
    let Some(jwk) = jwks.find(k) else {
        return fail(format!(
            "unknown kid `{k}`: not issued here, or signed by a key that has left the JWKS"
        ));
    };
    let Some(algorithm) = alg.as_deref().and_then(|a| a.parse::<jsonwebtoken::Algorithm>().ok()) else {
        return fail(format!("unsupported alg `{}`", alg.as_deref().unwrap_or("")));
    };
    let key = match jsonwebtoken::DecodingKey::from_jwk(jwk) {
        Ok(k) => k,
        Err(e) => return fail(format!("the published key `{k}` is unusable: {e}")),
    };
    let mut v = jsonwebtoken::Validation::new(algorithm);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    match jsonwebtoken::decode::<Value>(token, &key, &v) {
        Ok(_) => SignatureCheck {
            kid: kid.clone(),
            alg: alg.clone(),
            verified: true,
            reason: format!("verified with published key `{k}`"),
        },
        Err(e) => fail(format!("does not verify with published key `{k}`: {e}")),
    }
}

/// A duration for people, its two largest units: `45 s`, `59 min 56 s`, `2 h 5 min`,
/// `3 d 4 h`. Negative durations count as zero.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60, secs % 60);
    let units = [(d, "d"), (h, "h"), (m, "min"), (s, "s")];
    let first = units.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    units[first..]
        .iter()
        .take(2)
        .enumerate()
        .filter(|(i, (n, _))| *i == 0 || *n > 0)
        .map(|(_, (n, u))| format!("{n} {u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn live_status(p: &Provider, r: &TokenRecord) -> LiveStatus {
    let now = p.clock.now();
    let state = state_of(r, now, |k| p.keys.is_published(k));
    let reason = match state {
        TokenState::KeyRetired => format!(
            "not expired, but its signing key `{}` has left the JWKS, so it no longer verifies and /introspect says inactive",
            r.kid.as_deref().unwrap_or("?")
        ),
        TokenState::Expired => format!(
            "expired {} ago (server clock)",
            human_duration(now.saturating_sub(r.expires_at))
        ),
        TokenState::Revoked | TokenState::Consumed => r
            .status_reason
            .clone()
            .unwrap_or_else(|| format!("{:?}", r.status).to_lowercase()),
        TokenState::Active => match &r.kid {
            _ if !introspect::issued_here(p, r) => format!(
                "not expired, but issued for `{}`, not this server's issuer `{}`, so /introspect says inactive",
                r.claims.get("iss").and_then(|v| v.as_str()).unwrap_or("?"),
                p.issuer.id
            ),
            _ if !matches!(r.kind, TokenKind::AccessToken | TokenKind::RefreshToken) => format!(
                "not expired; introspection is about access and refresh tokens, so /introspect says inactive for {}",
                r.kind.with_article()
            ),
            _ => format!("valid for {} more", human_duration(r.expires_at.saturating_sub(now))),
        },
    };
    LiveStatus {
        state,
        reason,
        expires_in: (r.expires_at - now).max(0),
    }
}

fn detail(p: &Provider, token: &str, record: Option<&TokenRecord>) -> TokenDetail {
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload) = match parts.as_slice() {
        [h, b, _] => (decode_part(h), decode_part(b)),
        _ => (None, None),
    };
    let is_jwt = header.is_some();
    let signature = header.as_ref().map(|h| check_signature(p, token, h));
    let introspection = match record {
        Some(r) if introspect::is_active(p, r) => introspect::active_response(r),
        _ => introspect::inactive(),
    };
    let now = p.clock.now();
    TokenDetail {
        record: record.map(|r| item(p, r, now)),
        token: token.to_string(),
        format: if is_jwt {
            TokenFormat::Jwt.as_str()
        } else {
            TokenFormat::Opaque.as_str()
        }
        .to_string(),
        header,
        payload,
        signature,
        status: record.map(|r| live_status(p, r)),
        introspection,
    }
}

/// One recorded token, in full.
pub async fn get(p: &Provider, id: &str) -> Result<TokenDetail, AdminError> {
    let r = p
        .store
        .find_token(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("token `{id}`")))?;
    Ok(detail(p, &r.token.clone(), Some(&r)))
}

/// A pasted `Authorization` value without its scheme: `Bearer eyJ...` (any case, RFC 6750
/// §2.1; also `Authorization: Bearer ...` copied whole) becomes `eyJ...`.
pub fn strip_bearer(s: &str) -> &str {
    let s = s.trim();
    let s = match s.get(..14) {
        Some(p) if p.eq_ignore_ascii_case("authorization:") => s[14..].trim_start(),
        _ => s,
    };
    match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => s[7..].trim(),
        _ => s,
    }
}

/// Any pasted string: one of ours (found by value), a JWT from elsewhere (decoded, signature
/// checked: "unknown kid"), or neither (a clear error).
pub async fn inspect(p: &Provider, token: &str) -> Result<TokenDetail, AdminError> {
    let token = strip_bearer(token.trim());
    if token.is_empty() {
        return Err(AdminError::field("token", "is empty; paste a token"));
    }
    let record = p.store.find_token_by_hash(crate::ids::token_hash(token)).await?;
    let d = detail(p, token, record.as_ref());
    if d.record.is_none() && d.header.is_none() {
        return Err(AdminError::field(
            "token",
            if token.split('.').count() == 3 {
                "looks like a JWT, but its header is not base64url-encoded JSON"
            } else {
                "is neither a JWT nor a token issued by this server"
            },
        ));
    }
    Ok(d)
}

/// What an admin revocation did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revoked {
    /// The ids revoked now (empty when the token was no longer active).
    pub revoked: Vec<String>,
}

/// Revokes a token; for a refresh token, its whole grant (like RFC 7009 §2.1). Publishes
/// `token.revoked`. A token that is already revoked or consumed is left alone.
pub async fn revoke(p: &Provider, id: &str) -> Result<Revoked, AdminError> {
    let r = p
        .store
        .find_token(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("token `{id}`")))?;
    let now = p.clock.now();
    let reason = "revoked by the admin".to_string();
    let ids = match (&r.kind, &r.grant_id) {
        (TokenKind::RefreshToken, Some(grant)) => p.store.revoke_grant(grant, &reason, now).await?,
        _ => {
            if p.store
                .set_token_status(&r.id, TokenStatus::Revoked, &reason, now)
                .await?
            {
                vec![r.id.clone()]
            } else {
                Vec::new()
            }
        }
    };
    crate::oauth::revoke::publish_revoked(p, ids.clone(), reason).await?;
    Ok(Revoked { revoked: ids })
}

/// A token to mint.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The client it is issued to.
    pub client_id: String,
    /// A user (by username): `sub` becomes the user's subject; otherwise the client's id.
    pub username: Option<String>,
    /// Scopes, within the client's allowed scopes (default: all of them).
    pub scopes: Option<Vec<String>>,
    /// Lifetime in seconds (default: the client's or the server's access-token lifetime).
    pub ttl: Option<u64>,
    /// Extra claims (`nbf`, `acr`, a custom `role`, ...). The claims Latchkey sets itself
    /// ([`SET_BY_LATCHKEY`]) are refused with a field error saying where each comes from.
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Map<String, Value>>,
}

/// The claims of an access token that Latchkey sets itself, and where each comes from: a
/// minted token cannot carry other values (its record, introspection and the resources read
/// them from the same place).
pub const SET_BY_LATCHKEY: &[(&str, &str)] = &[
    ("iss", "the issuer URL (the server's `issuer` setting)"),
    ("sub", "the user (`username`), or the client id without one"),
    (
        "aud",
        "the client's `audiences` (its id when it has none); mint for a client with the audience you need",
    ),
    ("client_id", "`client_id`"),
    ("scope", "`scopes`"),
    ("iat", "the (virtual) clock; move the clock to mint a token in the past"),
    ("exp", "`ttl` (seconds from now)"),
    ("jti", "the token's id, unique per token"),
];

/// A minted access token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Minted {
    /// The token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The granted scope.
    pub scope: String,
    /// The token's id (for `GET /admin/api/tokens/{id}`).
    pub id: String,
}

/// Mints an access token for a client (and user): recorded and published like any other.
pub async fn mint(p: &Provider, req: MintRequest) -> Result<Minted, AdminError> {
    let client = p
        .client(&req.client_id)
        .ok_or_else(|| AdminError::field("client_id", format!("no client `{}`", req.client_id)))?;
    if let Some(Err(m)) = req.ttl.map(|t| crate::validate::lifetime(Seconds(t))) {
        return Err(AdminError::field("ttl", m));
    }
    if let Some(claims) = &req.claims {
        let errs: Vec<super::FieldIssue> = SET_BY_LATCHKEY
            .iter()
            .filter(|(name, _)| claims.contains_key(*name))
            .map(|(name, from)| {
                super::FieldIssue::new(
                    format!("claims.{name}"),
                    format!("`{name}` is set by Latchkey from {from}"),
                )
            })
            .collect();
        if !errs.is_empty() {
            return Err(AdminError::invalid(errs));
        }
    }
    let scopes = match &req.scopes {
        None => client.scopes.clone(),
        Some(list) => {
            let mut errs = Vec::new();
            for (i, s) in list.iter().enumerate() {
                if !crate::validate::is_scope_token(s) {
                    errs.push(super::FieldIssue::new(
                        format!("scopes[{i}]"),
                        format!("`{s}` is not a valid scope token"),
                    ));
                } else if !client.scopes.iter().any(|c| c == s) {
                    errs.push(super::FieldIssue::new(
                        format!("scopes[{i}]"),
                        format!(
                            "`{s}` is not among client `{}`'s scopes ({})",
                            client.client_id,
                            client.scopes.join(" ")
                        ),
                    ));
                }
            }
            if !errs.is_empty() {
                return Err(AdminError::invalid(errs));
            }
            let mut out: Vec<String> = Vec::new();
            for s in list {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            out
        }
    };
    let (subject, username) = match &req.username {
        None => (client.client_id.clone(), None),
        Some(name) => {
            let user = p
                .store
                .list_users()
                .await?
                .into_iter()
                .find(|u| u.user.username == *name)
                .ok_or_else(|| AdminError::field("username", format!("no user `{name}`")))?;
            (
                user.user.sub.unwrap_or_else(|| crate::ids::stable_sub(name)),
                Some(name.clone()),
            )
        }
    };
    let issued = issue::access_token(
        p,
        AccessTokenRequest {
            client: &client,
            subject,
            username,
            scopes,
            grant_type: "admin",
            grant_id: None,
            parent_id: None,
            ttl: req.ttl,
            extra_claims: req.claims.unwrap_or_default(),
        },
    )
    .await?;
    Ok(Minted {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in,
        scope: issued.record.scope.clone(),
        id: issued.record.id,
    })
}

#[cfg(test)]
mod duration_tests {
    use super::human_duration;

    #[test]
    fn durations_read_as_their_two_largest_units() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(-5), "0 s");
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(60), "1 min");
        assert_eq!(human_duration(3_596), "59 min 56 s");
        assert_eq!(human_duration(3_600), "1 h");
        assert_eq!(human_duration(7_530), "2 h 5 min");
        assert_eq!(human_duration(86_400 + 59), "1 d");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3_600 + 7), "3 d 4 h");
        assert_eq!(human_duration(i64::MAX), "106751991167300 d 15 h");
    }
}
