//! Measures how fast this machine signs JWTs with each algorithm Latchkey supports, on one
//! core: the ceiling for client-credentials token issuance.
//!
//!     cargo run --release --example sign_speed

use std::time::{Duration, Instant};

use latchkey::keys::SigningKey;
use latchkey::model::SigningAlg;

fn main() {
    for alg in [
        SigningAlg::RS256,
        SigningAlg::PS256,
        SigningAlg::ES256,
        SigningAlg::EdDSA,
    ] {
        let stored = match SigningKey::generate(alg, 0) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{alg}: {e}");
                continue;
            }
        };
        let keys = match latchkey::keys::Keys::from_stored(&[stored]) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{alg}: {e}");
                continue;
            }
        };
        let claims = serde_json::json!({"iss": "http://localhost:8000", "sub": "bench-client", "aud": "bench-client",
            "client_id": "bench-client", "scope": "read_books add_books", "iat": 1, "exp": 2, "jti": "x"});
        let started = Instant::now();
        let mut n = 0u32;
        while started.elapsed() < Duration::from_secs(2) {
            if keys.sign_jwt("at+jwt", &claims).is_err() {
                eprintln!("{alg}: signing failed");
                break;
            }
            n += 1;
        }
        let per_s = f64::from(n) / started.elapsed().as_secs_f64();
        println!(
            "{alg}: {per_s:>9.0} signatures/s on one core ({:.1} µs each)",
            1e6 / per_s
        );
    }
}
