//! Fixed signing keys from the config file (`[[keys]]`), for development only: a PEM private key
//! (PKCS#8, PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`) or a private JWK (RFC 7517 §4,
//! RFC 7518 §6) becomes the PKCS#8 document Latchkey stores, after checking that the key is of
//! the kind `alg` needs (RFC 7518 §3.1, RFC 8037 §3.1). And back: [`pem`] writes a stored key
//! as a PKCS#8 PEM (RFC 7468 §10) for `latchkey keys export`.
//!
//! Every error is a sentence for the user, naming what was found and what was expected.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use rustls::pki_types::pem::{PemObject, SectionKind};
use serde_json::{Map, Value};

use crate::model::SigningAlg;

/// Where a key comes from.
#[derive(Debug, Clone, Copy)]
pub enum KeyMaterial<'a> {
    /// PEM text (one private key).
    Pem(&'a str),
    /// A private JWK (`kty`, the public members and `d`, plus the CRT members for RSA).
    Jwk(&'a Map<String, Value>),
}

/// The kinds of private key Latchkey can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    P256,
    Ed25519,
}

impl Kind {
    fn of(alg: SigningAlg) -> Kind {
        match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => Kind::Rsa,
            SigningAlg::ES256 => Kind::P256,
            SigningAlg::EdDSA => Kind::Ed25519,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Rsa => "an RSA key (for RS256 or PS256)",
            Kind::P256 => "an EC P-256 key (for ES256)",
            Kind::Ed25519 => "an Ed25519 key (for EdDSA)",
        }
    }
}

/// The PKCS#8 v1 document of the key in `material`, which must be a private key of the kind
/// `alg` signs with (RSA 2048 to 8192 bits for RS256/PS256, EC P-256 for ES256, Ed25519 for
/// EdDSA). `Err` is a message for the user.
pub fn import_private_key(alg: SigningAlg, material: KeyMaterial<'_>) -> Result<Vec<u8>, String> {
    let (kind, der) = match material {
        KeyMaterial::Pem(text) => from_pem(text)?,
        KeyMaterial::Jwk(jwk) => from_jwk(jwk, alg)?,
    };
    let want = Kind::of(alg);
    if kind != want {
        return Err(format!(
            "alg is {alg} but the key is {}; {alg} needs {}",
            kind.describe(),
            want.describe()
        ));
    }
    Ok(der)
}

/// PKCS#8 DER as PEM (`-----BEGIN PRIVATE KEY-----`, 64-character lines, RFC 7468 §10).
pub fn pem(pkcs8: &[u8]) -> String {
    let b64 = STANDARD.encode(pkcs8);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

fn rejected(what: &str) -> impl FnOnce(aws_lc_rs::error::KeyRejected) -> String + '_ {
    move |e| format!("{what}: the key is not usable ({e})")
}

fn pkcs8_of<T: AsDer<aws_lc_rs::encoding::Pkcs8V1Der<'static>>>(k: &T) -> Result<Vec<u8>, String> {
    k.as_der()
        .map(|d| d.as_ref().to_vec())
        .map_err(|_| "cannot encode the key as PKCS#8".to_string())
}

/// Which kind of key a PKCS#8 document holds, tried in turn.
fn kind_of_pkcs8(der: &[u8]) -> Result<Kind, String> {
    if RsaKeyPair::from_pkcs8(der).is_ok() {
        return Ok(Kind::Rsa);
    }
    if EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der).is_ok() {
        return Ok(Kind::P256);
    }
    if Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).is_ok() {
        return Ok(Kind::Ed25519);
    }
    if let Err(e) = RsaKeyPair::from_pkcs8(der)
        && der.windows(9).any(|w| w == RSA_OID)
    {
        return Err(format!(
            "the RSA key is not usable ({e}); Latchkey signs with RSA keys of 2048 to 8192 bits"
        ));
    }
    if der.windows(7).any(|w| w == EC_OID) {
        return Err("the EC key is not on the P-256 curve; ES256 needs a P-256 (prime256v1) key".into());
    }
    Err("the PKCS#8 key is neither RSA, EC P-256 nor Ed25519".into())
}

/// DER of the OIDs rsaEncryption (1.2.840.113549.1.1.1) and id-ecPublicKey (1.2.840.10045.2.1),
/// only to explain why a key was refused.
const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

fn from_pem(text: &str) -> Result<(Kind, Vec<u8>), String> {
    let text = text.trim();
    if !text.starts_with("-----BEGIN ") {
        return Err("not PEM: expected text starting with `-----BEGIN PRIVATE KEY-----`".into());
    }
    let mut found = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes()) {
        let (kind, der) = section.map_err(|e| format!("not valid PEM: {e}"))?;
        match kind {
            SectionKind::PrivateKey => return Ok((kind_of_pkcs8(&der)?, der)),
            SectionKind::RsaPrivateKey => {
                let k = RsaKeyPair::from_der(&der).map_err(rejected("RSA PRIVATE KEY"))?;
                return Ok((Kind::Rsa, pkcs8_of(&k)?));
            }
            SectionKind::EcPrivateKey => {
                let k = EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|_| "EC PRIVATE KEY: not a P-256 key; ES256 needs a P-256 (prime256v1) key".to_string())?;
                let doc = k
                    .to_pkcs8v1()
                    .map_err(|_| "cannot encode the EC key as PKCS#8".to_string())?;
                return Ok((Kind::P256, doc.as_ref().to_vec()));
            }
            other => found.push(format!("{other:?}")),
        }
    }
    if text.contains("ENCRYPTED PRIVATE KEY") {
        return Err("the PEM key is encrypted; give an unencrypted key (`openssl pkcs8 -topk8 -nocrypt`)".into());
    }
    Err(if found.is_empty() {
        "no PEM section found".to_string()
    } else {
        format!(
            "no private key in the PEM (found {}); expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY",
            found.join(", ")
        )
    })
}

/// A base64url member of the JWK, decoded.
fn member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let v = jwk.get(name).ok_or_else(|| {
        if name == "d" {
            "the JWK has no `d`: it is a public key, and signing needs the private key".to_string()
        } else {
            format!("the JWK has no `{name}`")
        }
    })?;
    let s = v
        .as_str()
        .ok_or_else(|| format!("the JWK's `{name}` must be a base64url string"))?;
    B64.decode(s.trim_end_matches('='))
        .map_err(|_| format!("the JWK's `{name}` is not base64url (RFC 7515 §2)"))
}

fn text<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("the JWK's `{name}` must be a string")),
    }
}

fn from_jwk(jwk: &Map<String, Value>, alg: SigningAlg) -> Result<(Kind, Vec<u8>), String> {
    if let Some(a) = text(jwk, "alg")?
        && a != alg.as_str()
    {
        return Err(format!("the JWK says alg `{a}` but the key's alg is {alg}"));
    }
    if let Some(u) = text(jwk, "use")?
        && u != "sig"
    {
        return Err(format!(
            "the JWK's use is `{u}`; a signing key needs `sig` (or no `use`)"
        ));
    }
    let kty = text(jwk, "kty")?.ok_or("the JWK has no `kty`")?;
    match kty {
        "RSA" => {
            let (n, e, d) = (member(jwk, "n")?, member(jwk, "e")?, member(jwk, "d")?);
            let (p, q) = (member(jwk, "p")?, member(jwk, "q")?);
            let (dp, dq, qi) = (member(jwk, "dp")?, member(jwk, "dq")?, member(jwk, "qi")?);
            let strip = |v: &[u8]| -> Vec<u8> {
                let skip = v.iter().take_while(|b| **b == 0).count();
                v.get(skip..).unwrap_or_default().to_vec()
            };
            let components = KeyPairComponents {
                public_key: PublicKeyComponents {
                    n: strip(&n),
                    e: strip(&e),
                },
                d,
                p,
                q,
                dP: dp,
                dQ: dq,
                qInv: qi,
            };
            let k = RsaKeyPair::from_components(&components)
                .map_err(|e| format!("the RSA JWK's members do not form a usable key of 2048 to 8192 bits ({e})"))?;
            Ok((Kind::Rsa, pkcs8_of(&k)?))
        }
        "EC" => {
            let crv = text(jwk, "crv")?.ok_or("the EC JWK has no `crv`")?;
            if crv != "P-256" {
                return Err(format!("the EC JWK's curve is `{crv}`; ES256 needs P-256"));
            }
            let (x, y, d) = (member(jwk, "x")?, member(jwk, "y")?, member(jwk, "d")?);
            let mut point = vec![0x04];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            if d.len() > 32 {
                return Err("the EC JWK's `d` is longer than a P-256 private key (32 bytes)".into());
            }
            // RFC 5915 ECPrivateKey { version 1, privateKey d, parameters prime256v1 }: a fixed
            // template for 32-byte keys; the library derives the public point.
            let mut sec1 = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
            sec1.extend(std::iter::repeat_n(0u8, 32 - d.len()));
            sec1.extend_from_slice(&d);
            sec1.extend_from_slice(&[0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
            let k = EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &sec1)
                .map_err(|e| format!("the EC JWK's `d` is not a P-256 private key ({e})"))?;
            if k.public_key().as_ref() != point.as_slice() {
                return Err("the EC JWK's `x` and `y` are not the public key of its `d`".into());
            }
            let doc = k
                .to_pkcs8v1()
                .map_err(|_| "cannot encode the EC key as PKCS#8".to_string())?;
            Ok((Kind::P256, doc.as_ref().to_vec()))
        }
        "OKP" => {
            let crv = text(jwk, "crv")?.ok_or("the OKP JWK has no `crv`")?;
            if crv != "Ed25519" {
                return Err(format!(
                    "the OKP JWK's curve is `{crv}`; EdDSA needs Ed25519 (RFC 8037)"
                ));
            }
            let (x, d) = (member(jwk, "x")?, member(jwk, "d")?);
            let k = Ed25519KeyPair::from_seed_and_public_key(&d, &x)
                .map_err(|e| format!("the OKP JWK's `d` and `x` do not form an Ed25519 key pair ({e})"))?;
            let doc = k
                .to_pkcs8v1()
                .map_err(|_| "cannot encode the Ed25519 key as PKCS#8".to_string())?;
            Ok((Kind::Ed25519, doc.as_ref().to_vec()))
        }
        "oct" => Err("a symmetric (`oct`) JWK cannot sign asymmetric tokens; give an RSA, EC or OKP key".into()),
        other => Err(format!(
            "the JWK's kty `{other}` is not supported; use RSA, EC (P-256) or OKP (Ed25519)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;

    #[test]
    fn generated_keys_round_trip_through_pem() {
        for alg in [
            SigningAlg::RS256,
            SigningAlg::PS256,
            SigningAlg::ES256,
            SigningAlg::EdDSA,
        ] {
            let k = SigningKey::generate(alg, 0).unwrap();
            let text = pem(&k.private_der);
            let der = import_private_key(alg, KeyMaterial::Pem(&text)).unwrap();
            let again = SigningKey::fixed(&k.kid, alg, &der, 0).unwrap();
            assert_eq!(again.public_jwk, k.public_jwk, "{alg}");
        }
    }

    #[test]
    fn a_key_of_the_wrong_kind_names_both() {
        let ec = SigningKey::generate(SigningAlg::ES256, 0).unwrap();
        let err = import_private_key(SigningAlg::RS256, KeyMaterial::Pem(&pem(&ec.private_der))).unwrap_err();
        assert!(err.contains("alg is RS256 but the key is an EC P-256 key"), "{err}");
        let ed = SigningKey::generate(SigningAlg::EdDSA, 0).unwrap();
        let err = import_private_key(SigningAlg::ES256, KeyMaterial::Pem(&pem(&ed.private_der))).unwrap_err();
        assert!(err.contains("Ed25519"), "{err}");
    }

    #[test]
    fn an_rsa_jwk_and_its_pem_are_the_same_key() {
        // One RSA-2048 test key in both forms (`openssl genpkey`, its components as a JWK).
        let jwk: Map<String, Value> = serde_json::from_str(include_str!("testdata/rsa-2048.jwk.json")).unwrap();
        let from_jwk = import_private_key(SigningAlg::RS256, KeyMaterial::Jwk(&jwk)).unwrap();
        let from_pem = import_private_key(
            SigningAlg::PS256,
            KeyMaterial::Pem(include_str!("testdata/rsa-2048.pem")),
        )
        .unwrap();
        let a = SigningKey::fixed("k", SigningAlg::RS256, &from_jwk, 0).unwrap();
        let b = SigningKey::fixed("k", SigningAlg::RS256, &from_pem, 0).unwrap();
        assert_eq!(a.public_jwk, b.public_jwk);
        let mut broken = jwk.clone();
        broken.insert("qi".into(), jwk["dp"].clone());
        let err = import_private_key(SigningAlg::RS256, KeyMaterial::Jwk(&broken)).unwrap_err();
        assert!(err.contains("do not form a usable key"), "{err}");
        let err = import_private_key(SigningAlg::EdDSA, KeyMaterial::Jwk(&jwk)).unwrap_err();
        assert!(err.contains("alg is EdDSA but the key is an RSA key"), "{err}");
    }

    #[test]
    fn bad_pem_says_why() {
        let err = import_private_key(SigningAlg::RS256, KeyMaterial::Pem("hello")).unwrap_err();
        assert!(err.contains("not PEM"), "{err}");
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let err = import_private_key(SigningAlg::RS256, KeyMaterial::Pem(cert)).unwrap_err();
        assert!(err.contains("no private key"), "{err}");
        let junk = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        let err = import_private_key(SigningAlg::RS256, KeyMaterial::Pem(junk)).unwrap_err();
        assert!(err.contains("neither RSA"), "{err}");
    }

    #[test]
    fn jwks_import_and_public_ones_are_refused() {
        // An EC P-256 private key (d from RFC 7515 A.3.1) and RFC 8037 A.1 (Ed25519).
        let ec: Map<String, Value> = serde_json::from_str(
            r#"{"kty":"EC","crv":"P-256","x":"-NDceqEMoK7LkNqFECBkNZmcejMepd83WKyXzoOGSLw","y":"nqF04vPqnhon6FZQhq5EqzY6uqGz1jSIrED6Z-g3HqI","d":"jpsQnnGQmL-YBIffH1136cLyYw0ZeeY2qtqrumEmZrY"}"#,
        )
        .unwrap();
        let der = import_private_key(SigningAlg::ES256, KeyMaterial::Jwk(&ec)).unwrap();
        let stored = SigningKey::fixed("ec-1", SigningAlg::ES256, &der, 0).unwrap();
        let public: Value = serde_json::from_str(&stored.public_jwk).unwrap();
        assert_eq!(public["x"], ec["x"]);
        assert_eq!(public["kid"], "ec-1");

        let ed: Map<String, Value> = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        import_private_key(SigningAlg::EdDSA, KeyMaterial::Jwk(&ed)).unwrap();
        let err = import_private_key(SigningAlg::ES256, KeyMaterial::Jwk(&ed)).unwrap_err();
        assert!(err.contains("alg is ES256 but the key is an Ed25519 key"), "{err}");

        let mut public_only = ec.clone();
        public_only.remove("d");
        let err = import_private_key(SigningAlg::ES256, KeyMaterial::Jwk(&public_only)).unwrap_err();
        assert!(err.contains("public key"), "{err}");
        let mut wrong_x = ec.clone();
        wrong_x.insert("x".into(), ed["x"].clone());
        assert!(import_private_key(SigningAlg::ES256, KeyMaterial::Jwk(&wrong_x)).is_err());
        let mut says_rs = ec;
        says_rs.insert("alg".into(), "RS256".into());
        let err = import_private_key(SigningAlg::ES256, KeyMaterial::Jwk(&says_rs)).unwrap_err();
        assert!(err.contains("alg `RS256`"), "{err}");
    }
}
