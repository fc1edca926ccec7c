//! The verification page's HTML (RFC 8628 §3.3), in the style of the login page: plain forms
//! that work without JavaScript, every value escaped, stable `data-testid`s for browser tests
//! (`device-*`; the persona buttons are `persona-{username}` as on the login page).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::pages::{esc, initials, page};
use crate::oauth::device::verification::{DevicePage, DeviceRequestView};
use crate::oauth::paths;
use crate::provider::Provider;

fn code_box(r: &DeviceRequestView) -> String {
    format!(
        "<div class=\"usercode\" data-testid=\"device-user-code\">{}</div>",
        esc(&r.user_code)
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

fn scopes(r: &DeviceRequestView) -> String {
    if r.scopes.is_empty() {
        return "<p class=\"muted\">It asks for no scopes.</p>".into();
    }
    let mut s = String::from("<ul class=\"scopes\" data-testid=\"device-scopes\">");
    for l in &r.scopes {
        s.push_str(&format!(
            "<li data-testid=\"device-scope-{n}\"><code>{n}</code><span>{}</span></li>",
            esc(if l.description.is_empty() {
                "No description"
            } else {
                &l.description
            }),
            n = esc(&l.name),
        ));
    }
    s.push_str("</ul>");
    s
}

/// Renders a step of the verification page.
pub fn render(p: &Provider, pg: DevicePage) -> Response {
    let action = esc(&p.issuer.url(paths::DEVICE));
    match pg {
        DevicePage::Enter { typed, error } => {
            let mut body = String::from(
                "<h1 data-testid=\"device-title\">Connect a device</h1><p class=\"sub\">Enter the code shown on your device, TV or command line.</p>",
            );
            if let Some(e) = &error {
                body.push_str(&format!(
                    "<div class=\"error\" role=\"alert\" data-testid=\"device-error\">{}</div>",
                    esc(e)
                ));
            }
            body.push_str(&format!(
                "<form method=\"post\" action=\"{action}\">{}<label for=\"user_code\">Code</label>\
                 <input id=\"user_code\" class=\"codeinput\" type=\"text\" name=\"user_code\" value=\"{}\" placeholder=\"BCDF-GHJK\" \
                 autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"40\" required autofocus data-testid=\"device-code-input\">\
                 <button class=\"btn full\" type=\"submit\" data-testid=\"device-code-submit\">Continue</button></form>\
                 <p class=\"muted\">Codes are 8 letters; case and the dash do not matter.</p>",
                hidden("step", "code"),
                esc(typed.as_deref().unwrap_or("")),
            ));
            let status = if error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            page(status, "Connect a device", &body, None)
        }
        DevicePage::TooMany(l) => {
            let who = if l.overall {
                "Too many wrong codes were entered on this server"
            } else {
                "Too many wrong codes were entered in this browser"
            };
            let body = format!(
                "<h1 data-testid=\"device-too-many\">Too many attempts</h1><p class=\"sub\" data-testid=\"device-too-many-message\">{who} in the last minute. \
                 Wait {} seconds, then check the code on your device and try again.</p>\
                 <p class=\"muted\">Wrong codes are limited so nobody can guess a code another person is about to enter (RFC 8628 §5.1).</p>\
                 <div class=\"row\"><a class=\"btn secondary\" href=\"{action}\" data-testid=\"device-retry\">Try again</a></div>",
                l.retry_after.max(1)
            );
            let mut resp = page(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", &body, None);
            if let Ok(v) = HeaderValue::from_str(&l.retry_after.max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        DevicePage::SignIn {
            request,
            personas,
            current,
            error,
            username,
        } => {
            let mut body = format!(
                "<h1 data-testid=\"device-signin-title\">Sign in to connect</h1><p class=\"sub\"><strong data-testid=\"device-client\">{}</strong> \
                 on your device shows this code. Check that it matches before you continue:</p>{}\
                 <p class=\"muted\" data-testid=\"device-expires\">The code expires in {} min.</p>",
                esc(&request.client_name),
                code_box(&request),
                (request.expires_in + 59) / 60
            );
            if let Some(e) = &error {
                body.push_str(&format!(
                    "<div class=\"error\" role=\"alert\" data-testid=\"device-error\">{}</div>",
                    esc(e)
                ));
            }
            let base = format!(
                "{}{}",
                hidden("user_code", &request.user_code),
                hidden("step", "signin")
            );
            if let Some(cur) = &current {
                body.push_str(&format!(
                    "<form method=\"post\" action=\"{action}\" class=\"current\">{base}<input type=\"hidden\" name=\"continue\" value=\"1\">\
                     <span>Signed in as <strong>{who}</strong></span><button class=\"btn\" type=\"submit\" data-testid=\"device-continue\" autofocus>Continue as {who}</button></form>\
                     <details class=\"other\"{open}><summary>Use another account</summary>",
                    who = esc(cur),
                    open = if error.is_some() { " open" } else { "" },
                ));
            }
            if personas.is_empty() {
                body.push_str(
                    "<p class=\"muted\">No personas are registered yet. Add users in the Latchkey app or a <code>[[users]]</code> section of <code>latchkey.toml</code>.</p>",
                );
            } else {
                body.push_str(&format!(
                    "<form method=\"post\" action=\"{action}\">{base}<ul class=\"personas\" aria-label=\"Personas\" data-testid=\"device-personas\">"
                ));
                for pe in &personas {
                    let title = pe.name.clone().unwrap_or_else(|| pe.username.clone());
                    let detail = match &pe.email {
                        Some(e) => format!("{} · {}", pe.username, e),
                        None => pe.username.clone(),
                    };
                    body.push_str(&format!(
                        "<li><button class=\"persona\" type=\"submit\" name=\"persona\" value=\"{u}\" data-testid=\"persona-{u}\">\
                         <span class=\"avatar\" aria-hidden=\"true\">{ini}</span><span class=\"who\"><strong>{t}</strong><span>{d}</span></span></button></li>",
                        u = esc(&pe.username),
                        ini = esc(&initials(&title)),
                        t = esc(&title),
                        d = esc(&detail),
                    ));
                }
                body.push_str("</ul></form><div class=\"sep\">or sign in with a password</div>");
            }
            body.push_str(&format!(
                "<form method=\"post\" action=\"{action}\">{base}\
                 <label for=\"username\">Username</label><input id=\"username\" type=\"text\" name=\"username\" autocomplete=\"username\" value=\"{}\" data-testid=\"device-username\">\
                 <label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" data-testid=\"device-password\">\
                 <button class=\"btn full\" type=\"submit\" data-testid=\"device-signin-submit\">Sign in</button></form>",
                esc(username.as_deref().unwrap_or("")),
            ));
            if current.is_some() {
                body.push_str("</details>");
            }
            body.push_str(&format!(
                "<p class=\"muted\">Not the code on your device? <a href=\"{action}\" data-testid=\"device-other-code\">Enter another code</a>.</p>"
            ));
            page(StatusCode::OK, "Connect a device", &body, None)
        }
        DevicePage::Consent { request, username } => {
            let body = format!(
                "<h1 data-testid=\"device-consent-title\">Allow this device?</h1><p class=\"sub\"><strong data-testid=\"device-client\">{}</strong> (<code>{}</code>) \
                 on the device showing <strong>{}</strong> wants to access your account <strong data-testid=\"device-consent-user\">{}</strong>:</p>{}\
                 <p class=\"muted\">Only allow it if you started this on a device you own: someone may have sent you this code.</p>\
                 <form method=\"post\" action=\"{action}\">{}{}<div class=\"row\">\
                 <button class=\"btn secondary\" type=\"submit\" name=\"decision\" value=\"deny\" data-testid=\"device-deny\">Deny</button>\
                 <button class=\"btn\" type=\"submit\" name=\"decision\" value=\"approve\" data-testid=\"device-approve\" autofocus>Allow</button></div></form>",
                esc(&request.client_name),
                esc(&request.client_id),
                esc(&request.user_code),
                esc(&username),
                scopes(&request),
                hidden("user_code", &request.user_code),
                hidden("step", "consent"),
            );
            page(StatusCode::OK, "Allow this device", &body, None)
        }
        DevicePage::Done {
            request,
            approved,
            username,
        } => {
            let body = if approved {
                format!(
                    "<div class=\"done\" aria-hidden=\"true\">✓</div><h1 data-testid=\"device-done-title\">Device connected</h1><p class=\"sub\" data-testid=\"device-done-message\">\
                     <strong>{}</strong> can now act as <strong>{}</strong>. Return to your device; it continues on its own.</p>\
                     <p class=\"muted\">You can close this window.</p>",
                    esc(&request.client_name),
                    esc(&username)
                )
            } else {
                format!(
                    "<h1 data-testid=\"device-denied-title\">Request denied</h1><p class=\"sub\" data-testid=\"device-done-message\">\
                     <strong>{}</strong> was not given access. The device is told so.</p><p class=\"muted\">You can close this window.</p>",
                    esc(&request.client_name)
                )
            };
            page(
                StatusCode::OK,
                if approved { "Device connected" } else { "Request denied" },
                &body,
                None,
            )
        }
        DevicePage::Gone { title, message } => {
            let body = format!(
                "<h1 data-testid=\"device-gone-title\">{}</h1><p class=\"sub\" data-testid=\"device-gone-message\">{}</p>\
                 <div class=\"row\"><a class=\"btn secondary\" href=\"{action}\">Enter another code</a></div>",
                esc(&title),
                esc(&message)
            );
            page(StatusCode::BAD_REQUEST, &title, &body, None)
        }
    }
}
