"""Latchkey: a complete OAuth 2.0 / OpenID Connect provider on your own machine, for development.

The `latchkey-oidc` distribution carries the `latchkey` binary (installed as a script:
`latchkey serve`; `uvx --from latchkey-oidc latchkey serve`). `binary_path()` finds it for code
that starts Latchkey itself, such as the pytest-latchkey plugin.
"""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["binary_path"]


def binary_path() -> str:
    """The path of the `latchkey` executable this package installed.

    Looks where pip, pipx and uv put scripts for this interpreter (and for a `--user` install);
    raises FileNotFoundError when it is not there (a broken install)."""
    exe = "latchkey" + (".exe" if sys.platform == "win32" else "")
    candidates = [sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        candidates.append(sysconfig.get_path("scripts", scheme=user_scheme))
    # A target install (`pip install --target DIR`): the scripts sit in DIR/bin.
    candidates.append(os.path.join(os.path.dirname(os.path.dirname(__file__)), "bin"))
    for directory in candidates:
        path = os.path.join(directory, exe)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"the latchkey binary is not installed next to this package (looked in {candidates})")
