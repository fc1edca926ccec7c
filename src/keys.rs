//! Signing keys: generation, persistence, signing, and the JWKS document (RFC 7517).
//!
//! The first start generates a key for `signing_alg` (RS256 2048-bit by default; PS256, ES256
//! and EdDSA too) and stores it. The `kid` is the key's RFC 7638 thumbprint. Retired keys stay
//! in the JWKS until their `expires_at`, so tokens they signed still verify; after that their
//! private key is wiped and only their public metadata stays in the store (for the Keys table).
//!
//! Signing uses aws-lc-rs key pairs parsed once at load; jsonwebtoken re-parses the private key
//! on every signature, which costs more than the signature itself at token-endpoint rates.

pub mod import;

use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType, Jwk,
    JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
    ThumbprintHash,
};
use serde::Serialize;

use crate::clock::Clock;
use crate::model::SigningAlg;
use crate::store::{Store, StoreError, StoredKey};

/// Key failures.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The crypto library refused.
    #[error("key error: {0}")]
    Crypto(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Signer {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A loaded signing key.
pub struct SigningKey {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// JOSE algorithm.
    pub alg: SigningAlg,
    /// The public JWK.
    pub jwk: Jwk,
    /// `active` or `retired`.
    pub status: String,
    /// Creation time.
    pub created_at: i64,
    /// When it stopped signing.
    pub retired_at: Option<i64>,
    /// When it leaves the JWKS.
    pub expires_at: Option<i64>,
    signer: Signer,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn crypto<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> KeyError + '_ {
    move |e| KeyError::Crypto(format!("{what}: {e}"))
}

impl SigningKey {
    /// Generates a fresh key pair for `alg` and returns its stored form.
    pub fn generate(alg: SigningAlg, now: i64) -> Result<StoredKey, KeyError> {
        let rng = SystemRandom::new();
        let der: Vec<u8> = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(crypto("RSA key generation"))?;
                kp.as_der().map_err(crypto("RSA key encoding"))?.as_ref().to_vec()
            }
            SigningAlg::ES256 => EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(crypto("EC key generation"))?
                .as_ref()
                .to_vec(),
            SigningAlg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(crypto("Ed25519 key generation"))?
                .as_ref()
                .to_vec(),
        };
        let key = SigningKey::load(alg, &der, None, "active", now, None, None)?;
        let public_jwk = serde_json::to_string(&key.jwk).map_err(crypto("JWK encoding"))?;
        Ok(StoredKey {
            kid: key.kid,
            alg: alg.as_str().to_string(),
            private_der: der,
            public_jwk,
            status: "active".into(),
            created_at: now,
            retired_at: None,
            expires_at: None,
        })
    }

    /// Loads a stored key.
    pub fn from_stored(k: &StoredKey) -> Result<SigningKey, KeyError> {
        let alg = SigningAlg::parse(&k.alg).ok_or_else(|| KeyError::Crypto(format!("unknown algorithm {}", k.alg)))?;
        SigningKey::load(
            alg,
            &k.private_der,
            Some(&k.kid),
            &k.status,
            k.created_at,
            k.retired_at,
            k.expires_at,
        )
    }

    /// The stored form of a fixed key from the config file (`[[keys]]`): `der` is its PKCS#8
    /// document (see [`import_private_key`]), `kid` is kept as given (not the thumbprint).
    pub fn fixed(kid: &str, alg: SigningAlg, der: &[u8], now: i64) -> Result<StoredKey, KeyError> {
        let key = SigningKey::load(alg, der, Some(kid), "active", now, None, None)?;
        let public_jwk = serde_json::to_string(&key.jwk).map_err(crypto("JWK encoding"))?;
        Ok(StoredKey {
            kid: key.kid,
            alg: alg.as_str().to_string(),
            private_der: der.to_vec(),
            public_jwk,
            status: "active".into(),
            created_at: now,
            retired_at: None,
            expires_at: None,
        })
    }

    /// `kid`: the stored key id; `None` derives it (RFC 7638 thumbprint) for a new key.
    fn load(
        alg: SigningAlg,
        der: &[u8],
        kid: Option<&str>,
        status: &str,
        created_at: i64,
        retired_at: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<SigningKey, KeyError> {
        let (signer, params) = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let kp = RsaKeyPair::from_pkcs8(der).map_err(crypto("RSA key"))?;
                let pk = kp.public_key();
                let params = AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: B64.encode(pk.modulus().big_endian_without_leading_zero()),
                    e: B64.encode(pk.exponent().big_endian_without_leading_zero()),
                });
                let enc: &'static dyn signature::RsaEncoding = if alg == SigningAlg::RS256 {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                };
                (Signer::Rsa(kp, enc), params)
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(crypto("EC key"))?;
                // Uncompressed point: 0x04 || x (32) || y (32).
                let point = kp.public_key().as_ref().to_vec();
                let (x, y) = match point.as_slice() {
                    [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => return Err(KeyError::Crypto("unexpected EC public key encoding".into())),
                };
                let params = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: B64.encode(x),
                    y: B64.encode(y),
                });
                (Signer::Ec(kp), params)
            }
            SigningAlg::EdDSA => {
                let kp = Ed25519KeyPair::from_pkcs8(der).map_err(crypto("Ed25519 key"))?;
                let params = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: B64.encode(kp.public_key().as_ref()),
                });
                (Signer::Ed(kp), params)
            }
        };
        let mut jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm(alg)),
                ..CommonParameters::default()
            },
            algorithm: params,
        };
        let kid = match kid {
            Some(k) => k.to_string(),
            None => jwk
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(crypto("JWK thumbprint"))?,
        };
        jwk.common.key_id = Some(kid.clone());
        Ok(SigningKey {
            kid,
            alg,
            jwk,
            status: status.to_string(),
            created_at,
            retired_at,
            expires_at,
            signer,
        })
    }

    /// Signs `msg`, returning the JWS signature bytes.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(kp, enc) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(*enc, &rng, msg, &mut sig).map_err(crypto("RSA signing"))?;
                Ok(sig)
            }
            Signer::Ec(kp) => Ok(kp.sign(&rng, msg).map_err(crypto("EC signing"))?.as_ref().to_vec()),
            Signer::Ed(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
        }
    }

    /// The jsonwebtoken algorithm, for verification.
    pub fn jwt_algorithm(&self) -> jsonwebtoken::Algorithm {
        match self.alg {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::PS256 => jsonwebtoken::Algorithm::PS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

fn key_algorithm(alg: SigningAlg) -> KeyAlgorithm {
    match alg {
        SigningAlg::RS256 => KeyAlgorithm::RS256,
        SigningAlg::PS256 => KeyAlgorithm::PS256,
        SigningAlg::ES256 => KeyAlgorithm::ES256,
        SigningAlg::EdDSA => KeyAlgorithm::EdDSA,
    }
}

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

struct Ring {
    active: Arc<SigningKey>,
    published: Vec<Arc<SigningKey>>,
    jwks: Bytes,
    /// The earliest `expires_at` among the published keys: from then on the ring is stale.
    next_expiry: Option<i64>,
}

/// Whether the first signing key is there yet.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Readiness {
    /// Being generated in the background ([`Keys::start`]).
    Pending,
    /// Loaded.
    Ready,
    /// Generating or storing it failed (the message).
    Failed(String),
}

/// The server's keys: the active signing key and every key still published.
///
/// With a clock ([`Keys::with_clock`]), a retired key leaves the JWKS and stops verifying as
/// soon as the clock passes its `expires_at`, without waiting for a reload (the virtual clock
/// can jump past a retention time at any moment).
///
/// A fresh database has no key yet, and an RSA key takes about 100 ms to generate.
/// [`Keys::start`] returns at once and generates it in the background, so the server answers
/// discovery while it is made; whatever needs the key waits for [`Keys::ready`] first (the HTTP
/// layer does it for every request but discovery and the UI's files). Until then the accessors
/// see no key: [`Keys::sign_jwt`] fails, [`Keys::jwks_json`] is an empty set,
/// [`Keys::is_published`] is false.
pub struct Keys {
    ring: Arc<RwLock<Option<Arc<Ring>>>>,
    clock: Option<Clock>,
    /// The algorithm of the key being generated (then of the active key).
    alg: SigningAlg,
    ready: Arc<tokio::sync::watch::Sender<Readiness>>,
}

impl Keys {
    fn loaded(ring: Ring) -> Keys {
        let alg = ring.active.alg;
        Keys {
            ring: Arc::new(RwLock::new(Some(Arc::new(ring)))),
            clock: None,
            alg,
            ready: Arc::new(tokio::sync::watch::Sender::new(Readiness::Ready)),
        }
    }

    /// Loads the stored keys, dropping retired keys past their publication time. If no active
    /// key of `alg` exists, generates one and retires the previous active key, which stays
    /// published for `retention` seconds. Returns once the key is there.
    pub async fn load(store: &Store, alg: SigningAlg, now: i64, retention: i64) -> Result<Keys, KeyError> {
        let keys = Keys::start(store, alg, now, retention).await?;
        keys.ready().await?;
        Ok(keys)
    }

    /// As [`Keys::load`], but a key that must be generated is generated (and stored) in the
    /// background: this returns as soon as the stored keys are read. Await [`Keys::ready`]
    /// before signing or publishing.
    pub async fn start(store: &Store, alg: SigningAlg, now: i64, retention: i64) -> Result<Keys, KeyError> {
        store.purge_expired_keys(now).await?;
        let stored = published_at(store.list_keys().await?, now);
        if stored.iter().any(|k| k.status == "active" && k.alg == alg.as_str()) {
            return Ok(Keys::loaded(build_ring(&stored)?));
        }
        let keys = Keys {
            ring: Arc::new(RwLock::new(None)),
            clock: None,
            alg,
            ready: Arc::new(tokio::sync::watch::Sender::new(Readiness::Pending)),
        };
        let (ring, ready, store) = (keys.ring.clone(), keys.ready.clone(), store.clone());
        tokio::spawn(async move {
            let made = async {
                let fresh = tokio::task::spawn_blocking(move || SigningKey::generate(alg, now))
                    .await
                    .map_err(|e| KeyError::Crypto(e.to_string()))??;
                store.activate_key(fresh, now.saturating_add(retention)).await?;
                build_ring(&published_at(store.list_keys().await?, now))
            }
            .await;
            match made {
                Ok(r) => {
                    put(&ring, Arc::new(r));
                    ready.send_replace(Readiness::Ready);
                }
                Err(e) => {
                    tracing::error!("cannot make the signing key: {e}");
                    ready.send_replace(Readiness::Failed(e.to_string()));
                }
            }
        });
        Ok(keys)
    }

    /// Resolves once the signing key is loaded (at once, unless [`Keys::start`] is still
    /// generating it); fails if generating or storing it failed.
    pub async fn ready(&self) -> Result<(), KeyError> {
        let mut rx = self.ready.subscribe();
        let state = rx
            .wait_for(|s| *s != Readiness::Pending)
            .await
            .map(|s| s.clone())
            .unwrap_or_else(|_| Readiness::Failed("the key generation task ended".into()));
        match state {
            Readiness::Failed(e) => Err(KeyError::Crypto(format!("no signing key: {e}"))),
            _ => Ok(()),
        }
    }

    /// Whether the signing key is loaded (no waiting).
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow() == Readiness::Ready
    }

    /// Filters expired keys out at read time by `clock` (see [`Keys`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Keys {
        self.clock = Some(clock);
        self
    }

    /// Installs the config file's fixed keys (`[[keys]]`, already converted with
    /// [`SigningKey::fixed`]): the first becomes the active key, the others are published
    /// without signing; the key that was active before is retired and stays published for
    /// `retention` seconds, as after a rotation. A stored key with the same `kid` is replaced
    /// (the file wins). Then loads the ring. `fixed` must not be empty.
    pub async fn load_fixed(store: &Store, fixed: Vec<StoredKey>, now: i64, retention: i64) -> Result<Keys, KeyError> {
        store
            .install_fixed_keys(fixed, now, now.saturating_add(retention))
            .await?;
        store.purge_expired_keys(now).await?;
        let stored = published_at(store.list_keys().await?, now);
        Ok(Keys::loaded(build_ring(&stored)?))
    }

    /// A key ring built from stored keys without a database (benchmarks, tools). One of them
    /// must be active.
    pub fn from_stored(keys: &[StoredKey]) -> Result<Keys, KeyError> {
        Ok(Keys::loaded(build_ring(keys)?))
    }

    /// Replaces the loaded keys with the store's (after a rotation or a reset).
    pub async fn reload(&self, store: &Store, now: i64) -> Result<(), KeyError> {
        store.purge_expired_keys(now).await?;
        let ring = build_ring(&published_at(store.list_keys().await?, now))?;
        put(&self.ring, Arc::new(ring));
        self.ready.send_replace(Readiness::Ready);
        Ok(())
    }

    fn ring(&self) -> Option<Arc<Ring>> {
        let ring = match self.ring.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }?;
        let Some(clock) = &self.clock else {
            return Some(ring);
        };
        let now = clock.now();
        if ring.next_expiry.is_none_or(|e| e > now) {
            return Some(ring);
        }
        // A key's publication ended since the ring was built: drop it (the store purges it at
        // the next reload or start).
        let kept: Vec<Arc<SigningKey>> = ring
            .published
            .iter()
            .filter(|k| k.expires_at.is_none_or(|e| e > now))
            .cloned()
            .collect();
        let fresh = match ring_of(ring.active.clone(), kept) {
            Ok(r) => Arc::new(r),
            Err(e) => {
                tracing::warn!("cannot rebuild the JWKS: {e}");
                return Some(ring);
            }
        };
        match self.ring.write() {
            Ok(mut g) => {
                if g.as_ref().is_some_and(|cur| Arc::ptr_eq(cur, &ring)) {
                    *g = Some(fresh.clone());
                }
            }
            Err(poisoned) => *poisoned.into_inner() = Some(fresh.clone()),
        }
        Some(fresh)
    }

    /// The signing algorithm: the active key's, or the one of the key being generated.
    /// Never waits (discovery advertises it before the key exists).
    pub fn alg(&self) -> SigningAlg {
        self.ring().map_or(self.alg, |r| r.active.alg)
    }

    /// The active key's id and algorithm (an empty id while the first key is generated).
    pub fn active(&self) -> (String, SigningAlg) {
        match self.ring() {
            Some(ring) => (ring.active.kid.clone(), ring.active.alg),
            None => (String::new(), self.alg),
        }
    }

    /// Every published key (active first); none while the first key is generated.
    pub fn published(&self) -> Vec<Arc<SigningKey>> {
        self.ring().map(|r| r.published.clone()).unwrap_or_default()
    }

    /// The JWKS document (RFC 7517 §5), public keys only; an empty set while the first key is
    /// generated.
    pub fn jwks_json(&self) -> Bytes {
        self.ring()
            .map_or_else(|| Bytes::from_static(b"{\"keys\":[]}"), |r| r.jwks.clone())
    }

    /// Whether `kid` is still published (so a token signed with it can still be verified).
    pub fn is_published(&self, kid: &str) -> bool {
        self.ring().is_some_and(|r| r.published.iter().any(|k| k.kid == kid))
    }

    /// Signs `claims` as a compact JWS with the active key, `typ` as given (RFC 7515 §4.1.9).
    /// Returns the token and the `kid` used.
    pub fn sign_jwt<T: Serialize>(&self, typ: &str, claims: &T) -> Result<(String, String), KeyError> {
        let ring = self
            .ring()
            .ok_or_else(|| KeyError::Crypto("the signing key is still being generated".into()))?;
        let key = &ring.active;
        let header = serde_json::to_vec(&JwsHeader {
            alg: key.alg.as_str(),
            typ,
            kid: &key.kid,
        })
        .map_err(crypto("JWT header"))?;
        let payload = serde_json::to_vec(claims).map_err(crypto("JWT claims"))?;
        let mut token = String::with_capacity(512);
        B64.encode_string(&header, &mut token);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let sig = key.sign(token.as_bytes())?;
        token.push('.');
        B64.encode_string(&sig, &mut token);
        Ok((token, key.kid.clone()))
    }
}

impl Keys {
    /// Signs a compact JWS over `header` and `payload` exactly as given, with the active key
    /// (the header's `alg` and `kid` are the caller's: fault injection uses this to make tokens
    /// whose header lies, e.g. an unknown `kid`). Returns the token.
    pub fn sign_raw(&self, header: &serde_json::Value, payload: &[u8]) -> Result<String, KeyError> {
        let ring = self
            .ring()
            .ok_or_else(|| KeyError::Crypto("the signing key is still being generated".into()))?;
        let header = serde_json::to_vec(header).map_err(crypto("JWT header"))?;
        let mut token = String::with_capacity(512);
        B64.encode_string(&header, &mut token);
        token.push('.');
        B64.encode_string(payload, &mut token);
        let sig = ring.active.sign(token.as_bytes())?;
        token.push('.');
        B64.encode_string(&sig, &mut token);
        Ok(token)
    }
}

/// The stored keys still in the JWKS at `now`: the active key and retired keys before their
/// `expires_at`.
fn published_at(stored: Vec<StoredKey>, now: i64) -> Vec<StoredKey> {
    stored
        .into_iter()
        .filter(|k| k.status == "active" || (k.expires_at.is_none_or(|e| e > now) && !k.private_der.is_empty()))
        .collect()
}

fn put(slot: &RwLock<Option<Arc<Ring>>>, ring: Arc<Ring>) {
    match slot.write() {
        Ok(mut g) => *g = Some(ring),
        Err(poisoned) => *poisoned.into_inner() = Some(ring),
    }
}

fn build_ring(stored: &[StoredKey]) -> Result<Ring, KeyError> {
    let mut published: Vec<Arc<SigningKey>> = Vec::new();
    for k in stored {
        published.push(Arc::new(SigningKey::from_stored(k)?));
    }
    published.sort_by_key(|k| (k.status != "active", -k.created_at));
    let active = published
        .iter()
        .find(|k| k.status == "active")
        .cloned()
        .ok_or_else(|| KeyError::Crypto("no active signing key".into()))?;
    ring_of(active, published)
}

fn ring_of(active: Arc<SigningKey>, published: Vec<Arc<SigningKey>>) -> Result<Ring, KeyError> {
    let set = JwkSet {
        keys: published.iter().map(|k| k.jwk.clone()).collect(),
    };
    let jwks = Bytes::from(serde_json::to_vec(&set).map_err(crypto("JWKS encoding"))?);
    let next_expiry = published.iter().filter_map(|k| k.expires_at).min();
    Ok(Ring {
        active,
        published,
        jwks,
        next_expiry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DbLocation;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_signs_and_verifies_with_its_jwk() {
        for alg in [
            SigningAlg::RS256,
            SigningAlg::PS256,
            SigningAlg::ES256,
            SigningAlg::EdDSA,
        ] {
            let stored = SigningKey::generate(alg, 0).unwrap();
            let key = SigningKey::from_stored(&stored).unwrap();
            let keys = Keys::loaded(build_ring(&[stored]).unwrap());
            let (token, kid) = keys
                .sign_jwt("at+jwt", &serde_json::json!({"sub": "x", "exp": 4_000_000_000u64}))
                .unwrap();
            assert_eq!(kid, key.kid);
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("at+jwt"));
            let jwks: JwkSet = serde_json::from_slice(&keys.jwks_json()).unwrap();
            let dk = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
            let mut v = jsonwebtoken::Validation::new(key.jwt_algorithm());
            v.validate_aud = false;
            let data =
                jsonwebtoken::decode::<serde_json::Value>(&token, &dk, &v).unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(data.claims["sub"], "x");
            // Public keys only.
            let text = String::from_utf8(keys.jwks_json().to_vec()).unwrap();
            assert!(!text.contains("\"d\""), "{text}");
        }
    }

    #[tokio::test]
    async fn a_missing_key_is_made_in_the_background_and_ready_says_when() {
        let store = Store::open(&DbLocation::Memory).await.unwrap();
        let keys = Keys::start(&store, SigningAlg::RS256, 100, 3600).await.unwrap();
        // Known before the key exists: what discovery advertises.
        assert_eq!(keys.alg(), SigningAlg::RS256);
        if !keys.is_ready() {
            assert!(keys.sign_jwt("at+jwt", &serde_json::json!({})).is_err());
            assert_eq!(&keys.jwks_json()[..], b"{\"keys\":[]}");
        }
        keys.ready().await.unwrap();
        assert!(keys.is_ready());
        let (kid, alg) = keys.active();
        assert_eq!(alg, SigningAlg::RS256);
        assert!(keys.is_published(&kid));
        let stored = store.list_keys().await.unwrap();
        assert_eq!(stored.len(), 1, "stored once");
        assert_eq!(stored[0].kid, kid);
        let (_, signed_kid) = keys.sign_jwt("at+jwt", &serde_json::json!({"sub": "x"})).unwrap();
        assert_eq!(signed_kid, kid);
        // The full strength key: a 2048-bit modulus.
        let jwks: JwkSet = serde_json::from_slice(&keys.jwks_json()).unwrap();
        let AlgorithmParameters::RSA(rsa) = &jwks.keys[0].algorithm else {
            panic!("not RSA")
        };
        assert_eq!(B64.decode(&rsa.n).unwrap().len() * 8, 2048);
        // The next start finds it.
        let again = Keys::start(&store, SigningAlg::RS256, 200, 3600).await.unwrap();
        assert!(again.is_ready());
        assert_eq!(again.active().0, kid);
    }

    #[tokio::test]
    async fn keys_persist_and_change_of_algorithm_retires_the_old_key() {
        let store = Store::open(&DbLocation::Memory).await.unwrap();
        let k1 = Keys::load(&store, SigningAlg::ES256, 100, 3600).await.unwrap();
        let (kid1, _) = k1.active();
        let k2 = Keys::load(&store, SigningAlg::ES256, 200, 3600).await.unwrap();
        assert_eq!(k2.active().0, kid1, "the stored key is reused");
        let k3 = Keys::load(&store, SigningAlg::EdDSA, 300, 3600).await.unwrap();
        assert_ne!(k3.active().0, kid1);
        assert!(k3.is_published(&kid1), "the retired key stays in the JWKS");
        let k4 = Keys::load(&store, SigningAlg::EdDSA, 300 + 3601, 3600).await.unwrap();
        assert!(!k4.is_published(&kid1), "and leaves it after the retention time");
        let gone = store.list_keys().await.unwrap().into_iter().find(|k| k.kid == kid1);
        let gone = gone.expect("its public metadata stays");
        assert!(gone.private_der.is_empty(), "but its private key is wiped");
        assert_eq!(gone.expires_at, Some(300 + 3600));
    }
}
