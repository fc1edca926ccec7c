//! Latchkey's own HTML pages: login, consent, errors, form_post responses and logout.
//!
//! Plain HTML forms that work without JavaScript. Every value shown is escaped. Each page has its
//! own nonce-based Content-Security-Policy and is never cached; the framing, `nosniff` and
//! referrer headers are added for every HTML response by [`super::headers`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::oauth::authorize::{AuthResponse, ConsentView, LoginView};

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#16181d;--muted:#5d6470;--line:#e2e5ea;--accent:#4f46e5;--accent-fg:#fff;--danger:#c2262d;--hover:#f1f2f6}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--card:#1a1d24;--fg:#e8eaef;--muted:#9aa2b1;--line:#2b303a;--accent:#818cf8;--accent-fg:#0b0d12;--danger:#f27178;--hover:#232733}}
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:24px}
main{width:100%;max-width:420px;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:28px;box-shadow:0 8px 30px rgba(0,0,0,.06)}
.brand{display:flex;align-items:center;gap:8px;font-weight:600;color:var(--muted);font-size:13px;letter-spacing:.02em;margin-bottom:18px}
.brand svg{color:var(--accent)}h1{font-size:20px;margin:0 0 4px}p.sub{margin:0 0 20px;color:var(--muted)}
.personas{list-style:none;margin:0 0 18px;padding:0;display:flex;flex-direction:column;gap:8px}
.persona{width:100%;display:flex;align-items:center;gap:12px;padding:10px 12px;border:1px solid var(--line);border-radius:10px;background:transparent;color:inherit;font:inherit;text-align:left;cursor:pointer}
.persona:hover,.persona:focus-visible{background:var(--hover);border-color:var(--accent);outline:none}.persona.hinted{border-color:var(--accent)}
.avatar{flex:none;width:34px;height:34px;border-radius:50%;display:grid;place-items:center;background:var(--accent);color:var(--accent-fg);font-weight:600}
.who{display:flex;flex-direction:column;min-width:0}.who span{color:var(--muted);font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sep{display:flex;align-items:center;gap:10px;color:var(--muted);font-size:12px;margin:6px 0 14px}.sep:before,.sep:after{content:"";flex:1;border-top:1px solid var(--line)}
label{display:block;font-size:13px;font-weight:600;margin:0 0 4px}input[type=text],input[type=password]{width:100%;padding:9px 11px;border:1px solid var(--line);border-radius:8px;background:transparent;color:inherit;font:inherit;margin-bottom:12px}
input:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
.btn{display:inline-flex;justify-content:center;align-items:center;gap:6px;padding:9px 16px;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
.btn.secondary{background:transparent;color:var(--fg);border-color:var(--line)}.btn:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.row{display:flex;gap:8px;justify-content:flex-end;margin-top:8px}.full{width:100%}
.error{border:1px solid var(--danger);color:var(--danger);border-radius:8px;padding:8px 12px;margin-bottom:16px}
.notice{border-left:4px solid #d97706;padding:8px 12px;margin:0 0 16px;background:rgba(217,119,6,.1);border-radius:6px}
.scopes{list-style:none;padding:0;margin:0 0 18px;border:1px solid var(--line);border-radius:10px}.scopes li{padding:10px 12px;border-top:1px solid var(--line)}.scopes li:first-child{border-top:0}
.scopes code{font-weight:600}.scopes span{display:block;color:var(--muted);font-size:13px}.current{display:flex;align-items:center;justify-content:space-between;gap:10px;margin-bottom:16px}
details.other{border-top:1px solid var(--line);padding-top:12px}details.other summary{cursor:pointer;color:var(--accent);font-weight:600;margin-bottom:12px}details.other summary:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.who .level{color:var(--accent);font-size:12px;font-weight:600;white-space:normal}.who .level.below{color:var(--danger)}.stepup{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:0 0 16px;font-size:13px}
.usercode{font:600 26px/1.2 ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.14em;text-align:center;padding:12px;border:1px dashed var(--accent);border-radius:10px;margin:0 0 8px}
input.codeinput{font:600 22px/1.2 ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.14em;text-align:center;text-transform:uppercase}.done{font-size:34px;text-align:center;margin:0 0 8px;color:var(--accent)}
a{color:var(--accent)}code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}.muted{color:var(--muted);font-size:13px}
"#;

const LOGO: &str = r#"<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><rect x="4" y="10" width="16" height="11" rx="2"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/></svg>"#;

/// A complete page with the security headers.
pub(crate) fn page(status: StatusCode, title: &str, body: &str, script: Option<&str>) -> Response {
    let nonce = crate::ids::token_id();
    let script_tag = script.map_or(String::new(), |s| format!("<script nonce=\"{nonce}\">{s}</script>"));
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{} · Latchkey</title><style nonce=\"{nonce}\">{CSS}</style></head>\
         <body><main><div class=\"brand\">{LOGO}Latchkey</div>{body}</main>{script_tag}</body></html>",
        esc(title)
    );
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// An error that is shown, not redirected.
pub fn error(title: &str, message: &str) -> Response {
    let body = format!(
        "<h1 data-testid=\"error-title\">{}</h1><p class=\"sub\" data-testid=\"error-message\">{}</p><p class=\"muted\">Latchkey did not send you back to the app because the request \
         could not be trusted. Fix the request in your app's settings and try again.</p>",
        esc(title),
        esc(message)
    );
    page(StatusCode::BAD_REQUEST, title, &body, None)
}

pub(crate) fn initials(name: &str) -> String {
    name.split([' ', '.', '_', '-'])
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// The login page: one-click personas and a username/password form.
pub fn login(v: &LoginView, login_action: &str) -> Response {
    let mut body = format!(
        "<h1 data-testid=\"login-title\">Sign in</h1><p class=\"sub\">to continue to <strong data-testid=\"login-client\">{}</strong></p>",
        esc(&v.client_name)
    );
    if let Some(e) = &v.error {
        body.push_str(&format!(
            "<div class=\"error\" role=\"alert\" data-testid=\"login-error\">{}</div>",
            esc(e)
        ));
    }
    if let Some((values, essential)) = &v.acr_request {
        let what = if values.is_empty() {
            "an authentication level".to_string()
        } else {
            values
                .iter()
                .map(|a| format!("<code>{}</code>", esc(a)))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        body.push_str(&format!(
            "<p class=\"stepup\" data-testid=\"login-acr-request\">This app {} {what}.{}</p>",
            if *essential { "requires" } else { "asks for" },
            if *essential {
                " Personas below it cannot complete this sign-in."
            } else {
                ""
            }
        ));
    }
    let hidden = format!("<input type=\"hidden\" name=\"req\" value=\"{}\">", esc(&v.pending));
    if let Some(cur) = &v.current {
        body.push_str(&format!(
            "<form method=\"post\" action=\"{action}\" class=\"current\">{hidden}<input type=\"hidden\" name=\"continue\" value=\"1\">\
             <span>Signed in as <strong>{who}</strong></span><button class=\"btn\" type=\"submit\" data-testid=\"login-continue\" autofocus>Continue as {who}</button></form>\
             <details class=\"other\"{open}><summary>Use another account</summary>",
            action = esc(login_action),
            who = esc(cur),
            open = if v.error.is_some() { " open" } else { "" },
        ));
    }
    if !v.personas.is_empty() {
        body.push_str(&format!(
            "<form method=\"post\" action=\"{}\">{hidden}<ul class=\"personas\" aria-label=\"Personas\" data-testid=\"login-personas\">",
            esc(login_action)
        ));
        for p in &v.personas {
            let title = p.name.clone().unwrap_or_else(|| p.username.clone());
            let detail = match (&p.name, &p.email) {
                (_, Some(e)) => format!("{} · {}", p.username, e),
                _ => p.username.clone(),
            };
            let level = match (p.meets_acr, &p.acr) {
                (None, _) => String::new(),
                (Some(meets), acr) => format!(
                    "<span class=\"level{}\" data-testid=\"persona-acr-{u}\">{}</span>",
                    if meets { "" } else { " below" },
                    match (meets, acr) {
                        (true, Some(a)) => format!("with a second factor · {}", esc(a)),
                        (true, None) => "meets the requested level".to_string(),
                        (false, Some(a)) => format!("{} · below the requested level", esc(a)),
                        (false, None) => "no second factor · below the requested level".to_string(),
                    },
                    u = esc(&p.username),
                ),
            };
            body.push_str(&format!(
                "<li><button class=\"persona{hinted}\" type=\"submit\" name=\"persona\" value=\"{u}\" data-testid=\"persona-{u}\">\
                 <span class=\"avatar\" aria-hidden=\"true\">{ini}</span><span class=\"who\"><strong>{t}</strong><span>{d}</span>{level}</span></button></li>",
                hinted = if p.hinted { " hinted" } else { "" },
                u = esc(&p.username),
                ini = esc(&initials(&title)),
                t = esc(&title),
                d = esc(&detail),
            ));
        }
        body.push_str("</ul></form><div class=\"sep\">or sign in with a password</div>");
    } else {
        body.push_str(
            "<p class=\"muted\">No personas are registered yet. Add users in the Latchkey app or a <code>[[users]]</code> \
             section of <code>latchkey.toml</code>.</p>",
        );
    }
    let focus = if v.current.is_none() { " autofocus" } else { "" };
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\">{hidden}\
         <label for=\"username\">Username</label><input id=\"username\" type=\"text\" name=\"username\" autocomplete=\"username\" value=\"{}\" data-testid=\"login-username\"{focus}>\
         <label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" data-testid=\"login-password\">\
         <button class=\"btn full\" type=\"submit\" data-testid=\"login-submit\">Sign in</button></form>",
        esc(login_action),
        esc(v.username.as_deref().unwrap_or("")),
    ));
    if v.current.is_some() {
        body.push_str("</details>");
    }
    page(StatusCode::OK, "Sign in", &body, None)
}

/// The consent page: approve or deny.
pub fn consent(v: &ConsentView, action: &str) -> Response {
    let mut body = format!(
        "<h1 data-testid=\"consent-title\">Allow access?</h1><p class=\"sub\"><strong data-testid=\"consent-client\">{}</strong> (<code>{}</code>) wants to access your account \
         <strong data-testid=\"consent-user\">{}</strong>:</p><ul class=\"scopes\" data-testid=\"consent-scopes\">",
        esc(&v.client_name),
        esc(&v.client_id),
        esc(&v.username)
    );
    if let Some(n) = &v.notice {
        body = body.replacen(
            "<ul class=\"scopes\"",
            &format!(
                "<p class=\"notice\" data-testid=\"consent-dynamic-notice\">{}</p><ul class=\"scopes\"",
                esc(n)
            ),
            1,
        );
    }
    for s in &v.scopes {
        body.push_str(&format!(
            "<li data-testid=\"consent-scope-{n}\"><code>{n}</code><span>{}</span></li>",
            esc(if s.description.is_empty() {
                "No description"
            } else {
                &s.description
            }),
            n = esc(&s.name),
        ));
    }
    body.push_str("</ul>");
    if !v.resources.is_empty() {
        // RFC 8707: the APIs the tokens will be for.
        let list: Vec<String> = v.resources.iter().map(|r| format!("<code>{}</code>", esc(r))).collect();
        body.push_str(&format!(
            "<p class=\"muted\" data-testid=\"consent-resources\">For use at: {}</p>",
            list.join(", ")
        ));
    }
    body.push_str(if v.remembered {
        "<p class=\"muted\">Your answer is remembered for this app.</p>"
    } else {
        "<p class=\"muted\">This app asks every time: your answer is not remembered.</p>"
    });
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"req\" value=\"{}\">\
         <div class=\"row\"><button class=\"btn secondary\" type=\"submit\" name=\"decision\" value=\"deny\" data-testid=\"consent-deny\">Deny</button>\
         <button class=\"btn\" type=\"submit\" name=\"decision\" value=\"approve\" data-testid=\"consent-approve\" autofocus>Allow</button></div></form>",
        esc(action),
        esc(&v.pending)
    ));
    page(StatusCode::OK, "Allow access", &body, None)
}

/// The page shown instead of sending the browser to a stored URI that must never be a
/// navigation target ([`crate::validate::check_navigation_target`]): a `javascript:` or
/// `data:` URI left in an older database, say. `what` names the field
/// (`redirect_uri`, `post_logout_redirect_uri`).
pub fn unsafe_target(what: &str, uri: &str, why: &str) -> Response {
    error(
        "Unsafe redirect URI",
        &format!(
            "Latchkey never sends the browser to the {what} `{}`: {why}. If a client has it registered \
             (older Latchkey versions accepted such URIs), register an http(s) or app URI for it instead.",
            uri.escape_debug()
        ),
    )
}

/// The form_post response mode (OAuth 2.0 Form Post Response Mode): an auto-submitted form
/// (with a button for no-JS browsers). A redirect URI that fails
/// [`crate::validate::check_navigation_target`] is never put into the form's `action`: the
/// user gets [`unsafe_target`] instead.
pub fn form_post(r: &AuthResponse) -> Response {
    if let Err(why) = crate::validate::check_navigation_target(&r.redirect_uri) {
        return unsafe_target("redirect_uri", &r.redirect_uri, &why);
    }
    let mut body = format!(
        "<h1>Returning to the app…</h1><form method=\"post\" action=\"{}\">",
        esc(&r.redirect_uri)
    );
    for (k, v) in &r.params {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    body.push_str("<noscript><button class=\"btn\" type=\"submit\">Continue</button></noscript></form>");
    page(StatusCode::OK, "Returning", &body, Some("document.forms[0].submit()"))
}

/// Asks the user to confirm signing out.
pub fn logout_confirm(client_name: Option<&str>, params: &[(String, String)], action: &str) -> Response {
    let mut body = String::from("<h1>Sign out?</h1>");
    body.push_str(&match client_name {
        Some(c) => format!(
            "<p class=\"sub\"><strong>{}</strong> asks to sign you out of Latchkey.</p>",
            esc(c)
        ),
        None => "<p class=\"sub\">Sign out of Latchkey in this browser.</p>".to_string(),
    });
    body.push_str(&format!("<form method=\"post\" action=\"{}\">", esc(action)));
    for (k, v) in params {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    body.push_str(
        "<input type=\"hidden\" name=\"confirm\" value=\"yes\"><div class=\"row\"><button class=\"btn\" type=\"submit\" data-testid=\"logout-confirm\" autofocus>Sign out</button></div></form>",
    );
    page(StatusCode::OK, "Sign out", &body, None)
}

/// Signed out.
pub fn logged_out() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        "<h1 data-testid=\"logged-out-title\">You are signed out</h1><p class=\"sub\">You can close this window.</p>",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn initials_are_short() {
        assert_eq!(initials("Alice Liddell"), "AL");
        assert_eq!(initials("bob"), "B");
    }
}
