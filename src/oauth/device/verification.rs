//! The verification page at `/device` (RFC 8628 §3.3): the user enters the code shown on the
//! device (or arrives from `verification_uri_complete` with it filled in, and still confirms it
//! matches, §3.3.1), signs in with a persona through the ordinary browser session, sees what the
//! device asks for, and approves or denies (§5.4: the user is always asked, even with a session,
//! because a device code can be phished).
//!
//! Every step is a plain form (no JavaScript). The HTTP layer gives each browser a
//! `latchkey_device` cookie (HttpOnly, SameSite=Lax) on the first GET and requires it on every
//! POST: it keys the per-browser limit on wrong codes, and a cross-site form (which a Lax
//! cookie does not accompany) cannot sign the browser in or approve.

use serde_json::Value;

use super::{Approval, DeviceGrant, DeviceStatus, Limited, display, normalize};
use crate::oauth::acr;
use crate::oauth::authorize::{Persona, ScopeLine};
use crate::oauth::form::Form;
use crate::oauth::session::Session;
use crate::provider::Provider;

/// What the code-entry and sign-in steps show about the request.
#[derive(Debug, Clone)]
pub struct DeviceRequestView {
    /// The user code, `XXXX-XXXX`.
    pub user_code: String,
    /// The client's display name.
    pub client_name: String,
    /// The client id.
    pub client_id: String,
    /// The scopes asked for, with descriptions.
    pub scopes: Vec<ScopeLine>,
    /// Seconds until the code expires.
    pub expires_in: i64,
}

/// One step of the verification page.
#[derive(Debug, Clone)]
pub enum DevicePage {
    /// Enter the code; `typed` is shown again after a mistake.
    Enter {
        /// What the user typed.
        typed: Option<String>,
        /// Why it was not accepted.
        error: Option<String>,
    },
    /// Too many wrong codes (RFC 8628 §5.1): nothing was looked up.
    TooMany(Limited),
    /// Check the code and sign in.
    SignIn {
        /// The request.
        request: DeviceRequestView,
        /// Personas to pick.
        personas: Vec<Persona>,
        /// The user signed in in this browser, if any.
        current: Option<String>,
        /// What went wrong with the last attempt.
        error: Option<String>,
        /// The typed username, shown again.
        username: Option<String>,
    },
    /// Approve or deny, as the signed-in user.
    Consent {
        /// The request.
        request: DeviceRequestView,
        /// Who is signed in.
        username: String,
    },
    /// Finished: the device may continue (or was told no).
    Done {
        /// The request.
        request: DeviceRequestView,
        /// Whether the user approved.
        approved: bool,
        /// Who answered.
        username: String,
    },
    /// The code expired or was answered already.
    Gone {
        /// The title.
        title: String,
        /// What happened.
        message: String,
    },
}

/// The inputs of a verification-page request, from the query (GET) or the form (POST).
#[derive(Debug, Clone, Default)]
pub struct DeviceInput {
    /// `user_code` as typed or linked.
    pub user_code: Option<String>,
    /// `step`: `code` (default), `signin` or `consent`.
    pub step: Option<String>,
    /// A persona picked with one click.
    pub persona: Option<String>,
    /// A typed username.
    pub username: Option<String>,
    /// A typed password.
    pub password: Option<String>,
    /// "Continue as" the signed-in user.
    pub continue_session: bool,
    /// `approve` or `deny` on the consent step.
    pub decision: Option<String>,
}

impl DeviceInput {
    /// Reads the fields of [`DeviceInput`] (same names, `continue` for
    /// [`DeviceInput::continue_session`]); a repeated field is `invalid_request`.
    pub fn from_form(form: &Form) -> Result<DeviceInput, crate::oauth::OAuthError> {
        let s = |n: &str| -> Result<Option<String>, crate::oauth::OAuthError> { Ok(form.get(n)?.map(str::to_string)) };
        Ok(DeviceInput {
            user_code: s("user_code")?,
            step: s("step")?,
            persona: s("persona")?,
            username: s("username")?,
            password: s("password")?,
            continue_session: form.get("continue")?.is_some(),
            decision: s("decision")?,
        })
    }
}

/// The browser's state: its `latchkey_device` cookie (`None`: the browser has none yet, so
/// only GET is answered) and its session cookie.
#[derive(Debug, Clone, Copy)]
pub struct DeviceBrowser<'a> {
    /// The per-browser key.
    pub device: Option<&'a str>,
    /// The `latchkey_session` cookie.
    pub session: Option<&'a str>,
}

fn view(p: &Provider, g: &DeviceGrant, now: i64) -> DeviceRequestView {
    let client = p.client(&g.client_id);
    let registry = p.scopes();
    DeviceRequestView {
        user_code: g.display_code(),
        client_name: client
            .as_ref()
            .map(|c| {
                if c.name.is_empty() {
                    c.client_id.clone()
                } else {
                    c.name.clone()
                }
            })
            .unwrap_or_else(|| g.client_id.clone()),
        client_id: g.client_id.clone(),
        scopes: g
            .scopes
            .iter()
            .map(|s| ScopeLine {
                name: s.clone(),
                description: registry
                    .iter()
                    .find(|r| &r.name == s)
                    .map(|r| r.description.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        expires_in: g.expires_at - now,
    }
}

fn gone(g: Option<&DeviceGrant>) -> DevicePage {
    match g.map(|g| &g.status) {
        Some(DeviceStatus::Approved | DeviceStatus::Used) => DevicePage::Gone {
            title: "Already approved".into(),
            message: "This code was approved already; the device has (or is getting) its tokens.".into(),
        },
        Some(DeviceStatus::Denied) => DevicePage::Gone {
            title: "Already denied".into(),
            message: "This code was denied already. Start again on the device to get a new code.".into(),
        },
        _ => DevicePage::Gone {
            title: "Code expired".into(),
            message: "This code has expired (codes last 10 minutes) or is unknown. Start again on the device to get a new code."
                .into(),
        },
    }
}

/// Looks a typed code up, counting a wrong one against the browser and overall limits
/// (RFC 8628 §5.1). `Err` is the page to show instead.
fn lookup(p: &Provider, typed: &str, browser: &str, now: i64) -> Result<DeviceGrant, Box<DevicePage>> {
    p.device_codes
        .check_attempt(browser, now)
        .map_err(DevicePage::TooMany)?;
    let found = normalize(typed).and_then(|c| p.device_codes.by_user_code(&c, now));
    match found {
        Some(g) if g.status == DeviceStatus::Pending => Ok(g),
        Some(g) => Err(Box::new(gone(Some(&g)))),
        None => {
            p.device_codes.record_wrong(browser, now);
            let error = if normalize(typed).is_none() {
                format!(
                    "`{}` is not a code: codes are 8 letters like BCDF-GHJK (no vowels, no digits).",
                    typed.chars().take(40).collect::<String>()
                )
            } else {
                "No device is waiting for that code. Check the code on your device; it may have expired.".to_string()
            };
            Err(Box::new(DevicePage::Enter {
                typed: Some(typed.chars().take(40).collect()),
                error: Some(error),
            }))
        }
    }
}

async fn sign_in_page(
    p: &Provider,
    g: &DeviceGrant,
    browser: DeviceBrowser<'_>,
    error: Option<String>,
    username: Option<String>,
    now: i64,
) -> DevicePage {
    let users = p.store.list_users().await.unwrap_or_default();
    let personas = users
        .into_iter()
        .map(|u| Persona {
            name: u.user.claims.get("name").and_then(Value::as_str).map(str::to_string),
            email: u.user.claims.get("email").and_then(Value::as_str).map(str::to_string),
            hinted: false,
            meets_acr: None,
            acr: u.user.acr.clone(),
            username: u.user.username,
        })
        .collect();
    DevicePage::SignIn {
        request: view(p, g, now),
        personas,
        current: browser
            .session
            .and_then(|c| p.sessions.session(c, now))
            .map(|s| s.username),
        error,
        username,
    }
}

/// GET `/device` and `/device?user_code=...`: the code-entry page, or (with a live code) the
/// sign-in step showing the code for a visual match (RFC 8628 §3.3.1).
pub async fn show(p: &Provider, input: DeviceInput, browser: DeviceBrowser<'_>) -> DevicePage {
    let now = p.clock.now();
    let (Some(typed), Some(key)) = (input.user_code.as_deref(), browser.device) else {
        return DevicePage::Enter {
            typed: input.user_code.map(|c| c.chars().take(40).collect()),
            error: None,
        };
    };
    match lookup(p, typed, key, now) {
        Ok(g) => sign_in_page(p, &g, browser, None, None, now).await,
        Err(page) => *page,
    }
}

/// POST `/device`: one step of the page. Returns the next page and, when the user signed in,
/// the new session (the HTTP layer sets its cookie).
pub async fn submit(p: &Provider, input: DeviceInput, browser: DeviceBrowser<'_>) -> (DevicePage, Option<Session>) {
    let now = p.clock.now();
    if browser.device.is_none() {
        return (
            DevicePage::Enter {
                typed: input.user_code,
                error: Some("Your browser did not send the cookie of this page (it expired, or the form came from another site). Enter the code again.".into()),
            },
            None,
        );
    }
    let typed = input.user_code.clone().unwrap_or_default();
    if typed.trim().is_empty() {
        return (
            DevicePage::Enter {
                typed: None,
                error: Some("Enter the code shown on your device.".into()),
            },
            None,
        );
    }
    let step = input.step.as_deref().unwrap_or("code");
    if step == "code" {
        return (show(p, input, browser).await, None);
    }
    // Later steps carry a code this browser already entered: not a guess, but it must still
    // be live and pending.
    let g = match normalize(&typed).and_then(|c| p.device_codes.by_user_code(&c, now)) {
        Some(g) if g.status == DeviceStatus::Pending => g,
        other => return (gone(other.as_ref()), None),
    };
    match step {
        "signin" => sign_in(p, &g, input, browser, now).await,
        "consent" => (consent(p, &g, input, browser, now).await, None),
        other => (
            DevicePage::Enter {
                typed: Some(display(&g.user_code)),
                error: Some(format!(
                    "Unknown step `{}`.",
                    other.chars().take(20).collect::<String>()
                )),
            },
            None,
        ),
    }
}

async fn sign_in(
    p: &Provider,
    g: &DeviceGrant,
    input: DeviceInput,
    browser: DeviceBrowser<'_>,
    now: i64,
) -> (DevicePage, Option<Session>) {
    if input.continue_session {
        return match browser.session.and_then(|c| p.sessions.session(c, now)) {
            Some(s) => (
                DevicePage::Consent {
                    request: view(p, g, now),
                    username: s.username,
                },
                None,
            ),
            None => (
                sign_in_page(
                    p,
                    g,
                    browser,
                    Some("Your session has ended; sign in again.".into()),
                    None,
                    now,
                )
                .await,
                None,
            ),
        };
    }
    let (username, needs_password) = match (&input.persona, &input.username) {
        (Some(u), _) => (u.clone(), false),
        (None, Some(u)) if !u.is_empty() => (u.clone(), true),
        _ => {
            let msg = "Pick a persona or enter a username and password.".to_string();
            return (sign_in_page(p, g, browser, Some(msg), None, now).await, None);
        }
    };
    let user = match p.store.find_user(&username).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            let msg = format!("There is no user `{username}`.");
            return (sign_in_page(p, g, browser, Some(msg), Some(username), now).await, None);
        }
        Err(e) => {
            return (
                DevicePage::Gone {
                    title: "Server error".into(),
                    message: crate::oauth::OAuthError::server(e).description,
                },
                None,
            );
        }
    };
    if needs_password {
        let ok = match (&user.password_hash, &input.password) {
            (Some(hash), Some(pw)) => {
                let (hash, pw) = (hash.clone(), pw.clone());
                tokio::task::spawn_blocking(move || crate::password::verify(&pw, &hash))
                    .await
                    .unwrap_or(false)
            }
            _ => false,
        };
        if !ok {
            let msg = "Wrong username or password.".to_string();
            return (sign_in_page(p, g, browser, Some(msg), Some(username), now).await, None);
        }
    }
    let sub = user
        .user
        .sub
        .clone()
        .unwrap_or_else(|| crate::ids::stable_sub(&username));
    let session = crate::oauth::backchannel_logout::sign_in(
        p,
        &username,
        &sub,
        user.user.acr.clone(),
        acr::methods(&user.user, needs_password),
    );
    (
        DevicePage::Consent {
            request: view(p, g, now),
            username,
        },
        Some(session),
    )
}

async fn consent(
    p: &Provider,
    g: &DeviceGrant,
    input: DeviceInput,
    browser: DeviceBrowser<'_>,
    now: i64,
) -> DevicePage {
    let Some(session) = browser.session.and_then(|c| p.sessions.session(c, now)) else {
        return sign_in_page(p, g, browser, Some("Sign in first.".into()), None, now).await;
    };
    let approve = match input.decision.as_deref() {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return DevicePage::Consent {
                request: view(p, g, now),
                username: session.username,
            };
        }
    };
    let approval = approve.then(|| Approval {
        username: session.username.clone(),
        auth_time: session.auth_time,
        acr: session.acr.clone(),
        amr: session.amr.clone(),
    });
    match p.device_codes.decide(&g.user_code, approval, now) {
        Ok(decided) => {
            super::authorization::publish(p, &decided, false);
            DevicePage::Done {
                request: view(p, &decided, now),
                approved: approve,
                username: session.username,
            }
        }
        Err(current) => gone(current.as_deref()),
    }
}
