"""HTTPS: a server with Latchkey's local CA, trusted through the variables `trusted()` sets,
with certificate verification on throughout (requests, Authlib, the verifier's JWKS fetch)."""

from pathlib import Path

import pytest
import requests

from books_app import Settings, TokenVerifier, backend_token
from pytest_latchkey import Latchkey

CONFIG = Path(__file__).parent.parent / "latchkey.toml"


def test_the_backend_gets_a_token_over_https_and_the_api_verifies_it(tmp_path):
    with Latchkey.start(CONFIG, tls=True, tls_dir=tmp_path / "tls") as lk:
        assert lk.issuer.startswith("https://localhost:")
        assert Path(lk.ca_cert).name == "ca.pem"
        # The admin API is reached over TLS too, verifying against the CA.
        assert lk.admin("GET", "/status")["issuer"] == lk.issuer

        # Not trusted yet: verification is on, so the handshake fails.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(lk.url("/.well-known/openid-configuration"), timeout=10)

        with lk.trusted():
            token = backend_token(Settings(lk.issuer, "books-backend", "books-backend-secret"))
            claims = TokenVerifier(lk.issuer, "books-api").verify(token["access_token"], "read_books")
        assert claims["iss"] == lk.issuer

        # The variables are restored afterwards.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(lk.url("/.well-known/openid-configuration"), timeout=10)


def test_a_login_over_https(tmp_path):
    with Latchkey.start(CONFIG, tls=True, tls_dir=tmp_path / "tls") as lk:
        url = lk.url("/authorize?response_type=code&client_id=books-web&scope=openid"
                     "&redirect_uri=http://localhost:3000/callback&state=s1"
                     "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
        callback = lk.authorize(url, "alice")
        assert callback.startswith("http://localhost:3000/callback?code=")
