//! Matching a requested redirect URI against the registered ones (RFC 6749 §3.1.2.3,
//! RFC 9700 §4.1.3, RFC 8252 §7.1, §7.2, §7.3, §8.3).
//!
//! Byte-for-byte exact, with one exception RFC 8252 §7.3 requires: a loopback IP redirect URI
//! (`http://127.0.0.1/…` or `http://[::1]/…`, registered with or without a port) accepts any
//! port at request time, because a native app listens on whatever port the OS gives it. Scheme,
//! host, path and query stay exact. `localhost` is not treated this way: RFC 8252 §8.3 advises
//! against it (the name can resolve elsewhere, and a firewall may treat it differently), and a
//! web app registered at `http://localhost:3000/callback` should not suddenly also accept
//! `http://localhost:4000/callback`. Private-use schemes (`com.example.app:/callback`, §7.1)
//! and claimed `https` URIs (§7.2) match exactly like any other URI.

/// The loopback IP hosts whose port is free (RFC 8252 §7.3).
pub const LOOPBACK_HOSTS: &[&str] = &["127.0.0.1", "[::1]"];

/// A loopback IP redirect URI split around its port: `http://` + host + `:port` + rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loopback<'a> {
    host: &'a str,
    port: Option<u16>,
    /// Path and query, exactly as written (may be empty).
    rest: &'a str,
}

/// Splits `uri` if it is a loopback IP redirect URI in canonical form: the lowercase `http`
/// scheme, an authority that is exactly a loopback IP literal with an optional decimal port
/// (1 to 65535, no leading zero), no user information. Anything else (`127.0.0.1.evil.com`,
/// `127.0.0.1:80@evil`, `127.1`, `0x7f.0.0.1`, a fragment) is not loopback here.
fn loopback(uri: &str) -> Option<Loopback<'_>> {
    let after = uri.strip_prefix("http://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    if rest.contains('#') {
        return None;
    }
    for host in LOOPBACK_HOSTS {
        let Some(tail) = authority.strip_prefix(host) else {
            continue;
        };
        if tail.is_empty() {
            return Some(Loopback { host, port: None, rest });
        }
        let digits = tail.strip_prefix(':')?;
        let canonical = !digits.is_empty()
            && digits.len() <= 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        let port = digits.parse::<u16>().ok().filter(|p| canonical && *p > 0)?;
        return Some(Loopback {
            host,
            port: Some(port),
            rest,
        });
    }
    None
}

/// Whether `requested` may be used for the registered `registered` (see the module docs).
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (loopback(registered), loopback(requested)) {
        (Some(r), Some(q)) => r.host == q.host && r.rest == q.rest,
        _ => false,
    }
}

/// Whether `requested` matches one of `registered`.
pub fn is_registered(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|r| matches(r, requested))
}

/// Whether `uri` is a loopback IP redirect URI whose port is free at request time.
pub fn is_loopback(uri: &str) -> bool {
    loopback(uri).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ip_uris_accept_any_port() {
        for (reg, req) in [
            ("http://127.0.0.1:8400/cb", "http://127.0.0.1:51004/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"),
            ("http://127.0.0.1:8400/cb", "http://127.0.0.1/cb"),
            ("http://[::1]:8400/cb", "http://[::1]:1/cb"),
            ("http://[::1]/cb", "http://[::1]:65535/cb"),
            ("http://127.0.0.1", "http://127.0.0.1:9000"),
            ("http://127.0.0.1:8400/cb?app=x", "http://127.0.0.1:5/cb?app=x"),
        ] {
            assert!(matches(reg, req), "{reg} should accept {req}");
        }
    }

    #[test]
    fn everything_but_the_loopback_port_stays_exact() {
        let reg = "http://127.0.0.1:8400/cb";
        for req in [
            "http://127.0.0.1:8400/cb/",
            "http://127.0.0.1:8400/cb/../admin",
            "http://127.0.0.1:8400/CB",
            "http://127.0.0.1:8400/cb?x=1",
            "http://127.0.0.1:8400/cb#x",
            "http://127.0.0.1:8400",
            "https://127.0.0.1:8400/cb",
            "HTTP://127.0.0.1:8400/cb",
            "http://[::1]:8400/cb",
            "http://localhost:8400/cb",
            // Host confusion and user-information tricks.
            "http://127.0.0.1.evil.com/cb",
            "http://127.0.0.1.evil.com:8400/cb",
            "http://127.0.0.1:80@evil.com/cb",
            "http://127.0.0.1@evil.com/cb",
            "http://evil.com@127.0.0.1:8400/cb",
            "http://127.0.0.1:8400\\@evil.com/cb",
            "http://127.0.0.1%2eevil.com/cb",
            "http://127.1:8400/cb",
            "http://0x7f.0.0.1:8400/cb",
            "http://2130706433:8400/cb",
            // Ports that are not a plain decimal port.
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:65536/cb",
            "http://127.0.0.1:08400/cb",
            "http://127.0.0.1:+8400/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1: 8400/cb",
        ] {
            assert!(!matches(reg, req), "{reg} must not accept {req}");
        }
    }

    #[test]
    fn localhost_and_other_hosts_are_exact() {
        assert!(matches("http://localhost:3000/cb", "http://localhost:3000/cb"));
        assert!(!matches("http://localhost:3000/cb", "http://localhost:3001/cb"));
        assert!(!matches("http://localhost/cb", "http://localhost:3001/cb"));
        assert!(!matches("https://app.example/cb", "https://app.example:8443/cb"));
        assert!(!matches("http://127.0.0.2:80/cb", "http://127.0.0.2:81/cb"));
    }

    #[test]
    fn private_use_schemes_and_claimed_https_uris_are_exact() {
        assert!(matches("com.example.app:/callback", "com.example.app:/callback"));
        assert!(!matches("com.example.app:/callback", "com.example.app:/callback2"));
        assert!(!matches("com.example.app:/callback", "com.example.evil:/callback"));
        assert!(matches(
            "https://app.example.com/oauth",
            "https://app.example.com/oauth"
        ));
        assert!(!matches(
            "https://app.example.com/oauth",
            "https://app.example.com/oauth/x"
        ));
    }
}
