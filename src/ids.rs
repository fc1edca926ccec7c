//! Random identifiers, token values and hashes.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// `n` random bytes from the system CSPRNG.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // aws-lc's RNG does not fail on supported platforms; a zeroed buffer would be caught by the
    // unique constraints of the store rather than silently reused.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    buf
}

/// A token id (`jti`): 128 random bits, base64url.
pub fn token_id() -> String {
    B64.encode(random_bytes::<16>())
}

/// An opaque token or code value: 256 random bits, base64url.
pub fn opaque_token() -> String {
    B64.encode(random_bytes::<32>())
}

/// A client secret: 256 random bits, base64url.
pub fn client_secret() -> String {
    B64.encode(random_bytes::<32>())
}

/// SHA-256 of a token value: the key tokens are looked up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

/// A stable subject identifier for a username: the same on every machine and database, so
/// tests that pin `sub` keep working (formatted like a UUID).
pub fn stable_sub(username: &str) -> String {
    let d = digest::digest(&digest::SHA256, format!("latchkey:user:{username}").as_bytes());
    let b = d.as_ref();
    let hex: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_url_safe() {
        let a = token_id();
        assert_ne!(a, token_id());
        assert_eq!(a.len(), 22);
        assert_eq!(opaque_token().len(), 43);
        assert!(
            opaque_token()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn subs_are_stable() {
        assert_eq!(stable_sub("alice"), stable_sub("alice"));
        assert_ne!(stable_sub("alice"), stable_sub("bob"));
        assert_eq!(stable_sub("alice").len(), 36);
    }
}
