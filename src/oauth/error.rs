//! The protocol layer's error: an RFC error code and a description.
//!
//! Mapped to HTTP in exactly one place (`http::error`). Every error carries a description: this
//! is a development tool, and "why" is the most useful thing it can say.

use std::fmt;

/// Error codes, by the RFC that defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2, §4.1.2.1: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: invalid, expired, revoked or mismatched grant.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant.
    UnauthorizedClient,
    /// RFC 6749 §5.2: unknown grant type.
    UnsupportedGrantType,
    /// RFC 6749 §5.2: requested scope invalid or beyond what is allowed.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user or server denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: unknown response type.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1 / §5.2 (by extension): an unexpected server fault.
    ServerError,
    /// RFC 6749 §4.1.2.1: try again later.
    TemporarilyUnavailable,
    /// RFC 6750 §3.1: the access token is invalid.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks a required scope.
    InsufficientScope,
    /// RFC 7009 §2.2.1: the server cannot revoke this kind of token.
    UnsupportedTokenType,
    /// OIDC Core §3.1.2.6
    LoginRequired,
    /// OIDC Core §3.1.2.6
    ConsentRequired,
    /// OIDC Core §3.1.2.6
    InteractionRequired,
    /// OIDC Core §3.1.2.6
    AccountSelectionRequired,
    /// OIDC Core §3.1.2.6: request objects are not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: request_uri is not supported.
    RequestUriNotSupported,
    /// OIDC Core §3.1.2.6: the registration parameter is not supported.
    RegistrationNotSupported,
    /// RFC 8628 §3.5: the user has not yet approved or denied the device's request (400).
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls too often; its interval grew by 5 seconds (400).
    SlowDown,
    /// RFC 8628 §3.5: the device code expired; the device must start again (400).
    ExpiredToken,
    /// RFC 8693 §2.2.2 (and RFC 8707 §2): the requested `audience` or `resource` is not one
    /// the server will issue a token for (400).
    InvalidTarget,
    /// RFC 9449 §5, §7.1: the DPoP proof is missing, malformed or wrong (400 at the token
    /// endpoint, 401 with a `DPoP` challenge at a resource).
    InvalidDpopProof,
    /// RFC 9449 §8, §9: the DPoP proof lacks the server's current nonce; `DPoP-Nonce` has one.
    UseDpopNonce,
    /// RFC 9101 §7 (used by RFC 9126 §4): the `request_uri` is unknown, expired or already
    /// used (a pushed authorization request is single use).
    InvalidRequestUri,
    // ---- dynamic client registration (RFC 7591 §3.2.2) ----
    /// RFC 7591 §3.2.2: a redirect URI is invalid or not allowed (400).
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: a client metadata field is invalid or not allowed (400).
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: the software statement is invalid (400).
    InvalidSoftwareStatement,
    /// RFC 7591 §3.2.2: the software statement is not approved here (400).
    UnapprovedSoftwareStatement,
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::AccountSelectionRequired => "account_selection_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidSoftwareStatement => "invalid_software_statement",
            ErrorCode::UnapprovedSoftwareStatement => "unapproved_software_statement",
        }
    }
}

/// A protocol error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The RFC code.
    pub code: ErrorCode,
    /// What went wrong, for the developer.
    pub description: String,
    /// For `invalid_client`: the client tried HTTP Basic, so the 401 carries
    /// `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub basic_challenge: bool,
    /// For errors answered with 403 rather than 400 (an authenticated caller lacking a right).
    pub forbidden: bool,
    /// At a bearer-protected endpoint: the request carried no access token at all (or used
    /// another scheme), so the challenge is a bare `Bearer realm` without an error code
    /// (RFC 6750 §3.1). See [`OAuthError::no_token`].
    pub without_credentials: bool,
    /// For `insufficient_scope`: the scope(s) the request needs, space-separated, for the
    /// challenge's `scope` attribute (RFC 6750 §3).
    pub scope: Option<String>,
    /// DPoP (RFC 9449 §8): the nonce to send in the `DPoP-Nonce` response header.
    pub dpop_nonce: Option<String>,
    /// At a resource: the challenge is `WWW-Authenticate: DPoP` (RFC 9449 §7.1), not Bearer.
    pub dpop_challenge: bool,
}

impl OAuthError {
    /// An error with a code and description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
            forbidden: false,
            without_credentials: false,
            scope: None,
            dpop_nonce: None,
            dpop_challenge: false,
        }
    }

    /// A bearer-protected endpoint received no access token (RFC 6750 §3.1): answered 401
    /// with a bare `WWW-Authenticate: Bearer realm="..."` challenge; the JSON body says
    /// `invalid_token` with `description`.
    pub fn no_token(description: impl Into<String>) -> Self {
        OAuthError {
            without_credentials: true,
            ..Self::new(ErrorCode::InvalidToken, description)
        }
    }

    /// `insufficient_scope` (RFC 6750 §3.1, 403), naming the `scope` the request needs
    /// (space-separated scope tokens) for the challenge.
    pub fn insufficient_scope(description: impl Into<String>, scope: impl Into<String>) -> Self {
        OAuthError {
            scope: Some(scope.into()),
            ..Self::new(ErrorCode::InsufficientScope, description)
        }
    }

    /// `invalid_request`
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    /// `invalid_client`; `basic`: the client used HTTP Basic.
    pub fn invalid_client(d: impl Into<String>, basic: bool) -> Self {
        OAuthError {
            basic_challenge: basic,
            ..Self::new(ErrorCode::InvalidClient, d)
        }
    }

    /// `invalid_grant`
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    /// `invalid_scope`
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }

    /// `unauthorized_client`
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }

    /// `server_error`, logged with its cause; the client sees a generic description.
    pub fn server(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::ServerError, "internal server error; see the Latchkey log")
    }

    /// Marks the error as a 403 (authenticated, but not allowed).
    pub fn forbidden(mut self) -> Self {
        self.forbidden = true;
        self
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::server(e)
    }
}

impl From<crate::keys::KeyError> for OAuthError {
    fn from(e: crate::keys::KeyError) -> Self {
        OAuthError::server(e)
    }
}
