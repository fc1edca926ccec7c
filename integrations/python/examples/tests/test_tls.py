"""HTTPS: a server with Latchkey's local CA, trusted through the variables `trusted()` sets,
with certificate verification on throughout (requests, Authlib, the verifier's JWKS fetch)."""

from pathlib import Path
from urllib.parse import parse_qs, urlparse

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


def test_a_code_flow_over_https(tmp_path):
    """Authorization code + PKCE end to end over TLS: the browser part through the fixture, the
    code exchanged with `requests` verifying against the CA only."""
    with Latchkey.start(CONFIG, tls=True, tls_dir=tmp_path / "tls") as lk:
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
        url = lk.url("/authorize?response_type=code&client_id=books-web&scope=openid"
                     "&redirect_uri=http://localhost:3000/callback&state=s1"
                     "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
        callback = lk.authorize(url, "alice")
        assert callback.startswith("http://localhost:3000/callback?code=")
        code = parse_qs(urlparse(callback).query)["code"][0]
        response = requests.post(
            lk.url("/token"),
            auth=("books-web", "books-web-secret"),
            data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                  "redirect_uri": "http://localhost:3000/callback"},
            verify=lk.ca_cert,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["id_token"]
