"""The app under test: the auth code of a small books service, written the way an app writes
it, with nothing Latchkey-specific. It only knows its issuer URL and client credentials (from
its settings); the tests point those at Latchkey.

- `backend_token()`: the backend gets an access token with the client credentials grant.
- `TokenVerifier`: the books API checks a bearer token (JWKS from discovery, iss, aud, exp,
  scope), as a resource server does.
- `WebLogin`: the web app signs a user in with the authorization code flow and PKCE.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Optional

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


@dataclass
class Settings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str = "http://localhost:3000/callback"
    audience: str = "books-api"


def discover(issuer: str) -> dict:
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def backend_token(settings: Settings, scope: str = "read_books") -> dict:
    """Client credentials (RFC 6749 §4.4), the way a backend job gets its token."""
    metadata = discover(settings.issuer)
    session = OAuth2Session(settings.client_id, settings.client_secret, scope=scope)
    return session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")


class Unauthorized(Exception):
    """401: no valid token."""


class Forbidden(Exception):
    """403: a valid token without the scope."""


class TokenVerifier:
    """What the books API does with `Authorization: Bearer ...`."""

    def __init__(self, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        metadata = discover(issuer)
        self.keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())

    def verify(self, token: str, scope: str) -> dict:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256", "PS256", "ES256", "EdDSA"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as e:
            raise Unauthorized(f"{e.__class__.__name__}: {e}") from e
        if scope not in decoded.claims.get("scope", "").split():
            raise Forbidden(f"the token lacks the {scope} scope")
        return decoded.claims


class WebLogin:
    """The web app's sign-in: authorization code flow with PKCE and a nonce (OIDC Core §3.1)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.metadata = discover(settings.issuer)
        self.session = OAuth2Session(
            settings.client_id,
            settings.client_secret,
            scope="openid profile email read_books",
            redirect_uri=settings.redirect_uri,
            code_challenge_method="S256",
        )
        self.code_verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)
        self.state: Optional[str] = None

    def start(self) -> str:
        """The URL the app redirects the browser to."""
        url, self.state = self.session.create_authorization_url(
            self.metadata["authorization_endpoint"], code_verifier=self.code_verifier, nonce=self.nonce
        )
        return url

    def callback(self, url: str) -> dict:
        """Handles the redirect back: checks state, exchanges the code, checks the id_token.
        Returns the tokens plus `user` (the id_token's claims)."""
        token = self.session.fetch_token(
            self.metadata["token_endpoint"], authorization_response=url, state=self.state, code_verifier=self.code_verifier
        )
        keys = KeySet.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=10).json())
        id_token = jwt.decode(token["id_token"], keys)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            nonce={"essential": True, "value": self.nonce},
        ).validate(id_token.claims)
        return {**token, "user": id_token.claims}
