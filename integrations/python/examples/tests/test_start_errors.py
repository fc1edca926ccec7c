"""What a developer sees when Latchkey is missing or the config is wrong."""

import pytest

from pytest_latchkey import Latchkey, LatchkeyNotFound, LatchkeyStartError


def test_a_missing_binary_says_what_to_install(tmp_path):
    with pytest.raises(LatchkeyNotFound, match="LATCHKEY_BIN.*scripts/build-static.sh"):
        Latchkey.start(binary=tmp_path / "no-such-latchkey")


def test_a_broken_config_names_the_file_line_and_key(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text('[server]\naccess_token_ttl = "soon"\n')

    with pytest.raises(LatchkeyStartError) as e:
        Latchkey.start(config)

    assert "broken.toml:2" in str(e.value)
    assert "access_token_ttl" in str(e.value)


def test_a_server_outside_the_fixture(tmp_path):
    with Latchkey.start() as lk:
        assert lk.issuer.startswith("http://localhost:")
        assert lk.admin("GET", "/status")["issuer"] == lk.issuer
        pid = lk.process.pid
    assert lk.process.poll() is not None, f"process {pid} still running after stop()"


def test_connect_drives_a_server_started_elsewhere_with_its_admin_token():
    token = "example-admin-token-0123456789"
    with Latchkey.start("latchkey.toml", args=["--admin-token", token]) as started:
        from pytest_latchkey import LatchkeyAdminError

        with pytest.raises(LatchkeyAdminError) as e:
            Latchkey.connect(started.issuer).clock()
        assert e.value.status == 401

        connected = Latchkey.connect(started.issuer, admin_token=token)
        assert connected.mint_token("books-backend")["scope"] == "read_books add_books"
        connected.stop()  # does nothing: the server is not connected's to stop
        assert started.process.poll() is None


def test_a_killed_test_run_leaves_no_server_behind(tmp_path):
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "killed.py"
    script.write_text(
        "import os\n"
        "from pytest_latchkey import Latchkey\n"
        "lk = Latchkey.start()\n"
        "print(lk.process.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    server = int(run.stdout.strip())

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(server, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(server, 9)
    raise AssertionError(f"server {server} outlived the killed test process")
