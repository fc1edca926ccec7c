//! Makes a `private_key_jwt` client for the benchmarks: a fresh key pair, the `[[clients]]`
//! entry with its public key, and many single-use client assertions (RFC 7523 §2.2), each with
//! its own `jti`, valid 10 minutes (the longest Latchkey accepts).
//!
//!     cargo run --release --example client_assertions -- ALG CLIENT_ID AUD COUNT OUT_DIR
//!
//! ALG is RS256 or ES256. Writes OUT_DIR/client.toml (append it to a config file) and
//! OUT_DIR/assertions.txt (one assertion per line).

use std::io::Write;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey::keys::SigningKey;
use latchkey::model::SigningAlg;
use serde_json::{Map, Value, json};

/// The PKCS#1 key inside a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5), which
/// `EncodingKey::from_rsa_der` takes.
fn pkcs8_inner(der: &[u8]) -> Option<&[u8]> {
    fn element(der: &[u8], at: usize) -> Option<(u8, usize, usize)> {
        let tag = *der.get(at)?;
        let first = *der.get(at + 1)? as usize;
        if first < 0x80 {
            Some((tag, at + 2, at + 2 + first))
        } else {
            let n = first & 0x7f;
            let len = der
                .get(at + 2..at + 2 + n)?
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            Some((tag, at + 2 + n, at + 2 + n + len))
        }
    }
    let (_, body, _) = element(der, 0)?;
    let (_, _, version_end) = element(der, body)?;
    let (_, _, alg_end) = element(der, version_end)?;
    let (tag, start, end) = element(der, alg_end)?;
    (tag == 0x04).then(|| der.get(start..end)).flatten()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [alg, client_id, aud, count, out] = args.as_slice() else {
        return Err("usage: client_assertions ALG CLIENT_ID AUD COUNT OUT_DIR".into());
    };
    let count: usize = count.parse()?;
    let (signing, jws) = match alg.as_str() {
        "ES256" => (SigningAlg::ES256, Algorithm::ES256),
        "RS256" => (SigningAlg::RS256, Algorithm::RS256),
        other => return Err(format!("ALG must be RS256 or ES256, not {other}").into()),
    };
    let stored = SigningKey::generate(signing, 0)?;
    let key = match signing {
        SigningAlg::ES256 => EncodingKey::from_ec_der(&stored.private_der),
        _ => EncodingKey::from_rsa_der(pkcs8_inner(&stored.private_der).ok_or("not a PKCS#8 RSA key")?),
    };
    let mut jwk: Map<String, Value> = serde_json::from_str(&stored.public_jwk)?;
    jwk.insert("kid".into(), json!("bench-1"));
    let client = json!({"clients": [{
        "client_id": client_id,
        "name": format!("Benchmark client (private_key_jwt, {alg})"),
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": alg,
        "jwks": {"keys": [jwk]},
        "grant_types": ["client_credentials"],
        "scopes": ["read_books", "add_books"],
    }]});
    std::fs::write(format!("{out}/client.toml"), toml::to_string(&client)?)?;
    let now = latchkey::Clock::system().real_now();
    let mut header = Header::new(jws);
    header.kid = Some("bench-1".into());
    let mut file = std::io::BufWriter::new(std::fs::File::create(format!("{out}/assertions.txt"))?);
    for n in 0..count {
        let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 590,
                            "jti": format!("bench-{now}-{n}")});
        writeln!(file, "{}", jsonwebtoken::encode(&header, &claims, &key)?)?;
    }
    file.flush()?;
    Ok(())
}
