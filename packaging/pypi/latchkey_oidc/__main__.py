"""`python -m latchkey_oidc ARGS`: runs the binary with the same arguments and exit status."""

import os
import subprocess
import sys

from . import binary_path


def main() -> None:
    exe = binary_path()
    if sys.platform == "win32":
        sys.exit(subprocess.call([exe, *sys.argv[1:]]))
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    main()
