//! The one clock of the server.
//!
//! Every timestamp Latchkey writes or compares (token `iat`/`exp`, expiry checks, code
//! lifetimes, key retention) comes from [`Clock`]. It is the system time plus an adjustable
//! offset, so the virtual clock can move the whole server forward or back at runtime; tests use
//! [`Clock::fixed`] to pin it. Nothing else in the crate reads the system time (enforced by
//! `clippy.toml`'s `disallowed-methods`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A shared, cheaply clonable clock. Times are UNIX seconds (or milliseconds where named).
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `Some(ms)`: a frozen base time (tests). `None`: the system time.
    fixed_ms: Option<i64>,
    /// Added to the base time, in milliseconds. Moved by the virtual clock.
    offset_ms: AtomicI64,
}

impl Clock {
    /// The system clock with no offset.
    pub fn system() -> Self {
        Self::new(None)
    }

    /// A clock frozen at `unix_seconds` (it only moves when [`Clock::advance`] is called).
    pub fn fixed(unix_seconds: i64) -> Self {
        Self::new(Some(unix_seconds.saturating_mul(1000)))
    }

    fn new(fixed_ms: Option<i64>) -> Self {
        Clock {
            inner: Arc::new(Inner {
                fixed_ms,
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// The current time in UNIX milliseconds, offset included.
    pub fn now_ms(&self) -> i64 {
        let base = match self.inner.fixed_ms {
            Some(ms) => ms,
            None => system_ms(),
        };
        base.saturating_add(self.inner.offset_ms.load(Ordering::Relaxed))
    }

    /// The current time in UNIX seconds, offset included.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Real time in UNIX milliseconds: the base time without the virtual clock's offset (the
    /// system time, or the frozen time of [`Clock::fixed`]). For times stamped by someone
    /// else's clock, such as a client assertion's `iat`/`exp` or a DPoP proof's `iat`: moving
    /// the virtual clock must not make them look early or late. See [`Clock::peer_now`].
    pub fn real_now_ms(&self) -> i64 {
        match self.inner.fixed_ms {
            Some(ms) => ms,
            None => system_ms(),
        }
    }

    /// Real time in UNIX seconds (see [`Clock::real_now_ms`]).
    pub fn real_now(&self) -> i64 {
        self.real_now_ms().div_euclid(1000)
    }

    /// The time to check peer-stamped times against (UNIX seconds): real time with
    /// [`PeerTime::Real`], the virtual clock with [`PeerTime::Virtual`].
    pub fn peer_now(&self, basis: PeerTime) -> i64 {
        match basis {
            PeerTime::Real => self.real_now(),
            PeerTime::Virtual => self.now(),
        }
    }

    /// The current offset from the base time, in seconds.
    pub fn offset_secs(&self) -> i64 {
        self.inner.offset_ms.load(Ordering::Relaxed) / 1000
    }

    /// Moves the clock by `secs` (negative moves it back).
    pub fn advance(&self, secs: i64) {
        self.inner
            .offset_ms
            .fetch_add(secs.saturating_mul(1000), Ordering::Relaxed);
    }

    /// Sets the offset from the base time to exactly `secs`.
    pub fn set_offset(&self, secs: i64) {
        self.inner.offset_ms.store(secs.saturating_mul(1000), Ordering::Relaxed);
    }
}

/// Which time `iat`, `nbf` and `exp` stamped by another party's clock (client assertions,
/// JWT bearer assertions, DPoP proofs) are checked against. Written `"real"` or `"virtual"`
/// (`[server] assertion_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerTime {
    /// Real time, whatever the virtual clock says (the default): moving the clock to test
    /// token expiry never breaks client authentication.
    #[default]
    Real,
    /// The virtual clock, for testing how a client copes with clock skew.
    Virtual,
}

impl PeerTime {
    /// The config-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerTime::Real => "real",
            PeerTime::Virtual => "virtual",
        }
    }
}

#[allow(clippy::disallowed_methods)]
fn system_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let c = Clock::fixed(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(3_600);
        assert_eq!(c.now(), 4_600);
        c.advance(-600);
        assert_eq!(c.now(), 4_000);
        c.set_offset(0);
        assert_eq!(c.now(), 1_000);
    }

    #[test]
    fn real_time_ignores_the_virtual_offset() {
        let c = Clock::fixed(1_000);
        c.advance(86_400);
        assert_eq!(c.real_now(), 1_000);
        assert_eq!(c.peer_now(PeerTime::Real), 1_000);
        assert_eq!(c.peer_now(PeerTime::Virtual), 87_400);
    }

    #[test]
    fn clones_share_the_offset() {
        let a = Clock::system();
        let b = a.clone();
        let before = b.now();
        a.advance(86_400);
        assert!(b.now() >= before + 86_400);
        assert_eq!(b.offset_secs(), 86_400);
    }
}
