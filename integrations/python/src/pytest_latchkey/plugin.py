"""The pytest plugin: a Latchkey server per test session (per worker under pytest-xdist),
reset before every test that asks for it.

Fixtures:
    latchkey         (function) the server, reset to the config's state before the test
    latchkey_server  (session)  the server, as is (no reset): for session-scoped fixtures
    latchkey_config  (session)  the config file: --latchkey-config / the `latchkey_config` ini
                                value; override it in a conftest.py to choose in code

Options (command line, or ini keys without the leading dashes and with underscores):
    --latchkey-config FILE   latchkey.toml to start from (ini paths are relative to the ini file)
    --latchkey-bin PATH      the latchkey binary (else LATCHKEY_BIN, else PATH)
    --latchkey-tls           serve HTTPS with Latchkey's local CA; the session's os.environ
                             then trusts it (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...)
    latchkey_args (ini)      more `latchkey serve` flags, one per line

The clock, faults and reset are server-wide, so tests that run in parallel must not share a
server: pytest-xdist runs each session-scoped fixture once per worker, so each worker gets its
own server on its own port.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Iterator, Optional

import pytest

from .server import Latchkey, LatchkeyNotFound, LatchkeyStartError, find_binary

CONFIG_HELP = "latchkey.toml the Latchkey server starts from"
TLS_HELP = (
    "serve HTTPS with Latchkey's local CA; the session's environment then trusts it "
    "(SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, ...)"
)
BIN_HELP = "the latchkey binary (default: $LATCHKEY_BIN, else `latchkey` on PATH)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("latchkey", "Latchkey (local OAuth 2.0 / OpenID Connect provider)")
    group.addoption("--latchkey-config", metavar="FILE", default=None, help=CONFIG_HELP)
    group.addoption("--latchkey-bin", metavar="PATH", default=None, help=BIN_HELP)
    parser.addini("latchkey_config", CONFIG_HELP + " (relative to the ini file)", default=None)
    parser.addini("latchkey_bin", BIN_HELP, default=None)
    parser.addini("latchkey_args", "more `latchkey serve` flags, one per line", type="linelist", default=[])
    group.addoption("--latchkey-tls", action="store_true", default=None, help=TLS_HELP)
    parser.addini("latchkey_tls", TLS_HELP, type="bool", default=False)


def _ini_dir(config: pytest.Config) -> Path:
    return Path(config.inipath).parent if config.inipath else Path(config.rootpath)


def _setting(config: pytest.Config, name: str, path: bool = False) -> Optional[str]:
    value = config.getoption("--" + name.replace("_", "-"))
    if value:
        return str(Path(value).expanduser().resolve()) if path else value
    value = config.getini(name)
    if value:
        return str((_ini_dir(config) / Path(value).expanduser()).resolve()) if path else value
    return None


def pytest_report_header(config: pytest.Config) -> Optional[str]:
    cfg = _setting(config, "latchkey_config", path=True)
    try:
        binary = find_binary(_setting(config, "latchkey_bin", path=True))
    except Exception as e:  # reported again, as an error, by the first test that needs it
        binary = f"not found ({e.__class__.__name__})"
    return f"latchkey: {binary}" + (f", config {cfg}" if cfg else "")


@pytest.fixture(scope="session")
def latchkey_config(pytestconfig: pytest.Config) -> Optional[Path]:
    """The config file the session's server starts from (None: an empty server). Override this
    fixture in a conftest.py to pick the file in code."""
    value = _setting(pytestconfig, "latchkey_config", path=True)
    return Path(value) if value else None


@pytest.fixture(scope="session")
def latchkey_server(pytestconfig: pytest.Config, latchkey_config: Optional[Path]) -> Iterator[Latchkey]:
    """One Latchkey server for the session (for each pytest-xdist worker), stopped at the end.
    Not reset between tests: ask for `latchkey` in tests."""
    args = []
    for line in pytestconfig.getini("latchkey_args"):
        args += shlex.split(line)
    tls = bool(pytestconfig.getoption("--latchkey-tls") or pytestconfig.getini("latchkey_tls"))
    try:
        server = Latchkey.start(
            latchkey_config,
            binary=_setting(pytestconfig, "latchkey_bin", path=True),
            args=args,
            tls=tls,
        )
    except (LatchkeyNotFound, LatchkeyStartError) as e:
        # What to install, or the server's own message: no traceback into the plugin.
        pytest.fail(f"{e.__class__.__name__}: {e}", pytrace=False)
    try:
        # With TLS, the whole session (and what it starts) trusts the server's certificate.
        with server.trusted():
            yield server
    finally:
        server.stop()


@pytest.fixture
def latchkey(latchkey_server: Latchkey) -> Latchkey:
    """The session's Latchkey server, reset to the config's state before this test: no tokens,
    sessions, consents or logged requests from earlier tests, the clock at real time, the
    clients, scopes, users and resources of the config file."""
    latchkey_server.reset()
    return latchkey_server
