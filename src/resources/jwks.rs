//! The JWKS the simulated API holds: a snapshot of Latchkey's published keys, taken when the
//! API "fetches" it (in process, no HTTP), kept for `jwks_cache` seconds measured on the API's
//! clock (Latchkey's clock plus `clock_offset`), refetched on an unknown `kid` when the policy
//! says so, at most once per cooldown.

use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};

use super::profiles::{KeyWithoutKid, Policy};
use crate::keys::Keys;
use crate::model::SigningAlg;

/// A verification key in the API's snapshot.
pub struct ApiKey {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub alg: SigningAlg,
    /// The public key, for jsonwebtoken.
    pub key: DecodingKey,
    /// The same key parsed once for aws-lc-rs (the backend jsonwebtoken uses), so a call does
    /// not rebuild the key for every signature; `None` falls back to jsonwebtoken.
    pub parsed: Option<ParsedPublicKey>,
    /// Signatures this key has verified: see [`Verified`].
    pub verified: Verified,
}

/// How many verified signatures each key remembers.
pub const VERIFIED_PER_KEY: usize = 1024;

/// The signatures a key has verified, newest kept ([`VERIFIED_PER_KEY`] at most): a token
/// sent again is not verified again. Whether a signature verifies depends only on the signing
/// input, the signature and the key, so the answer cannot go stale; everything that does
/// change (the clock, the API's JWKS, revocation) is checked on every call. API gateways do
/// the same (Envoy's `jwt_cache_config`). Keyed by the signature (base64url), the signing
/// input compared in full on a hit; only successes are kept.
#[derive(Debug)]
pub struct Verified(Mutex<hashlink::LruCache<Box<str>, Box<[u8]>>>);

impl Default for Verified {
    fn default() -> Self {
        Verified(Mutex::new(hashlink::LruCache::new(VERIFIED_PER_KEY)))
    }
}

impl Verified {
    fn lock(&self) -> std::sync::MutexGuard<'_, hashlink::LruCache<Box<str>, Box<[u8]>>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Whether `signature_b64` over `signing_input` verified before.
    fn contains(&self, signing_input: &[u8], signature_b64: &str) -> bool {
        self.lock()
            .get(signature_b64)
            .is_some_and(|input| &input[..] == signing_input)
    }

    fn insert(&self, signing_input: &[u8], signature_b64: &str) {
        self.lock().insert(signature_b64.into(), signing_input.into());
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// DER of a length (X.690 §8.1.3).
fn der_len(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, (n & 0xff) as u8]);
    }
}

/// DER of an unsigned INTEGER from big-endian bytes.
fn der_uint(bytes: &[u8], out: &mut Vec<u8>) {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0],
    };
    let pad = trimmed.first().is_some_and(|b| b & 0x80 != 0);
    out.push(0x02);
    der_len(trimmed.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
}

/// The PKCS#1 `RSAPublicKey` DER (RFC 8017 §A.1.1) of a modulus and exponent.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_uint(n, &mut body);
    der_uint(e, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(body.len(), &mut out);
    out.extend(body);
    out
}

/// Parses a published JWK once for verification with aws-lc-rs.
fn parse_once(jwk: &Jwk, alg: SigningAlg) -> Option<ParsedPublicKey> {
    let b64 = |s: &str| B64.decode(s.trim_end_matches('=')).ok();
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(rsa), SigningAlg::RS256 | SigningAlg::PS256) => {
            let der = rsa_public_key_der(&b64(&rsa.n)?, &b64(&rsa.e)?);
            let params: &'static dyn signature::VerificationAlgorithm = if alg == SigningAlg::RS256 {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            ParsedPublicKey::new(params, der).ok()
        }
        (AlgorithmParameters::EllipticCurve(ec), SigningAlg::ES256) => {
            let mut point = vec![0x04];
            point.extend(b64(&ec.x)?);
            point.extend(b64(&ec.y)?);
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).ok()
        }
        (AlgorithmParameters::OctetKeyPair(okp), SigningAlg::EdDSA) => {
            ParsedPublicKey::new(&signature::ED25519, b64(&okp.x)?).ok()
        }
        _ => None,
    }
}

impl ApiKey {
    /// Verifies a JWS signature (`signature`: base64url) over `signing_input` with this key,
    /// for the key's own algorithm.
    /// A signature verified before (see [`Verified`]) is not verified again.
    pub fn verify(&self, signing_input: &[u8], signature_b64: &str) -> bool {
        if self.verified.contains(signing_input, signature_b64) {
            return true;
        }
        let ok = self.verify_uncached(signing_input, signature_b64);
        if ok {
            self.verified.insert(signing_input, signature_b64);
        }
        ok
    }

    fn verify_uncached(&self, signing_input: &[u8], signature_b64: &str) -> bool {
        if let Some(parsed) = &self.parsed {
            return B64
                .decode(signature_b64.trim_end_matches('='))
                .is_ok_and(|sig| parsed.verify_sig(signing_input, &sig).is_ok());
        }
        let alg = match self.alg {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::PS256 => jsonwebtoken::Algorithm::PS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        };
        jsonwebtoken::crypto::verify(signature_b64, signing_input, &self.key, alg).unwrap_or(false)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// When the snapshot was taken (API clock, UNIX seconds); `None`: never fetched.
    fetched_at: Option<i64>,
    keys: Arc<Vec<Arc<ApiKey>>>,
}

/// How the key for a `kid` was found, or why not.
#[derive(Debug, Clone)]
pub enum KidLookup {
    /// In the cached snapshot, still fresh.
    Cached {
        /// The key.
        key: Arc<ApiKey>,
        /// Seconds since the snapshot was taken.
        age: i64,
    },
    /// The snapshot had expired (or none was held): fetched now, and found.
    Fetched {
        /// The key.
        key: Arc<ApiKey>,
        /// Why it was fetched: `first` or `expired`.
        reason: &'static str,
    },
    /// Unknown in the snapshot; the JWKS was refetched because of it, and the key found.
    Refetched {
        /// The key.
        key: Arc<ApiKey>,
        /// How old the stale snapshot was.
        stale_age: i64,
    },
    /// Unknown, and the API does not refetch on unknown kids: it waits for the cache to expire.
    StaleNoRefetch {
        /// How old the snapshot is.
        age: i64,
        /// Seconds until it expires.
        expires_in: i64,
        /// Whether Latchkey's current JWKS has the key (so the cache is the only problem).
        in_current_jwks: bool,
    },
    /// Unknown; a refetch would be allowed but the cooldown has not passed.
    CoolingDown {
        /// Seconds since the last fetch.
        since: i64,
        /// The cooldown.
        cooldown: u64,
        /// Whether Latchkey's current JWKS has the key.
        in_current_jwks: bool,
    },
    /// Not in Latchkey's current JWKS either (after a refetch, or a fresh fetch).
    NotPublished {
        /// Whether the JWKS was fetched for this request.
        fetched: bool,
    },
}

impl KidLookup {
    /// The key, when one was found.
    pub fn key(&self) -> Option<&Arc<ApiKey>> {
        match self {
            KidLookup::Cached { key, .. } | KidLookup::Fetched { key, .. } | KidLookup::Refetched { key, .. } => {
                Some(key)
            }
            _ => None,
        }
    }
}

/// One resource's JWKS cache.
#[derive(Default)]
pub struct ApiJwks {
    state: Mutex<State>,
}

fn snapshot(keys: &Keys) -> Arc<Vec<Arc<ApiKey>>> {
    let keys = keys
        .published()
        .iter()
        .filter_map(|k| {
            DecodingKey::from_jwk(&k.jwk).ok().map(|key| {
                Arc::new(ApiKey {
                    kid: k.kid.clone(),
                    alg: k.alg,
                    key,
                    parsed: parse_once(&k.jwk, k.alg),
                    verified: Verified::default(),
                })
            })
        })
        .collect();
    Arc::new(keys)
}

/// The key for `kid` in `keys`; without a `kid`, as `without_kid` says (the only key of the
/// token's algorithm, the only key, or none).
fn find(
    keys: &[Arc<ApiKey>],
    kid: Option<&str>,
    alg: Option<SigningAlg>,
    without_kid: KeyWithoutKid,
) -> Option<Arc<ApiKey>> {
    fn single<'a>(mut it: impl Iterator<Item = &'a Arc<ApiKey>>) -> Option<Arc<ApiKey>> {
        match (it.next(), it.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    }
    match (kid, without_kid) {
        (Some(kid), _) => keys.iter().find(|k| k.kid == kid).cloned(),
        (None, KeyWithoutKid::OnlyKeyOfAlg) => single(keys.iter().filter(|k| Some(k.alg) == alg)),
        (None, KeyWithoutKid::OnlyKey) => single(keys.iter()),
        (None, KeyWithoutKid::Refused) => None,
    }
}

impl ApiJwks {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Looks `kid` up as the API would at `api_now` (API clock, seconds), with the cache
    /// lifetime, refetch switch and cooldown of `policy`.
    pub fn lookup(
        &self,
        keys: &Keys,
        kid: Option<&str>,
        alg: Option<SigningAlg>,
        api_now: i64,
        policy: &Policy,
    ) -> KidLookup {
        let (cache_secs, refetch_on_unknown, cooldown) = (
            policy.jwks_cache,
            policy.jwks_refetch_on_unknown_kid,
            policy.jwks_refetch_cooldown,
        );
        let cache = i64::try_from(cache_secs).unwrap_or(i64::MAX);
        let mut st = self.lock();
        let fresh_reason = match st.fetched_at {
            None => Some("first"),
            Some(at) if api_now.saturating_sub(at) >= cache || api_now < at => Some("expired"),
            Some(_) => None,
        };
        if let Some(reason) = fresh_reason {
            st.keys = snapshot(keys);
            st.fetched_at = Some(api_now);
            return match find(&st.keys, kid, alg, policy.key_without_kid) {
                Some(key) => KidLookup::Fetched { key, reason },
                None => KidLookup::NotPublished { fetched: true },
            };
        }
        let age = api_now.saturating_sub(st.fetched_at.unwrap_or(api_now));
        if let Some(key) = find(&st.keys, kid, alg, policy.key_without_kid) {
            return KidLookup::Cached { key, age };
        }
        let current = snapshot(keys);
        let in_current_jwks = find(&current, kid, alg, policy.key_without_kid).is_some();
        if !refetch_on_unknown {
            return KidLookup::StaleNoRefetch {
                age,
                expires_in: cache.saturating_sub(age),
                in_current_jwks,
            };
        }
        // As jose's RemoteJWKSet does: the cooldown runs from the last fetch of any kind.
        if let Some(last) = st.fetched_at {
            let since = api_now.saturating_sub(last);
            if since >= 0 && since < i64::try_from(cooldown).unwrap_or(i64::MAX) {
                return KidLookup::CoolingDown {
                    since,
                    cooldown,
                    in_current_jwks,
                };
            }
        }
        st.keys = current;
        st.fetched_at = Some(api_now);
        match find(&st.keys, kid, alg, policy.key_without_kid) {
            Some(key) => KidLookup::Refetched { key, stale_age: age },
            None => KidLookup::NotPublished { fetched: true },
        }
    }

    /// Forgets the snapshot (the API "restarts").
    pub fn clear(&self) {
        *self.lock() = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Keys, SigningKey};

    fn key(kid: &str, alg: SigningAlg) -> Arc<ApiKey> {
        Arc::new(ApiKey {
            kid: kid.into(),
            alg,
            key: DecodingKey::from_secret(b"unused"),
            parsed: None,
            verified: Verified::default(),
        })
    }

    #[test]
    fn a_token_without_kid_finds_a_key_as_the_profile_says() {
        use KeyWithoutKid::*;
        let one = [key("a", SigningAlg::RS256)];
        let two_algs = [key("a", SigningAlg::RS256), key("b", SigningAlg::ES256)];
        let two_same = [key("a", SigningAlg::ES256), key("b", SigningAlg::ES256)];
        let kid_of = |keys: &[Arc<ApiKey>], alg, how| find(keys, None, Some(alg), how).map(|k| k.kid.clone());
        // jose: the only key of the token's alg.
        assert_eq!(kid_of(&two_algs, SigningAlg::ES256, OnlyKeyOfAlg).as_deref(), Some("b"));
        assert_eq!(kid_of(&two_same, SigningAlg::ES256, OnlyKeyOfAlg), None);
        // jwks-rsa: the only key of the set, whatever its alg.
        assert_eq!(kid_of(&one, SigningAlg::ES256, OnlyKey).as_deref(), Some("a"));
        assert_eq!(kid_of(&two_algs, SigningAlg::ES256, OnlyKey), None);
        // PyJWKClient: by kid only.
        assert_eq!(kid_of(&one, SigningAlg::RS256, Refused), None);
        // A kid always finds its key.
        assert_eq!(
            find(&two_same, Some("b"), None, Refused)
                .map(|k| k.kid.clone())
                .as_deref(),
            Some("b")
        );
    }

    #[test]
    fn keys_parsed_once_verify_what_latchkey_signs_and_nothing_else() {
        for alg in [
            SigningAlg::RS256,
            SigningAlg::PS256,
            SigningAlg::ES256,
            SigningAlg::EdDSA,
        ] {
            let stored = SigningKey::generate(alg, 0).unwrap();
            let keys = Keys::from_stored(std::slice::from_ref(&stored)).unwrap();
            let (token, _) = keys.sign_jwt("at+jwt", &serde_json::json!({"sub": "x"})).unwrap();
            let k = &keys.published()[0];
            let api = ApiKey {
                kid: k.kid.clone(),
                alg,
                key: DecodingKey::from_jwk(&k.jwk).unwrap(),
                parsed: parse_once(&k.jwk, alg),
                verified: Verified::default(),
            };
            assert!(api.parsed.is_some(), "{alg}");
            let (input, sig) = token.rsplit_once('.').unwrap();
            assert!(api.verify(input.as_bytes(), sig), "{alg}");
            assert!(!api.verify(format!("{input}x").as_bytes(), sig), "{alg}");
            // Remembered once verified; a changed signing input with the same signature is
            // still refused (the input is compared in full), and failures are not remembered.
            assert_eq!(api.verified.len(), 1, "{alg}");
            assert!(api.verify(input.as_bytes(), sig), "{alg} again");
            assert!(
                !api.verify(format!("{input}x").as_bytes(), sig),
                "{alg} changed after a hit"
            );
            assert_eq!(api.verified.len(), 1, "{alg}");
            let jwt_only = ApiKey {
                parsed: None,
                verified: Verified::default(),
                ..api
            };
            assert!(jwt_only.verify(input.as_bytes(), sig), "{alg} via jsonwebtoken");
        }
    }
}
