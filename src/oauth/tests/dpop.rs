//! The DPoP entry points (RFC 9449) driven directly: the PAR binding, the token endpoint's
//! per-client requirement, nonces and the task-local binding, with proofs signed by aws-lc-rs
//! and a clock frozen at [`T0`].

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::{T0, client, provider, provider_with};
use crate::model::{GrantType, Settings};
use crate::oauth::ErrorCode;
use crate::oauth::dpop::{self, DpopSeen, ProofRequest, proof};

struct Key {
    pair: EcdsaKeyPair,
    jwk: Value,
}

fn key() -> Key {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let pt = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&pt[1..33]), "y": B64.encode(&pt[33..65])});
    Key { pair, jwk }
}

impl Key {
    fn proof(&self, htm: &str, htu: &str, extra: Value) -> String {
        let mut claims = json!({"jti": crate::ids::token_id(), "htm": htm, "htu": htu, "iat": T0});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let input = format!(
            "{}.{}",
            B64.encode(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}).to_string()),
            B64.encode(claims.to_string())
        );
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    fn jkt(&self) -> String {
        proof::thumbprint(self.jwk.as_object().unwrap()).unwrap()
    }
}

const PAR: &str = "http://localhost:8000/par";

fn req<'a>(proofs: &'a [&'a [u8]]) -> ProofRequest<'a> {
    ProofRequest {
        proofs,
        method: "POST",
        path: "/par",
    }
}

#[tokio::test]
async fn the_par_binding_comes_from_the_proof_or_dpop_jkt_and_they_must_agree() {
    let p = provider().await;
    let k = key();
    let seen = DpopSeen::default();
    // No proof, no dpop_jkt: nothing to bind.
    assert_eq!(dpop::at_par_endpoint(&p, &req(&[]), None, &seen).unwrap(), None);
    // dpop_jkt alone binds the code to it.
    let jkt = k.jkt();
    assert_eq!(
        dpop::at_par_endpoint(&p, &req(&[]), Some(&jkt), &seen).unwrap(),
        Some(jkt.clone())
    );
    let e = dpop::at_par_endpoint(&p, &req(&[]), Some("short"), &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    // A proof binds to its key, with or without a matching dpop_jkt.
    let one = k.proof("POST", PAR, json!({}));
    assert_eq!(
        dpop::at_par_endpoint(&p, &req(&[one.as_bytes()]), None, &seen).unwrap(),
        Some(jkt.clone())
    );
    assert!(seen.take().unwrap().accepted);
    let two = k.proof("POST", PAR, json!({}));
    assert_eq!(
        dpop::at_par_endpoint(&p, &req(&[two.as_bytes()]), Some(&jkt), &seen).unwrap(),
        Some(jkt.clone())
    );
    // A dpop_jkt naming another key than the proof's is refused (RFC 9449 §10.1).
    let other = key().jkt();
    let three = k.proof("POST", PAR, json!({}));
    let e = dpop::at_par_endpoint(&p, &req(&[three.as_bytes()]), Some(&other), &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    // A proof for the token endpoint is not one for PAR.
    let wrong = k.proof("POST", "http://localhost:8000/token", json!({}));
    let e = dpop::at_par_endpoint(&p, &req(&[wrong.as_bytes()]), None, &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    let report = seen.take().unwrap();
    assert_eq!(report.endpoint, "par");
    assert_eq!(report.first_failure().unwrap().check, "htu");
}

#[tokio::test]
async fn a_client_with_dpop_bound_access_tokens_needs_a_proof() {
    let p = provider().await;
    let mut c = client("c", Some("s"), &[GrantType::ClientCredentials], &["read"]);
    let seen = DpopSeen::default();
    let token_req = |proofs| ProofRequest {
        proofs,
        method: "POST",
        path: "/token",
    };
    assert_eq!(dpop::at_token_endpoint(&p, &c, &token_req(&[]), &seen).unwrap(), None);
    c.dpop_bound_access_tokens = true;
    let e = dpop::at_token_endpoint(&p, &c, &token_req(&[]), &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    let k = key();
    let pr = k.proof("POST", "http://localhost:8000/token", json!({}));
    assert_eq!(
        dpop::at_token_endpoint(&p, &c, &token_req(&[pr.as_bytes()]), &seen).unwrap(),
        Some(k.jkt())
    );
}

#[tokio::test]
async fn nonces_are_required_when_set_and_only_a_nonce_failure_is_use_dpop_nonce() {
    let p = provider_with(Settings {
        use_dpop_nonce: true,
        ..Settings::default()
    })
    .await;
    let k = key();
    let seen = DpopSeen::default();
    let pr = k.proof("POST", PAR, json!({}));
    let e = dpop::at_par_endpoint(&p, &req(&[pr.as_bytes()]), None, &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::UseDpopNonce);
    let nonce = e.dpop_nonce.clone().unwrap();
    // Wrong method and no nonce: the proof is invalid, the nonce still offered.
    let pr = k.proof("GET", PAR, json!({}));
    let e = dpop::at_par_endpoint(&p, &req(&[pr.as_bytes()]), None, &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    assert_eq!(e.dpop_nonce.as_deref(), Some(nonce.as_str()));
    // The retry with the nonce works.
    let pr = k.proof("POST", PAR, json!({"nonce": nonce}));
    assert!(dpop::at_par_endpoint(&p, &req(&[pr.as_bytes()]), None, &seen).is_ok());
    // A day later (server clock) the nonce is stale.
    p.clock.advance(86_400);
    let pr = k.proof("POST", PAR, json!({"nonce": nonce}));
    let e = dpop::at_par_endpoint(&p, &req(&[pr.as_bytes()]), None, &seen).unwrap_err();
    assert_eq!(e.code, ErrorCode::UseDpopNonce);
    assert_ne!(e.dpop_nonce.as_deref(), Some(nonce.as_str()));
}

#[tokio::test]
async fn the_binding_is_only_in_force_inside_bind() {
    assert_eq!(dpop::bound_jkt(), None);
    let inside = dpop::bind(Some("k".into()), async { dpop::bound_jkt() }).await;
    assert_eq!(inside.as_deref(), Some("k"));
    assert_eq!(dpop::bound_jkt(), None);
    let e = dpop::bind(Some("a".into()), async { dpop::require_key(Some("b"), "the code") })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    let e = dpop::require_key(Some("b"), "the code").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    assert!(dpop::require_key(None, "the code").is_ok());
}
