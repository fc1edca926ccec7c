import pytest

from books_app import Settings


@pytest.fixture
def backend(latchkey):
    """The backend's settings, pointed at this test's Latchkey."""
    return Settings(latchkey.issuer, "books-backend", "books-backend-secret")


@pytest.fixture
def web(latchkey):
    """The web app's settings, pointed at this test's Latchkey."""
    return Settings(latchkey.issuer, "books-web", "books-web-secret")
