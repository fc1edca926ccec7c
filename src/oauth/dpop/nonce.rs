//! Server-provided DPoP nonces (RFC 9449 §8, §9): with `[server] use_dpop_nonce`, proofs must
//! carry a nonce this server issued recently. One nonce is current at a time; it rotates every
//! [`NONCE_LIFETIME`] seconds of the server's clock, and the previous one stays accepted for
//! one more period so a client that just fetched it is not refused.

use std::sync::Mutex;

/// How long a nonce is current, in seconds (server clock); it is accepted for twice as long.
pub const NONCE_LIFETIME: i64 = 300;

#[derive(Debug, Default)]
struct State {
    current: String,
    previous: Option<String>,
    /// When `current` was made (UNIX seconds, server clock).
    made_at: i64,
}

/// The nonces in force. Cleared by a server reset.
#[derive(Debug, Default)]
pub struct Nonces {
    state: Mutex<State>,
}

impl Nonces {
    fn rotate_if_due(s: &mut State, now: i64) {
        if s.current.is_empty() || now < s.made_at || now.saturating_sub(s.made_at) >= NONCE_LIFETIME {
            let fresh = crate::ids::opaque_token();
            // After a long pause (or the virtual clock jumping) the old nonce is not kept.
            s.previous = if !s.current.is_empty() && now.saturating_sub(s.made_at) < 2 * NONCE_LIFETIME {
                Some(std::mem::take(&mut s.current))
            } else {
                None
            };
            s.current = fresh;
            s.made_at = now;
        }
    }

    /// The nonce to hand out now (the `DPoP-Nonce` header).
    pub fn current(&self, now: i64) -> String {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Self::rotate_if_due(&mut s, now);
        s.current.clone()
    }

    /// Whether `nonce` is the current one or the one before it.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Self::rotate_if_due(&mut s, now);
        !nonce.is_empty() && (s.current == nonce || s.previous.as_deref() == Some(nonce))
    }

    /// Forgets every nonce (server reset).
    pub fn clear(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_rotate_and_the_previous_one_stays_for_a_period() {
        let n = Nonces::default();
        let first = n.current(1_000);
        assert!(n.accepts(&first, 1_100));
        assert!(!n.accepts("made-up", 1_100));
        let second = n.current(1_000 + NONCE_LIFETIME);
        assert_ne!(first, second);
        assert!(n.accepts(&first, 1_000 + NONCE_LIFETIME));
        let third = n.current(1_000 + 2 * NONCE_LIFETIME);
        assert!(!n.accepts(&first, 1_000 + 2 * NONCE_LIFETIME));
        assert!(n.accepts(&second, 1_000 + 2 * NONCE_LIFETIME));
        assert!(n.accepts(&third, 1_000 + 2 * NONCE_LIFETIME));
        // A jump of a day forgets both.
        let later = 1_000 + 86_400;
        assert!(!n.accepts(&third, later));
        n.clear();
        assert!(!n.accepts(&n.current(later), later + 2 * NONCE_LIFETIME));
    }
}
