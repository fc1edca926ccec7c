"""The backend gets tokens with client credentials; the books API checks them."""

import pytest
from authlib.integrations.base_client.errors import OAuthError

from books_app import Forbidden, TokenVerifier, Unauthorized, backend_token


def test_the_backend_gets_a_token_the_api_accepts(latchkey, backend):
    token = backend_token(backend)

    claims = TokenVerifier(latchkey.issuer, "books-api").verify(token["access_token"], "read_books")

    assert claims["client_id"] == "books-backend"
    assert claims["iss"] == latchkey.issuer


def test_a_wrong_client_secret_is_invalid_client(backend):
    backend.client_secret = "not-the-secret"

    with pytest.raises(OAuthError) as e:
        backend_token(backend)

    assert e.value.error == "invalid_client"


def test_a_scope_the_client_may_not_have_is_invalid_scope(backend):
    with pytest.raises(OAuthError) as e:
        backend_token(backend, scope="read_books delete_books")

    assert e.value.error == "invalid_scope"


def test_the_api_refuses_a_token_without_its_scope(latchkey):
    minted = latchkey.mint_token("books-backend", scopes=["add_books"])

    with pytest.raises(Forbidden):
        TokenVerifier(latchkey.issuer, "books-api").verify(minted["access_token"], "read_books")


def test_the_api_refuses_a_token_for_another_audience(latchkey):
    # A client added for this test only: the reset before the next test removes it.
    latchkey.admin(
        "POST",
        "/clients",
        {"client_id": "reports", "client_secret": "reports-secret-0123456789", "scopes": ["read_books"], "audiences": ["reports-api"]},
    )
    minted = latchkey.mint_token("reports")

    with pytest.raises(Unauthorized, match="aud"):
        TokenVerifier(latchkey.issuer, "books-api").verify(minted["access_token"], "read_books")


def test_a_token_for_a_user_carries_their_subject(latchkey):
    minted = latchkey.mint_token("books-web", user="alice", scopes=["read_books"], claims={"tenant": "acme"})

    claims = TokenVerifier(latchkey.issuer, "books-api").verify(minted["access_token"], "read_books")

    assert claims["tenant"] == "acme"
    assert claims["sub"] == latchkey.admin("GET", "/users/alice")["sub"]
