//! The device authorization grant (RFC 8628): the store of device codes and user codes, the
//! user-code alphabet, and the brute-force limits on wrong user codes (§5.1).
//!
//! - [`authorization`]: the device authorization endpoint (§3.1, §3.2).
//! - [`verification`]: the verification page at `/device` (§3.3): enter or confirm the code, sign
//!   in with a persona, consent, done.
//! - `grants::device_code`: polling at the token endpoint (§3.4, §3.5).
//!
//! Codes live in memory, like pending authorization requests: a restart ends every device flow
//! (the polling device gets `invalid_grant` for the forgotten code and starts again). Bounds: at most [`MAX_DEVICE_CODES`] live
//! codes, each for at most [`MAX_EXPIRES_IN`] seconds; at the cap the device authorization
//! endpoint refuses (`temporarily_unavailable`) rather than evict a code a user may be typing.
//! Wrong user codes: at most [`MAX_WRONG_PER_BROWSER`] per browser and [`MAX_WRONG_OVERALL`]
//! overall per [`WRONG_WINDOW`] seconds; with a 20-letter alphabet and 8 letters (about 2^34
//! codes), 1,000 live codes and 60 guesses a minute, guessing a live code takes about 800 years.

pub mod authorization;
pub mod verification;
pub mod view;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Serialize;

/// The user-code alphabet: consonants without vowels (no words) and without look-alikes
/// (RFC 8628 §6.1).
pub const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code (shown as `XXXX-XXXX`).
pub const USER_CODE_LEN: usize = 8;
/// Lifetime of a device code, seconds (`expires_in`, RFC 8628 §3.2).
pub const DEFAULT_EXPIRES_IN: i64 = 600;
/// The longest lifetime a device code may have, seconds.
pub const MAX_EXPIRES_IN: i64 = 600;
/// The minimum polling interval, seconds (RFC 8628 §3.2 `interval`, default 5).
pub const DEFAULT_INTERVAL: i64 = 5;
/// How much a `slow_down` adds to the interval, seconds (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;
/// How many device codes may be live at once; one more is refused.
pub const MAX_DEVICE_CODES: usize = 1000;
/// The window of the wrong-user-code limits, seconds.
pub const WRONG_WINDOW: i64 = 60;
/// Wrong user codes one browser may enter per window.
pub const MAX_WRONG_PER_BROWSER: u32 = 5;
/// Wrong user codes all browsers together may enter per window.
pub const MAX_WRONG_OVERALL: u32 = 60;
/// How many browsers' counters are kept; beyond that, new browsers count only overall.
pub const MAX_TRACKED_BROWSERS: usize = 10_000;

/// Where a device code stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; the next poll gets the tokens.
    Approved,
    /// The user denied; polls get `access_denied`.
    Denied,
    /// The tokens were issued; the code is used up.
    Used,
}

/// Who approved a device code, and how they authenticated (for `auth_time`, `acr`, `amr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The user.
    pub username: String,
    /// When they authenticated, UNIX seconds.
    pub auth_time: i64,
    /// The authentication context class reached.
    pub acr: Option<String>,
    /// The authentication methods (RFC 8176).
    pub amr: Vec<String>,
}

/// One device authorization request.
#[derive(Debug, Clone)]
pub struct DeviceGrant {
    /// An id for the admin API and events (not a secret).
    pub id: String,
    /// The user code, normalized (8 letters of [`ALPHABET`], no dash).
    pub user_code: String,
    /// SHA-256 of the device code.
    device_code_hash: Vec<u8>,
    /// The client that asked.
    pub client_id: String,
    /// The requested (and allowed) scopes.
    pub scopes: Vec<String>,
    /// When it was issued, UNIX seconds.
    pub created_at: i64,
    /// When it expires, UNIX seconds.
    pub expires_at: i64,
    /// The current minimum polling interval, seconds.
    pub interval: i64,
    /// The last poll, UNIX seconds.
    pub last_poll: Option<i64>,
    /// Where it stands.
    pub status: DeviceStatus,
    /// Who approved, once approved.
    pub approval: Option<Approval>,
}

impl DeviceGrant {
    /// The user code as shown: `XXXX-XXXX`.
    pub fn display_code(&self) -> String {
        display(&self.user_code)
    }
}

/// `BCDFGHJK` as `BCDF-GHJK`.
pub fn display(code: &str) -> String {
    if code.len() == USER_CODE_LEN && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// Normalizes a typed user code: case-insensitive, dashes and spaces ignored (RFC 8628 §6.1).
/// `None` unless it is then exactly [`USER_CODE_LEN`] letters of [`ALPHABET`].
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// A fresh random user code (normalized form), drawn uniformly from [`ALPHABET`].
pub fn new_user_code() -> String {
    let mut out = String::with_capacity(USER_CODE_LEN);
    while out.len() < USER_CODE_LEN {
        let mut buf = [0u8; 16];
        let _ = aws_lc_rs::rand::fill(&mut buf);
        // Rejection sampling: 240 is the largest multiple of 20 below 256, so no letter is
        // more likely than another.
        for b in buf.into_iter().filter(|b| *b < 240) {
            if out.len() < USER_CODE_LEN {
                out.push(char::from(ALPHABET[usize::from(b % 20)]));
            }
        }
    }
    out
}

/// Why a wrong user code was refused outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until the window ends.
    pub retry_after: i64,
    /// Whether the overall limit (not this browser's) was reached.
    pub overall: bool,
}

#[derive(Debug, Default)]
struct Window {
    start: i64,
    count: u32,
}

impl Window {
    fn roll(&mut self, now: i64) {
        if now >= self.start + WRONG_WINDOW || now < self.start {
            self.start = now;
            self.count = 0;
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_user_code: HashMap<String, DeviceGrant>,
    by_device_hash: HashMap<Vec<u8>, String>,
    /// user code by id.
    by_id: BTreeMap<String, String>,
    overall: Window,
    browsers: HashMap<String, Window>,
}

impl Inner {
    fn purge_expired(&mut self, now: i64) -> Vec<DeviceGrant> {
        let gone: Vec<String> = self
            .by_user_code
            .values()
            .filter(|g| g.expires_at <= now)
            .map(|g| g.user_code.clone())
            .collect();
        gone.iter().filter_map(|c| self.remove(c)).collect()
    }

    fn remove(&mut self, user_code: &str) -> Option<DeviceGrant> {
        let g = self.by_user_code.remove(user_code)?;
        self.by_device_hash.remove(&g.device_code_hash);
        self.by_id.remove(&g.id);
        Some(g)
    }
}

/// Why a device code cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// The live device codes and the wrong-code counters.
#[derive(Debug)]
pub struct DeviceCodes {
    inner: Mutex<Inner>,
    cap: usize,
}

impl Default for DeviceCodes {
    fn default() -> Self {
        DeviceCodes::with_capacity(MAX_DEVICE_CODES)
    }
}

impl DeviceCodes {
    /// A store holding at most `cap` live codes (at least 1).
    pub fn with_capacity(cap: usize) -> DeviceCodes {
        DeviceCodes {
            inner: Mutex::new(Inner::default()),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Drops every code and counter (a reset).
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// Stores a new request for `client_id` and returns it with its device code. Expired codes
    /// are dropped first; at the cap, [`Full`].
    pub fn create(
        &self,
        client_id: &str,
        scopes: Vec<String>,
        expires_in: i64,
        now: i64,
    ) -> Result<(DeviceGrant, String), Full> {
        let mut g = self.lock();
        g.purge_expired(now);
        if g.by_user_code.len() >= self.cap {
            return Err(Full);
        }
        let mut user_code = new_user_code();
        while g.by_user_code.contains_key(&user_code) {
            user_code = new_user_code();
        }
        let device_code = crate::ids::opaque_token();
        let grant = DeviceGrant {
            id: crate::ids::token_id(),
            user_code: user_code.clone(),
            device_code_hash: crate::ids::token_hash(&device_code),
            client_id: client_id.to_string(),
            scopes,
            created_at: now,
            expires_at: now.saturating_add(expires_in.clamp(1, MAX_EXPIRES_IN)),
            interval: DEFAULT_INTERVAL,
            last_poll: None,
            status: DeviceStatus::Pending,
            approval: None,
        };
        g.by_device_hash
            .insert(grant.device_code_hash.clone(), user_code.clone());
        g.by_id.insert(grant.id.clone(), user_code.clone());
        g.by_user_code.insert(user_code, grant.clone());
        Ok((grant, device_code))
    }

    /// The live request with this (normalized) user code.
    pub fn by_user_code(&self, user_code: &str, now: i64) -> Option<DeviceGrant> {
        let g = self.lock();
        g.by_user_code.get(user_code).filter(|d| d.expires_at > now).cloned()
    }

    /// The request of a device code, expired or not (the grant tells the device which).
    pub fn by_device_code(&self, device_code: &str) -> Option<DeviceGrant> {
        let g = self.lock();
        let code = g.by_device_hash.get(&crate::ids::token_hash(device_code))?;
        g.by_user_code.get(code).cloned()
    }

    /// Every live request, newest first.
    pub fn list(&self, now: i64) -> Vec<DeviceGrant> {
        let g = self.lock();
        let mut all: Vec<DeviceGrant> = g
            .by_user_code
            .values()
            .filter(|d| d.expires_at > now)
            .cloned()
            .collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        all
    }

    /// Drops expired requests and returns them (for `device_code.expired` events).
    pub fn purge_expired(&self, now: i64) -> Vec<DeviceGrant> {
        self.lock().purge_expired(now)
    }

    /// Applies `f` to the live request with this user code if it is pending; returns it
    /// changed, or `Err` with its current state (`None`: unknown or expired).
    pub fn decide(
        &self,
        user_code: &str,
        approval: Option<Approval>,
        now: i64,
    ) -> Result<DeviceGrant, Option<Box<DeviceGrant>>> {
        let mut g = self.lock();
        let Some(d) = g.by_user_code.get_mut(user_code).filter(|d| d.expires_at > now) else {
            return Err(None);
        };
        if d.status != DeviceStatus::Pending {
            return Err(Some(Box::new(d.clone())));
        }
        d.status = if approval.is_some() {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        d.approval = approval;
        Ok(d.clone())
    }

    /// Records a poll of the device code (RFC 8628 §3.5) and returns the request as it was
    /// before, plus whether the device polled too early (then its interval has grown by
    /// [`SLOW_DOWN_STEP`]). An approved request becomes [`DeviceStatus::Used`] here, once.
    pub fn poll(&self, device_code: &str, now: i64) -> Option<(DeviceGrant, bool)> {
        let mut g = self.lock();
        let code = g.by_device_hash.get(&crate::ids::token_hash(device_code))?.clone();
        let d = g.by_user_code.get_mut(&code)?;
        let before = d.clone();
        if d.expires_at <= now {
            return Some((before, false));
        }
        // A clock moved back (now before the last poll) is not the device's fault.
        let too_early =
            d.status == DeviceStatus::Pending && d.last_poll.is_some_and(|t| now >= t && now - t < d.interval);
        if too_early {
            d.interval += SLOW_DOWN_STEP;
        }
        d.last_poll = Some(now);
        if d.status == DeviceStatus::Approved {
            d.status = DeviceStatus::Used;
        }
        Some((before, too_early))
    }

    /// Counts a wrong user code entered by `browser` (an opaque per-browser key). `Err` when
    /// this browser or everyone together has entered too many in the current window: the
    /// attempt is not even looked up.
    pub fn check_attempt(&self, browser: &str, now: i64) -> Result<(), Limited> {
        let mut g = self.lock();
        g.overall.roll(now);
        if g.overall.count >= MAX_WRONG_OVERALL {
            return Err(Limited {
                retry_after: g.overall.start + WRONG_WINDOW - now,
                overall: true,
            });
        }
        if let Some(w) = g.browsers.get_mut(browser) {
            w.roll(now);
            if w.count >= MAX_WRONG_PER_BROWSER {
                return Err(Limited {
                    retry_after: w.start + WRONG_WINDOW - now,
                    overall: false,
                });
            }
        }
        Ok(())
    }

    /// Records a wrong user code from `browser`.
    pub fn record_wrong(&self, browser: &str, now: i64) {
        let mut g = self.lock();
        g.overall.roll(now);
        g.overall.count = g.overall.count.saturating_add(1);
        if !g.browsers.contains_key(browser) && g.browsers.len() >= MAX_TRACKED_BROWSERS {
            g.browsers.retain(|_, w| w.start + WRONG_WINDOW > now);
            if g.browsers.len() >= MAX_TRACKED_BROWSERS {
                // Beyond the cap this browser counts only overall.
                return;
            }
        }
        let w = g.browsers.entry(browser.to_string()).or_default();
        w.roll(now);
        w.count = w.count.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_alphabet_and_entry_ignores_case_and_dashes() {
        for _ in 0..200 {
            let c = new_user_code();
            assert_eq!(c.len(), USER_CODE_LEN);
            assert!(c.bytes().all(|b| ALPHABET.contains(&b)), "{c}");
        }
        assert_eq!(normalize("bcdf-ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize(" BCDF GHJK ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize("bcdfghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize("BCDF-GHJA"), None, "A is not in the alphabet");
        assert_eq!(normalize("BCDF-GHJ"), None);
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
    }

    #[test]
    fn the_store_refuses_at_the_cap_and_frees_expired_codes() {
        let s = DeviceCodes::with_capacity(2);
        s.create("c", vec![], 10, 0).unwrap();
        s.create("c", vec![], 100, 0).unwrap();
        assert_eq!(s.create("c", vec![], 10, 5).err(), Some(Full));
        // The first one expires at 10: room for one more.
        assert!(s.create("c", vec![], 10, 10).is_ok());
        assert_eq!(s.list(10).len(), 2);
    }

    #[test]
    fn polling_faster_than_the_interval_slows_down_by_five_seconds() {
        let s = DeviceCodes::default();
        let (_, dc) = s.create("c", vec![], 600, 0).unwrap();
        assert!(!s.poll(&dc, 0).unwrap().1);
        assert!(s.poll(&dc, 2).unwrap().1, "2 s after the last poll is too early");
        assert_eq!(s.by_device_code(&dc).unwrap().interval, 10);
        assert!(s.poll(&dc, 8).unwrap().1, "6 s is too early once the interval is 10");
        assert!(!s.poll(&dc, 23).unwrap().1);
        // The virtual clock moved back an hour: not a reason to slow the device down.
        assert!(!s.poll(&dc, 23 - 3600).unwrap().1);
    }

    #[test]
    fn wrong_codes_are_limited_per_browser_and_overall() {
        let s = DeviceCodes::default();
        for _ in 0..MAX_WRONG_PER_BROWSER {
            assert!(s.check_attempt("a", 0).is_ok());
            s.record_wrong("a", 0);
        }
        let l = s.check_attempt("a", 10).unwrap_err();
        assert_eq!((l.retry_after, l.overall), (50, false));
        assert!(s.check_attempt("b", 10).is_ok(), "another browser is not limited");
        assert!(s.check_attempt("a", 60).is_ok(), "a new window");
        for i in 0..MAX_WRONG_OVERALL {
            s.record_wrong(&format!("x{i}"), 61);
        }
        assert!(s.check_attempt("fresh", 62).unwrap_err().overall);
    }
}
