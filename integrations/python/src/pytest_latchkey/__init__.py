"""pytest-latchkey: Latchkey (a local OAuth 2.0 / OpenID Connect provider) in your tests.

The plugin (registered through the `pytest11` entry point) gives the `latchkey` fixture; the
`Latchkey` class starts and drives a server without pytest too.
"""

from .server import (
    Latchkey,
    LatchkeyAdminError,
    LatchkeyLoginError,
    LatchkeyNotFound,
    LatchkeyStartError,
    find_binary,
)

__all__ = ["Latchkey", "LatchkeyAdminError", "LatchkeyLoginError", "LatchkeyNotFound", "LatchkeyStartError", "find_binary"]
__version__ = "0.1.0"
