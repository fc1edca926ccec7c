"""Expiry without waiting: move Latchkey's clock."""

import pytest
import requests

from books_app import TokenVerifier, Unauthorized, backend_token


def test_an_expired_token_is_refused(latchkey):
    # Issued an hour ago with a one-minute lifetime: expired by the API's (real) clock.
    latchkey.set_clock_offset(-3600)
    expired = latchkey.mint_token("books-backend", ttl=60)["access_token"]

    with pytest.raises(Unauthorized, match="xpired"):
        TokenVerifier(latchkey.issuer, "books-api").verify(expired, "read_books")


def test_introspection_follows_the_clock(latchkey, backend):
    token = backend_token(backend)["access_token"]

    def active():
        response = requests.post(
            latchkey.url("/introspect"), data={"token": token}, auth=("books-backend", "books-backend-secret"), timeout=10
        )
        return response.json()["active"]

    assert active()
    latchkey.advance_clock(301)  # access_token_ttl is 300 s in latchkey.toml
    assert not active()


def test_every_test_starts_at_real_time(latchkey):
    # The tests above moved the clock; the `latchkey` fixture reset it.
    assert latchkey.clock()["offset"] == 0
