"""What the `latchkey` fixture gives each test: the request log, and a clean start."""

import json

import pytest

from books_app import backend_token


def test_the_request_log_shows_what_the_app_sent(latchkey, backend):
    backend_token(backend, scope="read_books")

    [entry] = latchkey.requests(path="/token")

    assert entry["method"] == "POST"
    assert entry["status"] == 200
    assert entry["client_id"] == "books-backend"
    params = {p["name"]: p["value"] for p in entry["params"]}
    assert params["grant_type"] == "client_credentials"
    assert params["scope"] == "read_books"
    assert "books-backend-secret" not in json.dumps(entry)  # secrets are redacted


def test_reset_goes_back_to_the_config_file(latchkey):
    token = latchkey.mint_token("books-backend")["access_token"]
    latchkey.admin("DELETE", "/clients/books-web")
    latchkey.advance_clock(60)

    latchkey.reset()

    assert latchkey.token(token)["introspection"]["active"] is False
    assert latchkey.admin("GET", "/clients/books-web")["redirect_uris"] == ["http://localhost:3000/callback"]
    assert latchkey.clock()["offset"] == 0
    assert latchkey.requests() == []
    assert latchkey.tokens() == []


def test_each_test_starts_with_an_empty_log(latchkey):
    assert latchkey.requests() == []
    assert latchkey.tokens() == []


def test_reset_with_new_keys_invalidates_every_signature(latchkey):
    from books_app import TokenVerifier, Unauthorized
    import pytest

    old = latchkey.mint_token("books-backend")["access_token"]

    summary = latchkey.reset(keys=True)

    assert summary["keys"] is True and summary["tokens"] == 1
    verifier = TokenVerifier(latchkey.issuer, "books-api")  # fetches the new JWKS
    with pytest.raises(Unauthorized):
        verifier.verify(old, "read_books")
    verifier.verify(latchkey.mint_token("books-backend")["access_token"], "read_books")


def test_a_fault_for_one_test_and_the_call_counts(latchkey, backend):
    latchkey.add_fault(
        {"name": "token down", "endpoint": "token", "client_id": "books-backend",
         "action": "status", "status": 503, "times": 1}
    )

    with pytest.raises(Exception):  # the app's OAuth client raises on the 503
        backend_token(backend, scope="read_books")
    backend_token(backend, scope="read_books")  # once: the next one works

    [rule] = latchkey.faults()
    assert (rule["fired"], rule["active"]) == (1, False)
    assert latchkey.stats()["clients"]["books-backend"]["endpoints"]["token"] == 2
    [failed, ok] = latchkey.requests(path="/token")
    assert failed["fault"]["rule"] == "token down"
    assert "fault" not in ok
    latchkey.remove_fault("token down")
    assert latchkey.faults() == []


def test_the_reset_removed_the_last_tests_fault(latchkey):
    assert latchkey.faults() == []
    assert latchkey.stats()["all"]["total"] == 0
