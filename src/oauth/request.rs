//! A validated authorization request and the authorization response it leads to: the types the
//! authorization endpoint, the pending-request store and the pages share (RFC 6749 §4.1.1,
//! §4.1.2; OIDC Core §3.1.2.1; OAuth 2.0 Multiple Response Type Encoding Practices; Form Post
//! Response Mode).

use super::pkce::Method;

/// Which of `code`, `token` and `id_token` a `response_type` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseTypes {
    /// `code`
    pub code: bool,
    /// `token`
    pub token: bool,
    /// `id_token`
    pub id_token: bool,
}

impl ResponseTypes {
    /// Parses a `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices §3).
    pub fn parse(raw: &str) -> Option<ResponseTypes> {
        let mut r = ResponseTypes::default();
        for part in raw.split(' ').filter(|s| !s.is_empty()) {
            let slot = match part {
                "code" => &mut r.code,
                "token" => &mut r.token,
                "id_token" => &mut r.id_token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        (r.code || r.token || r.id_token).then_some(r)
    }

    /// Whether this is the plain authorization code flow.
    pub fn is_code_only(self) -> bool {
        self.code && !self.token && !self.id_token
    }
}

/// The response types this server supports, for discovery.
pub const RESPONSE_TYPES: &[&str] = &[
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "token",
];

/// How the response travels back (OAuth 2.0 Multiple Response Types §2.1; Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query.
    Query,
    /// In the redirect URI's fragment.
    Fragment,
    /// An auto-submitted HTML form POSTed to the redirect URI.
    FormPost,
}

impl ResponseMode {
    /// Parses a `response_mode` value.
    pub fn parse(s: &str) -> Option<ResponseMode> {
        match s {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }

    /// The default mode of a response type (Multiple Response Types §2.1, §5).
    pub fn default_for(r: ResponseTypes) -> ResponseMode {
        if r.is_code_only() {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }
}

/// The `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    /// `none`: no UI at all.
    pub none: bool,
    /// `login`: re-authenticate.
    pub login: bool,
    /// `consent`: ask for consent again.
    pub consent: bool,
    /// `select_account`: show the account chooser.
    pub select_account: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// Where the response goes: the URI the request named, which matched a registered one
    /// (exactly, or with another port for a loopback IP URI, RFC 8252 §7.3).
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (then the token request must repeat it).
    pub redirect_uri_given: bool,
    /// What to return.
    pub response: ResponseTypes,
    /// How to return it.
    pub mode: ResponseMode,
    /// Requested (and allowed) scopes.
    pub scopes: Vec<String>,
    /// Round-tripped as is.
    pub state: Option<String>,
    /// Put into the id_token.
    pub nonce: Option<String>,
    /// The PKCE challenge.
    pub pkce: Option<(String, Method)>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// Pre-selects a persona.
    pub login_hint: Option<String>,
    /// The authentication context asked for (`acr_values`, the `claims` parameter).
    pub acr: super::acr::AcrRequest,
    /// `dpop_jkt` (RFC 9449 §10): the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
    /// The resources the tokens are for (RFC 8707 `resource`), checked against the client's
    /// allowed targets; kept with the code. Empty: the client's default audience.
    pub resources: Vec<String>,
    /// The `request_uri` of the pushed authorization request this came from (RFC 9126), if any.
    pub pushed: Option<String>,
}

impl AuthRequest {
    /// Approximate bytes held by this request (its strings), for the pending-request bounds.
    pub fn approx_size(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.client_id.len()
            + self.redirect_uri.len()
            + self.scopes.iter().map(|s| s.len() + 24).sum::<usize>()
            + opt(&self.state)
            + opt(&self.nonce)
            + self.pkce.as_ref().map_or(0, |(c, _)| c.len())
            + opt(&self.login_hint)
            + self
                .acr
                .values
                .iter()
                .chain(&self.acr.id_token_claims)
                .map(|s| s.len() + 24)
                .sum::<usize>()
            + self.resources.iter().map(|s| s.len() + 24).sum::<usize>()
            + opt(&self.pushed)
            + std::mem::size_of::<AuthRequest>()
    }
}

/// An authorization response (success or error) to deliver to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    /// The redirect URI the request used.
    pub redirect_uri: String,
    /// How.
    pub mode: ResponseMode,
    /// The parameters.
    pub params: Vec<(String, String)>,
}

impl AuthResponse {
    /// The redirect URL for query and fragment modes.
    pub fn location(&self) -> String {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter())
            .finish();
        match self.mode {
            ResponseMode::Fragment => format!("{}#{}", self.redirect_uri, encoded),
            _ => {
                let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
                format!("{}{}{}", self.redirect_uri, sep, encoded)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_order() {
        assert_eq!(
            ResponseTypes::parse("id_token code"),
            Some(ResponseTypes {
                code: true,
                token: false,
                id_token: true
            })
        );
        assert!(ResponseTypes::parse("code code").is_none());
        assert!(ResponseTypes::parse("device").is_none());
        assert!(ResponseTypes::parse("").is_none());
    }

    #[test]
    fn locations_keep_existing_queries_and_use_fragments() {
        let r = AuthResponse {
            redirect_uri: "http://localhost:3000/cb?x=1".into(),
            mode: ResponseMode::Query,
            params: vec![("code".into(), "a b".into()), ("state".into(), "s&t".into())],
        };
        assert_eq!(r.location(), "http://localhost:3000/cb?x=1&code=a+b&state=s%26t");
        let f = AuthResponse {
            mode: ResponseMode::Fragment,
            redirect_uri: "http://localhost:3000/cb".into(),
            ..r
        };
        assert_eq!(f.location(), "http://localhost:3000/cb#code=a+b&state=s%26t");
    }
}
