//! Every token Latchkey issues is recorded here, JWTs and opaque tokens alike, so that
//! introspection (RFC 7662), revocation (RFC 7009) and the GUI work for both.
//!
//! Tokens are found by the SHA-256 of their value: a token is recognised only if it is
//! byte-for-byte one that this server issued.

use serde::{Deserialize, Serialize};
use tokio_rusqlite::rusqlite::{self, OptionalExtension, Row, params};

use super::{Store, StoreError, from_json, json};
use crate::model::TokenFormat;

/// What Latchkey recorded about a token, in short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBrief {
    /// Access, refresh, id token or code.
    pub kind: TokenKind,
    /// The stored status.
    pub status: TokenStatus,
    /// Why it was revoked or consumed.
    pub status_reason: Option<String>,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// RFC 6749 §1.4
    AccessToken,
    /// RFC 6749 §1.5
    RefreshToken,
    /// OIDC Core §2
    IdToken,
    /// RFC 6749 §4.1.2
    AuthorizationCode,
}

impl TokenKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "access_token",
            TokenKind::RefreshToken => "refresh_token",
            TokenKind::IdToken => "id_token",
            TokenKind::AuthorizationCode => "authorization_code",
        }
    }

    /// The kind in words with its article, for messages: `an access token`, `a refresh
    /// token`, `an id token`, `an authorization code`.
    pub fn with_article(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "an access token",
            TokenKind::RefreshToken => "a refresh token",
            TokenKind::IdToken => "an id token",
            TokenKind::AuthorizationCode => "an authorization code",
        }
    }

    fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "access_token" => Some(TokenKind::AccessToken),
            "refresh_token" => Some(TokenKind::RefreshToken),
            "id_token" => Some(TokenKind::IdToken),
            "authorization_code" => Some(TokenKind::AuthorizationCode),
            _ => None,
        }
    }
}

/// The stored status. "Expired" is not stored: it follows from `expires_at` and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Usable until it expires.
    Active,
    /// Revoked (RFC 7009, a replayed code, a reused refresh token, the admin).
    Revoked,
    /// Used up: an exchanged authorization code, a rotated refresh token.
    Consumed,
}

impl TokenStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Consumed => "consumed",
        }
    }

    fn parse(s: &str) -> Option<TokenStatus> {
        match s {
            "active" => Some(TokenStatus::Active),
            "revoked" => Some(TokenStatus::Revoked),
            "consumed" => Some(TokenStatus::Consumed),
            _ => None,
        }
    }
}

/// One issued token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    /// The `jti` (or a random id for opaque tokens and codes).
    pub id: String,
    /// SHA-256 of the token value.
    #[serde(skip)]
    pub hash: Vec<u8>,
    /// Access, refresh, id token or code.
    pub kind: TokenKind,
    /// JWT or opaque.
    pub format: TokenFormat,
    /// The client it was issued to.
    pub client_id: String,
    /// `sub`: the user's subject, or the client id for client credentials.
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
    /// Stored status.
    pub status: TokenStatus,
    /// When the status last changed.
    pub status_at: Option<i64>,
    /// Why it was revoked or consumed.
    pub status_reason: Option<String>,
    /// The grant that produced it.
    pub grant_type: String,
    /// The grant family (all tokens from one authorization), for cascading revocation.
    pub grant_id: Option<String>,
    /// The token it was derived from (a code, a refresh token).
    pub parent_id: Option<String>,
    /// The signing key, for JWTs.
    pub kid: Option<String>,
    /// The token's claims: the JWT payload, or what an opaque token stands for.
    pub claims: serde_json::Value,
    /// The token value itself.
    pub token: String,
    /// When this code or refresh token was presented again after it was used up (a replay,
    /// RFC 6749 §4.1.2 / OAuth 2.0 Security BCP §4.14), UNIX seconds; the first replay counts.
    pub replayed_at: Option<i64>,
}

/// Filters for listing tokens.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// Only this client's tokens.
    pub client_id: Option<String>,
    /// Only this user's tokens.
    pub username: Option<String>,
    /// Only this grant family's tokens.
    pub grant_id: Option<String>,
    /// Only tokens signed with none of these keys (or with no key): still verifiable.
    pub kid_not_in: Option<Vec<String>>,
    /// Only tokens signed with one of these keys.
    pub kid_in: Option<Vec<String>>,
    /// Only this kind.
    pub kind: Option<TokenKind>,
    /// Only this stored status.
    pub status: Option<TokenStatus>,
    /// Only tokens issued before this id's row (pagination cursor: the last id of a page).
    pub before_rowid: Option<i64>,
    /// Only tokens with `expires_at <= ` this (expired by then).
    pub expired_at: Option<i64>,
    /// Only tokens with `expires_at > ` this (not yet expired then).
    pub live_at: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

const COLUMNS: &str = "id, hash, kind, format, client_id, subject, username, scope, audience, issued_at, expires_at,
    status, status_at, status_reason, grant_type, grant_id, parent_id, kid, claims, token, replayed_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(TokenRecord, String, String)> {
    let kind: String = r.get(2)?;
    let format: String = r.get(3)?;
    let status: String = r.get(11)?;
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {what} `{v}`").into(),
        )
    };
    Ok((
        TokenRecord {
            id: r.get(0)?,
            hash: r.get(1)?,
            kind: TokenKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
            format: if format == "opaque" {
                TokenFormat::Opaque
            } else {
                TokenFormat::Jwt
            },
            client_id: r.get(4)?,
            subject: r.get(5)?,
            username: r.get(6)?,
            scope: r.get(7)?,
            audience: Vec::new(),
            issued_at: r.get(9)?,
            expires_at: r.get(10)?,
            status: TokenStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
            status_at: r.get(12)?,
            status_reason: r.get(13)?,
            grant_type: r.get(14)?,
            grant_id: r.get(15)?,
            parent_id: r.get(16)?,
            kid: r.get(17)?,
            claims: serde_json::Value::Null,
            token: r.get(19)?,
            replayed_at: r.get(20)?,
        },
        r.get(8)?,
        r.get(18)?,
    ))
}

fn finish(row: (TokenRecord, String, String)) -> Result<TokenRecord, StoreError> {
    let (mut rec, audience, claims) = row;
    rec.audience = from_json(&audience)?;
    rec.claims = from_json(&claims)?;
    Ok(rec)
}

impl Store {
    /// Records a newly issued token.
    pub async fn insert_token(&self, t: TokenRecord) -> Result<(), StoreError> {
        let audience = json(&t.audience)?;
        let claims = json(&t.claims)?;
        let cached = t.clone();
        self.w(move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO tokens (id, hash, kind, format, client_id, subject, username, scope, audience, issued_at,
                    expires_at, status, status_at, status_reason, grant_type, grant_id, parent_id, kid, claims, token,
                    replayed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            )?;
            st.execute(params![
                t.id,
                t.hash,
                t.kind.as_str(),
                t.format.as_str(),
                t.client_id,
                t.subject,
                t.username,
                t.scope,
                audience,
                t.issued_at,
                t.expires_at,
                t.status.as_str(),
                t.status_at,
                t.status_reason,
                t.grant_type,
                t.grant_id,
                t.parent_id,
                t.kid,
                claims,
                t.token,
                t.replayed_at
            ])?;
            Ok(())
        })
        .await?;
        self.tokens.put(cached);
        Ok(())
    }

    /// The token whose value hashes to `hash`.
    pub async fn find_token_by_hash(&self, hash: Vec<u8>) -> Result<Option<TokenRecord>, StoreError> {
        if let Some(hit) = self.tokens.get(&hash) {
            return Ok(Some(hit));
        }
        let found = self
            .r(move |c| {
                let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE hash = ?1"))?;
                let row = st.query_row([hash], from_row).optional()?;
                row.map(finish).transpose()
            })
            .await?;
        if let Some(r) = &found {
            self.tokens.put(r.clone());
        }
        Ok(found)
    }

    /// The kind and status of the token whose value hashes to `hash` (the cache first, without
    /// copying the record).
    pub async fn token_summary_by_hash(&self, hash: Vec<u8>) -> Result<Option<TokenBrief>, StoreError> {
        if let Some(hit) = self.tokens.status(&hash) {
            return Ok(Some(hit));
        }
        Ok(self.find_token_by_hash(hash).await?.map(|r| TokenBrief {
            kind: r.kind,
            status: r.status,
            status_reason: r.status_reason,
        }))
    }

    /// The token with this id.
    pub async fn find_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let id = id.to_string();
        self.r(move |c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1"))?;
            let row = st.query_row([id], from_row).optional()?;
            row.map(finish).transpose()
        })
        .await
    }

    /// The tokens with these ids that exist, in the order given.
    pub async fn find_tokens(&self, ids: &[String]) -> Result<Vec<TokenRecord>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(t) = self.find_token(id).await? {
                found.push(t);
            }
        }
        Ok(found)
    }

    /// Sets the status of the still-active token `id`. Returns whether it changed.
    pub async fn set_token_status(
        &self,
        id: &str,
        status: TokenStatus,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (key, why) = (id.to_string(), reason.to_string());
        let changed = self
            .w(move |c| {
                Ok(c.execute(
                    "UPDATE tokens SET status = ?2, status_at = ?3, status_reason = ?4 WHERE id = ?1 AND status = 'active'",
                    params![key, status.as_str(), now, why],
                )? > 0)
            })
            .await?;
        if changed {
            self.tokens.set_status(id, status, now, reason);
        }
        Ok(changed)
    }

    /// Revokes every still-active token of a grant family. Returns the ids revoked.
    pub async fn revoke_grant(&self, grant_id: &str, reason: &str, now: i64) -> Result<Vec<String>, StoreError> {
        let (grant, why) = (grant_id.to_string(), reason.to_string());
        let ids = self
            .w(move |c| {
                let mut st = c.prepare_cached(
                    "UPDATE tokens SET status = 'revoked', status_at = ?2, status_reason = ?3
                     WHERE grant_id = ?1 AND status = 'active' RETURNING id",
                )?;
                let ids = st.query_map(params![grant, now, why], |r| r.get::<_, String>(0))?;
                Ok(ids.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        for id in &ids {
            self.tokens.set_status(id, TokenStatus::Revoked, now, reason);
        }
        Ok(ids)
    }

    /// Tokens newest first, filtered. Each comes with its row number (the pagination cursor).
    pub async fn list_tokens(&self, f: TokenFilter) -> Result<Vec<(i64, TokenRecord)>, StoreError> {
        self.r(move |c| {
            let mut sql = format!("SELECT {COLUMNS}, rowid FROM tokens WHERE 1 = 1");
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(v) = f.client_id {
                sql.push_str(" AND client_id = ?");
                args.push(v.into());
            }
            if let Some(v) = f.username {
                sql.push_str(" AND username = ?");
                args.push(v.into());
            }
            if let Some(v) = f.grant_id {
                sql.push_str(" AND grant_id = ?");
                args.push(v.into());
            }
            if let Some(kids) = f.kid_not_in.filter(|k| !k.is_empty()) {
                sql.push_str(" AND (kid IS NULL OR kid NOT IN (");
                sql.push_str(&vec!["?"; kids.len()].join(", "));
                sql.push_str("))");
                args.extend(kids.into_iter().map(Into::into));
            }
            if let Some(kids) = f.kid_in {
                if kids.is_empty() {
                    sql.push_str(" AND 0");
                } else {
                    sql.push_str(" AND kid IN (");
                    sql.push_str(&vec!["?"; kids.len()].join(", "));
                    sql.push(')');
                    args.extend(kids.into_iter().map(Into::into));
                }
            }
            if let Some(v) = f.kind {
                sql.push_str(" AND kind = ?");
                args.push(v.as_str().to_string().into());
            }
            if let Some(v) = f.status {
                sql.push_str(" AND status = ?");
                args.push(v.as_str().to_string().into());
            }
            if let Some(v) = f.expired_at {
                sql.push_str(" AND expires_at <= ?");
                args.push(v.into());
            }
            if let Some(v) = f.live_at {
                sql.push_str(" AND expires_at > ?");
                args.push(v.into());
            }
            if let Some(v) = f.before_rowid {
                sql.push_str(" AND rowid < ?");
                args.push(v.into());
            }
            sql.push_str(" ORDER BY rowid DESC LIMIT ?");
            args.push(i64::try_from(f.limit).unwrap_or(i64::MAX).into());
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
                Ok((r.get::<_, i64>(21)?, from_row(r)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (rowid, raw) = row?;
                out.push((rowid, finish(raw)?));
            }
            Ok(out)
        })
        .await
    }

    /// How many tokens are in each live state at `now`: `active`, `expired` (active but past
    /// `expires_at`), `key_retired` (active, unexpired, but signed with a key in `unpublished`,
    /// which has left the JWKS), `revoked`, `consumed`.
    pub async fn count_token_states(
        &self,
        now: i64,
        unpublished: Vec<String>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.r(move |c| {
            let kids = serde_json::to_string(&unpublished).unwrap_or_else(|_| "[]".into());
            let mut st = c.prepare_cached(
                "SELECT CASE WHEN status = 'active' AND expires_at <= ?1 THEN 'expired'
                    WHEN status = 'active' AND kid IN (SELECT value FROM json_each(?2)) THEN 'key_retired'
                    ELSE status END AS state,
                    count(*) FROM tokens GROUP BY state",
            )?;
            let rows = st.query_map(params![now, kids], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Marks the used-up code or refresh token `id` as presented again at `now` (the first
    /// replay is kept). Returns whether it was the first.
    pub async fn mark_replayed(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let key = id.to_string();
        let first = self
            .w(move |c| {
                Ok(c.execute(
                    "UPDATE tokens SET replayed_at = ?2 WHERE id = ?1 AND replayed_at IS NULL",
                    params![key, now],
                )? > 0)
            })
            .await?;
        if first {
            self.tokens.set_replayed(id, now);
        }
        Ok(first)
    }

    /// For the key `kid` at `now`: how many active, unexpired tokens it signed, how many of
    /// them are still unexpired at `cutoff` (UNIX seconds), and the latest `expires_at` among
    /// them.
    pub async fn key_usage(&self, kid: &str, now: i64, cutoff: i64) -> Result<(i64, i64, Option<i64>), StoreError> {
        let kid = kid.to_string();
        self.r(move |c| {
            let mut st = c.prepare_cached(
                "SELECT count(*), coalesce(sum(expires_at > ?3), 0), max(expires_at) FROM tokens
                 WHERE kid = ?1 AND status = 'active' AND expires_at > ?2",
            )?;
            Ok(st.query_row(params![kid, now, cutoff], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
        })
        .await
    }

    /// How many active, unexpired tokens each signing key signed.
    pub async fn count_live_tokens_by_kid(&self, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.r(move |c| {
            let mut st = c.prepare_cached(
                "SELECT kid, count(*) FROM tokens WHERE kid IS NOT NULL AND status = 'active' AND expires_at > ?1
                 GROUP BY kid",
            )?;
            let rows = st.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// How many tokens there are, by kind and stored status.
    pub async fn count_tokens(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.r(|c| {
            let mut st = c.prepare_cached("SELECT kind, status, count(*) FROM tokens GROUP BY kind, status")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
