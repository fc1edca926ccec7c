"""The web app signs users in with the authorization code flow; Latchkey plays the browser."""

import pytest

from books_app import TokenVerifier, WebLogin
from pytest_latchkey import LatchkeyLoginError


def test_alice_signs_in(latchkey, web):
    login = WebLogin(web)

    callback_url = latchkey.authorize(login.start(), "alice")
    result = login.callback(callback_url)

    assert result["user"]["email"] == "alice@example.com"
    assert result["user"]["name"] == "Alice Liddell"
    TokenVerifier(latchkey.issuer, "books-api").verify(result["access_token"], "read_books")


def test_signing_in_with_a_password(latchkey, web):
    login = WebLogin(web)

    result = login.callback(latchkey.authorize(login.start(), "bob", password="bob-password"))

    assert result["user"]["email_verified"] is False


def test_a_wrong_password_stays_on_the_login_page(latchkey, web):
    login = WebLogin(web)

    with pytest.raises(LatchkeyLoginError):
        latchkey.authorize(login.start(), "alice", password="wrong")


def test_a_tampered_callback_is_refused(latchkey, web):
    login = WebLogin(web)
    callback_url = latchkey.authorize(login.start(), "alice")

    with pytest.raises(Exception, match="state|mismatch|CSRF"):
        login.callback(callback_url.replace("state=", "state=x"))
