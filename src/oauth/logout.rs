//! RP-Initiated Logout 1.0: `/end_session`.

use super::form::Form;
use crate::ids;
use crate::model::Client;
use crate::provider::Provider;
use crate::store::TokenKind;

/// What the end-session endpoint does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Ask the user to confirm (no valid `id_token_hint` proved who is asking).
    Confirm {
        /// The client's display name, when known.
        client_name: Option<String>,
        /// The parameters to carry into the confirmation form.
        params: Vec<(String, String)>,
    },
    /// Signed out; send the browser to this registered URI.
    Redirect(String),
    /// Signed out; show a page.
    Done,
    /// The request is invalid: show why, never redirect.
    Error(String),
}

/// Handles a logout request. `confirmed`: the user pressed the confirmation button.
/// The caller ends the browser session when the outcome is `Redirect` or `Done`.
pub async fn end_session(p: &Provider, form: &Form, confirmed: bool) -> LogoutOutcome {
    let get = |k: &str| form.get(k).ok().flatten().map(str::to_string);
    let hint = get("id_token_hint");
    let redirect = get("post_logout_redirect_uri");
    let state = get("state");
    let mut client: Option<std::sync::Arc<Client>> = None;
    let mut hint_valid = false;
    if let Some(h) = &hint {
        match p.store.find_token_by_hash(ids::token_hash(h)).await {
            Ok(Some(r)) if r.kind == TokenKind::IdToken => {
                client = p.client(&r.client_id);
                hint_valid = true;
            }
            Ok(_) => return LogoutOutcome::Error("id_token_hint is not an id_token issued by this server.".into()),
            Err(e) => return LogoutOutcome::Error(super::OAuthError::server(e).description),
        }
    }
    if let Some(id) = get("client_id") {
        match (&client, p.client(&id)) {
            (Some(c), _) if c.client_id != id => {
                return LogoutOutcome::Error("client_id does not match the id_token_hint's audience.".into());
            }
            (None, Some(c)) => client = Some(c),
            (None, None) => return LogoutOutcome::Error(format!("Unknown client `{id}`.")),
            _ => {}
        }
    }
    if let Some(uri) = &redirect {
        match &client {
            None => {
                return LogoutOutcome::Error(
                    "post_logout_redirect_uri needs id_token_hint or client_id to know which client registered it."
                        .into(),
                );
            }
            Some(c) if !c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                return LogoutOutcome::Error(format!(
                    "post_logout_redirect_uri `{uri}` is not registered for client `{}`.",
                    c.client_id
                ));
            }
            _ => {}
        }
    }
    if !hint_valid && !confirmed {
        let params = form
            .pairs()
            .iter()
            .filter(|(k, _)| ["post_logout_redirect_uri", "state", "client_id", "ui_locales"].contains(&k.as_str()))
            .cloned()
            .collect();
        return LogoutOutcome::Confirm {
            client_name: client.map(|c| {
                if c.name.is_empty() {
                    c.client_id.clone()
                } else {
                    c.name.clone()
                }
            }),
            params,
        };
    }
    match redirect {
        Some(uri) => {
            let mut url = uri.clone();
            if let Some(s) = state {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", &s)
                    .finish();
                url.push(if uri.contains('?') { '&' } else { '?' });
                url.push_str(&q);
            }
            LogoutOutcome::Redirect(url)
        }
        None => LogoutOutcome::Done,
    }
}
