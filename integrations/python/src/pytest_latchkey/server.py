"""Starting a Latchkey server and driving its admin API (standard library only).

`Latchkey.start()` runs `latchkey serve --port 0 --db :memory: --ready-file PATH` and returns
once the server answers; the methods wrap the admin API (`/admin/api/...`, see Latchkey's
docs/admin-api.md). Nothing here depends on pytest, so the same class works in unittest, a
script, or another test runner.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import contextlib
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

__all__ = [
    "Latchkey",
    "LatchkeyAdminError",
    "LatchkeyLoginError",
    "LatchkeyNotFound",
    "LatchkeyStartError",
    "find_binary",
]

PathLike = Union[str, "os.PathLike[str]"]

INSTALL_HINT = (
    "Install Latchkey (`pip install latchkey-oidc`, a dependency of this plugin, carries the binary for "
    "Linux, macOS and Windows) or put `latchkey` on PATH, or set LATCHKEY_BIN to the binary "
    "(pytest: --latchkey-bin PATH). From a checkout of the Latchkey repository: "
    "`scripts/build-static.sh` builds target/static/latchkey, which runs on any x86_64 Linux; "
    "`cargo build --release` builds target/release/latchkey."
)


class LatchkeyNotFound(RuntimeError):
    """The `latchkey` binary is not on PATH and LATCHKEY_BIN does not name one."""


class LatchkeyStartError(RuntimeError):
    """The server exited or did not answer in time; the message carries its output."""


class LatchkeyAdminError(RuntimeError):
    """The admin API answered with an error.

    Attributes: `status` (HTTP status), `code` (the API's `error`, e.g. `invalid`,
    `not_found`), `fields` (a list of `{field, message}`) and `body` (the parsed JSON).
    """

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status = status
        self.body = body
        self.code = body.get("error") if isinstance(body, dict) else None
        self.fields = body.get("fields", []) if isinstance(body, dict) else []
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"{method} {path}: {status} {self.code or ''}: {message}".replace(":  ", ": "))


class LatchkeyLoginError(RuntimeError):
    """`Latchkey.authorize()` did not end in a redirect to the app: the authorization request
    was refused (the message is the page's), the password was wrong, or the user denied."""


def find_binary(explicit: Optional[PathLike] = None) -> str:
    """The `latchkey` executable: `explicit`, else LATCHKEY_BIN, else `latchkey` on PATH, else
    the one the `latchkey-oidc` package installed (`latchkey_oidc.binary_path()`).

    Raises LatchkeyNotFound with what to install when none is found.
    """
    for source, candidate in (("given", explicit), ("LATCHKEY_BIN", os.environ.get("LATCHKEY_BIN"))):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return str(path.resolve())
            found = shutil.which(str(candidate))
            if found:
                return found
            raise LatchkeyNotFound(f"{source} Latchkey binary {str(candidate)!r} is not an executable file. {INSTALL_HINT}")
    found = shutil.which("latchkey")
    if found:
        return found
    # The binary the `latchkey-oidc` wheel (a dependency of this plugin) installed.
    try:
        import latchkey_oidc

        return latchkey_oidc.binary_path()
    except (ImportError, FileNotFoundError) as e:
        why = f" ({e})"
    raise LatchkeyNotFound(f"`latchkey` is not on PATH, LATCHKEY_BIN is not set, and the latchkey-oidc package has no binary here{why}. {INSTALL_HINT}")


class Latchkey:
    """A running Latchkey server (one process) and its admin API.

    Use `Latchkey.start(config="latchkey.toml")`, or as a context manager:

        with Latchkey.start(config="latchkey.toml") as lk:
            token = lk.mint_token("books-backend")["access_token"]

    Attributes:
        issuer: the issuer identifier, e.g. `http://localhost:41235` (also the base URL of
            every protocol endpoint: `{issuer}/token`, `{issuer}/.well-known/openid-configuration`).
        admin_url: the admin API's base, `{issuer}/admin/api`.
        log_path: the file the server's output goes to (look here when a test fails).
        process: the `subprocess.Popen` of the server.
        ca_cert: with TLS, the path of Latchkey's CA certificate (`ca.pem`), else None.
        trust_env: with TLS, the variables that make runtimes trust that CA
            (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, ...: what
            `latchkey exec --tls` sets), else `{}`. `trusted()` applies them to `os.environ`.
    """

    def __init__(
        self,
        process: Optional[subprocess.Popen],
        issuer: str,
        workdir: Optional[str] = None,
        log_path: Optional[str] = None,
        binary: Optional[str] = None,
        *,
        admin_url: Optional[str] = None,
        admin_token: Optional[str] = None,
        trust_env: Optional[Mapping[str, str]] = None,
    ):
        self.trust_env = dict(trust_env or {})
        self.ca_cert = self.trust_env.get("LATCHKEY_CA_CERT")
        # Admin calls and authorize() verify the server against the CA (never turned off).
        self._ssl = ssl.create_default_context(cafile=self.ca_cert) if self.ca_cert else None
        self.process = process
        self.issuer = issuer.strip()
        self.admin_url = (admin_url or self.issuer.rstrip("/") + "/admin/api").rstrip("/")
        self.log_path = log_path
        self.binary = binary
        self._workdir = workdir
        self._admin_token = admin_token

    @classmethod
    def connect(
        cls, issuer: Optional[str] = None, *, admin_url: Optional[str] = None, admin_token: Optional[str] = None
    ) -> "Latchkey":
        """Drives a server started elsewhere: under `latchkey exec` (LATCHKEY_ISSUER and
        LATCHKEY_ADMIN_URL are set), or a container started with `--admin-token`
        (`admin_token`, or LATCHKEY_ADMIN_TOKEN). `stop()` then does nothing."""
        issuer = issuer or os.environ.get("LATCHKEY_ISSUER")
        if not issuer:
            raise LatchkeyNotFound("Latchkey.connect: no issuer given and LATCHKEY_ISSUER is not set")
        ca = os.environ.get("LATCHKEY_CA_CERT")
        return cls(
            None,
            issuer,
            admin_url=admin_url or os.environ.get("LATCHKEY_ADMIN_URL"),
            admin_token=admin_token or os.environ.get("LATCHKEY_ADMIN_TOKEN"),
            trust_env={"LATCHKEY_CA_CERT": ca} if ca else None,
        )

    # ---- life cycle ----

    @classmethod
    def start(
        cls,
        config: Optional[PathLike] = None,
        *,
        binary: Optional[PathLike] = None,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        timeout: float = 30.0,
        tls: bool = False,
        tls_dir: Optional[PathLike] = None,
    ) -> "Latchkey":
        """Starts `latchkey serve` on a free loopback port with an in-memory database.

        `config`: a latchkey.toml to load (clients, scopes, users, resources, settings);
        `args`: more `latchkey serve` flags (e.g.
        `["--issuer", "http://localhost:9999/realms/dev"]`); `env`: extra environment.
        `tls=True` serves HTTPS (issuer `https://localhost:<port>`) with a certificate from
        Latchkey's local CA, kept in `tls_dir` (default: Latchkey's data directory, the CA
        `latchkey ca` shows); `ca_cert` and `trust_env` then say how to trust it.
        The server's own LATCHKEY_* settings are not inherited from this process (a test run
        under `latchkey exec` has LATCHKEY_ISSUER set, which must not leak into a new server).

        Returns once the server answers (it writes its issuer to the ready file then); raises
        LatchkeyStartError with the server's output if it exits or `timeout` seconds pass.
        """
        exe = find_binary(binary)
        workdir = tempfile.mkdtemp(prefix="latchkey-")
        ready = os.path.join(workdir, "ready")
        log_path = os.path.join(workdir, "latchkey.log")
        command = [exe, "serve", "--port", "0", "--db", ":memory:", "--ready-file", ready]
        if config is not None:
            config_path = Path(config).expanduser()
            if not config_path.is_file():
                shutil.rmtree(workdir, ignore_errors=True)
                raise LatchkeyStartError(f"Latchkey config file {str(config_path)!r} does not exist")
            command += ["--config", str(config_path.resolve())]
        if tls:
            command.append("--tls")
            if tls_dir is not None:
                command += ["--tls-dir", str(Path(tls_dir).expanduser().resolve())]
        command += list(args)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_") or k == "LATCHKEY_LOG"}
        child_env.update(env or {})
        log = open(log_path, "wb")
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=workdir,
                preexec_fn=_die_with_parent(),
            )
        except OSError as e:
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise LatchkeyNotFound(f"cannot run {exe}: {e}. {INSTALL_HINT}") from e
        finally:
            if not log.closed:
                log.close()
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            if os.path.exists(ready):
                with open(ready, encoding="utf-8") as f:
                    issuer = f.read().strip()
                if issuer:
                    server = cls(process, issuer, workdir, log_path, exe)
                    if tls:
                        try:
                            server = cls(process, issuer, workdir, log_path, exe, trust_env=_trust_env(exe, tls_dir, child_env))
                        except Exception:
                            server.stop()
                            raise
                    return server
            code = process.poll()
            if code is not None:
                output = _read(log_path)
                shutil.rmtree(workdir, ignore_errors=True)
                raise LatchkeyStartError(
                    f"latchkey serve exited with status {code} before it answered.\n"
                    f"command: {' '.join(command)}\n{output}"
                )
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                output = _read(log_path)
                shutil.rmtree(workdir, ignore_errors=True)
                raise LatchkeyStartError(f"latchkey serve did not answer within {timeout} s.\n{output}")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the server (SIGTERM, then SIGKILL after `timeout` seconds) and removes its
        temporary directory. Calling it twice is harmless."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    @contextlib.contextmanager
    def trusted(self) -> Iterator[None]:
        """Within the block, `os.environ` carries `trust_env`, so `requests`, `httpx`, urllib
        and subprocesses (Node.js, curl) trust the server's certificate; the previous values
        come back afterwards. Does nothing without TLS."""
        saved = {k: os.environ.get(k) for k in self.trust_env}
        os.environ.update(self.trust_env)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def __enter__(self) -> "Latchkey":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Latchkey {self.issuer} pid={self.process.pid if self.process else None}>"

    def url(self, path: str = "") -> str:
        """An absolute URL on the server: `url("/token")` is `{issuer}/token`."""
        return self.issuer.rstrip("/") + path

    @property
    def output(self) -> str:
        """What the server has written to stdout and stderr so far ("" for a connected one)."""
        return _read(self.log_path) if self.log_path else ""

    # ---- the admin API ----

    def admin(self, method: str, path: str, body: Any = None, *, params: Optional[Mapping[str, Any]] = None) -> Any:
        """One admin API call: `admin("GET", "/clients")`. `body` is sent as JSON; the parsed
        JSON answer is returned (None for 204). Raises LatchkeyAdminError on 4xx/5xx."""
        url = self.admin_url + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self._admin_token:
            headers["Authorization"] = f"Bearer {self._admin_token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._ssl) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise LatchkeyAdminError(method, path, e.code, parsed) from None
        return json.loads(raw) if raw else None

    def reset(self, *, keys: bool = False) -> dict:
        """Back to the state the config file describes: tokens, sessions,
        consents, the request log, the clock and the counters are cleared; clients, scopes,
        users and resources are those of the file again. The signing keys are kept unless
        `keys=True` (then tokens signed before no longer verify). Takes a few milliseconds.

        Returns the summary: `{tokens, consents, requests, keys, elapsed_ms}`."""
        return self.admin("POST", "/reset", {"keys": True} if keys else None)

    def mint_token(
        self,
        client_id: str,
        *,
        user: Optional[str] = None,
        scopes: Optional[Iterable[str]] = None,
        ttl: Optional[int] = None,
        claims: Optional[Mapping[str, Any]] = None,
    ) -> dict:
        """Mints an access token for `client_id` (and `user`, a username: `sub` becomes theirs)
        without any flow. `scopes` must be within the client's (default: all of them); `ttl`
        in seconds; `claims` are extra claims (registered ones cannot be replaced).

        Returns `{access_token, token_type, expires_in, scope, id}`.
        """
        body: dict = {"client_id": client_id}
        if user is not None:
            body["username"] = user
        if scopes is not None:
            body["scopes"] = list(scopes)
        if ttl is not None:
            body["ttl"] = ttl
        if claims is not None:
            body["claims"] = dict(claims)
        return self.admin("POST", "/tokens", body)

    def clock(self) -> dict:
        """The server clock: `{now (UNIX seconds), offset (seconds from real time)}`."""
        return self.admin("GET", "/clock")

    def add_fault(self, rule: Mapping[str, Any]) -> dict:
        """Adds a fault rule (docs/faults.md), e.g. `add_fault({"name": "down", "endpoint":
        "token", "action": "status", "status": 503, "times": 1})`. Returns the rule with its
        counters (`matched`, `fired`, `active`). `reset()` removes it again."""
        return self.admin("POST", "/faults", dict(rule))

    def remove_fault(self, name: str) -> None:
        """Removes the fault rule `name`."""
        self.admin("DELETE", "/faults/" + urllib.parse.quote(name, safe=""))

    def faults(self) -> list:
        """Every fault rule with its counters."""
        return self.admin("GET", "/faults")

    def stats(self) -> dict:
        """Call counts since start or the last reset: `{since_ms, all, clients, users, other}`,
        each count `{total, endpoints: {"token": 2, ...}}`."""
        return self.admin("GET", "/stats")

    def advance_clock(self, seconds: int) -> dict:
        """Moves the server clock forward by `seconds` (negative: back). Issuance, expiry and
        introspection all follow it. Returns the clock. `reset()` puts it back."""
        return self.admin("POST", "/clock", {"advance": int(seconds)})

    def set_clock_offset(self, seconds: int) -> dict:
        """Sets the clock to real time plus `seconds` (0: real time)."""
        return self.admin("POST", "/clock", {"offset": int(seconds)})

    def requests(
        self, *, path: Optional[str] = None, client_id: Optional[str] = None, limit: Optional[int] = None
    ) -> list:
        """The request log (the last 1,000 protocol requests), oldest first: one dict per
        request (`method`, `path`, `status`, `client_id`, `params` with secrets redacted,
        `response`, `curl`, ...). `path` and `client_id` keep only matching entries (exact
        match); `limit` keeps only the newest `limit` of those."""
        items: list = []
        cursor = None
        while True:
            page = self.admin("GET", "/requests", params={"limit": 500, "cursor": cursor})
            items += page["items"]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        picked = [
            r
            for r in items
            if (path is None or r.get("path") == path) and (client_id is None or r.get("client_id") == client_id)
        ]
        if limit is not None:
            picked = picked[:limit]
        picked.reverse()
        return picked

    def tokens(self, **filters: Any) -> list:
        """Tokens issued, newest first. Filters: `client_id`, `username`, `kind`, `status`
        (`active`, `expired`, `revoked`, `consumed`), `limit`."""
        return self.admin("GET", "/tokens", params=filters)["items"]

    def token(self, token: str) -> dict:
        """Everything Latchkey knows about a token string: `record`, decoded `header` and
        `payload`, `signature`, live `status`, and what `/introspect` would answer."""
        return self.admin("POST", "/tokens/inspect", {"token": token})

    def authorize(
        self,
        authorization_url: str,
        user: str,
        *,
        password: Optional[str] = None,
        consent: bool = True,
    ) -> str:
        """Plays the browser for an authorization request your app built (authorization code
        flow, OIDC Core §3.1): opens `authorization_url`, signs in as `user` (the persona,
        without a password; with `password`, through the username/password form), approves the
        consent page when the client requires consent (`consent=False` denies it), and returns
        the URL Latchkey redirects to: your app's callback with `code` and `state` (or
        `error`). Hand that URL to your app's callback handler.

        Each call is a new browser (no session cookie carried over). Raises
        LatchkeyLoginError if the flow ends on a Latchkey page instead (a bad request, a wrong
        password), with the page's message. `response_mode=form_post` is not supported.
        """
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar),
            _NoRedirect(),
            urllib.request.HTTPSHandler(context=self._ssl),
        )
        status, location, page = _browse(opener, authorization_url)
        if location is None:
            req = _hidden(page, "req")
            if req is None:
                raise LatchkeyLoginError(f"the authorization request was refused: {_page_message(page)}")
            form = {"req": req}
            if password is None:
                form["persona"] = user
            else:
                form.update(username=user, password=password)
            status, location, page = _browse(opener, self.url("/login"), form)
        if location is None and "decision" in page:
            req = _hidden(page, "req")
            if req is None:
                raise LatchkeyLoginError(f"unexpected consent page: {_page_message(page)}")
            decision = "approve" if consent else "deny"
            status, location, page = _browse(opener, self.url("/consent"), {"req": req, "decision": decision})
        if location is None:
            raise LatchkeyLoginError(f"signing in as {user!r} did not redirect (HTTP {status}): {_page_message(page)}")
        return urllib.parse.urljoin(authorization_url, location)

    def revoke(self, token_id: str) -> Any:
        """Revokes a token by its id (from `mint_token()["id"]` or `tokens()`)."""
        return self.admin("POST", f"/tokens/{urllib.parse.quote(token_id, safe='')}/revoke")


def _trust_env(exe: str, tls_dir: Optional[PathLike], env: Mapping[str, str]) -> dict:
    """`latchkey ca --env` parsed: `{NAME: value}` (it prints `export NAME='value'` lines)."""
    command = [exe, "ca", "--env"]
    if tls_dir is not None:
        command += ["--tls-dir", str(Path(tls_dir).expanduser().resolve())]
    out = subprocess.run(command, capture_output=True, text=True, env=dict(env), check=False)
    if out.returncode != 0:
        raise LatchkeyStartError(f"`{' '.join(command)}` failed: {out.stderr.strip()}")
    trust = {}
    for line in out.stdout.splitlines():
        m = re.fullmatch(r"export (\w+)='(.*)'", line)
        if m:
            trust[m.group(1)] = m.group(2).replace("'\\''", "'")
    return trust


def _die_with_parent():
    """On Linux, from the main thread: a `preexec_fn` that asks the kernel to SIGTERM the server
    when this process dies (PR_SET_PDEATHSIG), so a test run killed with SIGKILL leaves no server
    behind. (The signal follows the thread that started the child, hence main thread only.)"""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_death_signal() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_death_signal


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _browse(opener: urllib.request.OpenerDirector, url: str, form: Optional[Mapping[str, str]] = None):
    """GET (or POST `form`) like a browser without following redirects: (status, Location or
    None, page text)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={"Accept": "text/html"})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, None, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        if 300 <= e.code < 400 and e.headers.get("Location"):
            return e.code, e.headers["Location"], body
        return e.code, None, body


def _hidden(page: str, name: str) -> Optional[str]:
    m = re.search(r'<input type="hidden" name="%s" value="([^"]*)"' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


def _page_message(page: str) -> str:
    m = re.search(r'<div class="error" role="alert">(.*?)</div>', page, re.S) or re.search(r"<p[^>]*>(.*?)</p>", page, re.S)
    text = m.group(1) if m else page[:300]
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
