//! Token tampering (`action = "tamper"`): a JWT from a token response, changed the way a
//! resource server or client must notice. The result is never recorded as an issued token, so
//! introspection and userinfo treat it as unknown (inactive), like any token Latchkey did not
//! issue byte for byte.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};

use super::Tamper;

/// Seconds by which `expired`, `nbf_future` and `iat_future` move the time claims.
pub const SHIFT: i64 = 3600;

fn part(s: &str) -> Option<Map<String, Value>> {
    let bytes = B64.decode(s).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.as_object().cloned()
}

/// Changes the compact JWS `jwt` as `how` says (`claim` names the claim for `extra_claim` and
/// `removed_claim`); `sign` signs a header and payload with the active key
/// (`Keys::sign_raw`); `now` is the server clock in UNIX seconds. Returns the new token and what
/// changed, in words; `None` when `jwt` is not a JWT (an opaque token) or signing failed.
pub fn tamper(
    sign: &dyn Fn(&Value, &[u8]) -> Option<String>,
    jwt: &str,
    how: Tamper,
    claim: Option<&str>,
    now: i64,
) -> Option<(String, String)> {
    let mut it = jwt.split('.');
    let (h, p, s) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let mut header = part(h)?;
    let mut payload = part(p)?;
    let resign = |header: &Map<String, Value>, payload: &Map<String, Value>| {
        let body = serde_json::to_vec(payload).ok()?;
        sign(&Value::Object(header.clone()), &body)
    };
    let set = |payload: &mut Map<String, Value>, k: &str, v: Value| {
        payload.insert(k.to_string(), v);
    };
    let (token, what) = match how {
        Tamper::BadSignature => {
            let mut sig = B64.decode(s).ok()?;
            for b in sig.iter_mut().take(8) {
                *b ^= 0x5a;
            }
            (
                format!("{h}.{p}.{}", B64.encode(sig)),
                "signature bytes changed".to_string(),
            )
        }
        Tamper::UnknownKid => {
            let old = header.get("kid").and_then(Value::as_str).unwrap_or("").to_string();
            let kid = format!("unknown-{}", old.chars().take(16).collect::<String>());
            header.insert("kid".into(), Value::String(kid.clone()));
            (
                resign(&header, &payload)?,
                format!("kid `{old}` replaced by `{kid}`, re-signed"),
            )
        }
        Tamper::AlgNone => {
            let mut hdr = Map::new();
            hdr.insert("alg".into(), Value::String("none".into()));
            if let Some(t) = header.get("typ") {
                hdr.insert("typ".into(), t.clone());
            }
            let hb = serde_json::to_vec(&hdr).ok()?;
            (
                format!("{}.{p}.", B64.encode(hb)),
                "alg none, signature removed".to_string(),
            )
        }
        Tamper::WrongIss => {
            set(
                &mut payload,
                "iss",
                Value::String("https://not-latchkey.invalid/".into()),
            );
            (
                resign(&header, &payload)?,
                "iss set to https://not-latchkey.invalid/".to_string(),
            )
        }
        Tamper::WrongAud => {
            set(
                &mut payload,
                "aud",
                Value::String("https://wrong-audience.invalid".into()),
            );
            (
                resign(&header, &payload)?,
                "aud set to https://wrong-audience.invalid".to_string(),
            )
        }
        Tamper::Expired => {
            set(&mut payload, "exp", Value::from(now - SHIFT));
            set(&mut payload, "iat", Value::from(now - 2 * SHIFT));
            if payload.contains_key("nbf") {
                set(&mut payload, "nbf", Value::from(now - 2 * SHIFT));
            }
            (resign(&header, &payload)?, "exp an hour ago".to_string())
        }
        Tamper::NbfFuture => {
            set(&mut payload, "nbf", Value::from(now + SHIFT));
            (resign(&header, &payload)?, "nbf an hour from now".to_string())
        }
        Tamper::IatFuture => {
            set(&mut payload, "iat", Value::from(now + SHIFT));
            (resign(&header, &payload)?, "iat an hour from now".to_string())
        }
        Tamper::MissingScope => {
            payload.remove("scope");
            payload.remove("scp");
            (resign(&header, &payload)?, "scope claim removed".to_string())
        }
        Tamper::ExtraClaim => {
            let name = claim.unwrap_or("latchkey_tampered");
            set(&mut payload, name, Value::Bool(true));
            (resign(&header, &payload)?, format!("claim `{name}` added"))
        }
        Tamper::RemovedClaim => {
            let name = claim.unwrap_or("sub");
            payload.remove(name);
            (resign(&header, &payload)?, format!("claim `{name}` removed"))
        }
    };
    Some((token, what))
}
