#!/usr/bin/env python3
"""Builds the `latchkey` wheel for one platform from a binary that is already built.

    python3 packaging/pypi/build_wheel.py --binary target/static/latchkey \
        --target x86_64-unknown-linux-musl --out dist/

The wheel is what `pipx install latchkey-oidc`, `uv tool install latchkey-oidc` and
`uvx --from latchkey-oidc latchkey` take (the distribution name `latchkey` on PyPI belongs to an
unrelated project): the binary as a script (`latchkey_oidc-<version>.data/scripts/latchkey`,
which installers put on PATH with its executable bit), and a small `latchkey_oidc` module whose
`binary_path()` finds it.
The same layout as other tools written in Rust that ship through PyPI. The archive itself (the
RECORD file with hashes, the zip) is made by `wheel pack` from the `wheel` package.

The platform tag comes from the Rust target: static Linux binaries (musl) run on every
distribution, so they carry both the manylinux and the musllinux tags.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The distribution (PyPI) name, normalised for file names (PEP 427): `latchkey-oidc`.
DIST = "latchkey_oidc"
REPO = HERE.parent.parent

# Rust target triple -> wheel platform tags (PEP 425, PEP 600, PEP 656).
PLATFORM_TAGS = {
    "x86_64-unknown-linux-musl": ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64"],
    "aarch64-unknown-linux-musl": ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "musllinux_1_1_aarch64"],
    "x86_64-pc-windows-gnu": ["win_amd64"],
    "x86_64-pc-windows-msvc": ["win_amd64"],
    "aarch64-pc-windows-msvc": ["win_arm64"],
    "x86_64-apple-darwin": ["macosx_10_12_x86_64"],
    "aarch64-apple-darwin": ["macosx_11_0_arm64"],
}


def package_version() -> str:
    text = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    package = text.split("[package]", 1)[1]
    m = re.search(r'^version\s*=\s*"([^"]+)"', package, re.M)
    if not m:
        raise SystemExit("error: no version in Cargo.toml's [package]")
    return m.group(1)


def metadata(version: str) -> str:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    return (
        "Metadata-Version: 2.1\n"
        "Name: latchkey-oidc\n"
        f"Version: {version}\n"
        "Summary: A complete OAuth 2.0 / OpenID Connect provider on your own machine, for development\n"
        "License: MIT\n"
        "Keywords: oauth2,openid-connect,oidc,testing,mock,identity-provider\n"
        "Classifier: Development Status :: 4 - Beta\n"
        "Classifier: Environment :: Console\n"
        "Classifier: Intended Audience :: Developers\n"
        "Classifier: License :: OSI Approved :: MIT License\n"
        "Classifier: Topic :: Software Development :: Testing\n"
        "Classifier: Programming Language :: Rust\n"
        "Requires-Python: >=3.8\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )


def build(binary: Path, target: str, out: Path) -> Path:
    if target not in PLATFORM_TAGS:
        raise SystemExit(f"error: no wheel platform tag for {target}; known: {', '.join(sorted(PLATFORM_TAGS))}")
    if not binary.is_file():
        raise SystemExit(f"error: {binary} is not a file (build it first)")
    version = package_version()
    exe = "latchkey.exe" if "windows" in target else "latchkey"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / f"{DIST}-{version}"
        shutil.copytree(HERE / "latchkey_oidc", root / "latchkey_oidc", ignore=shutil.ignore_patterns("__pycache__"))
        scripts = root / f"{DIST}-{version}.data" / "scripts"
        scripts.mkdir(parents=True)
        shutil.copy2(binary, scripts / exe)
        os.chmod(scripts / exe, 0o755)
        info = root / f"{DIST}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(metadata(version), encoding="utf-8")
        tags = "".join(f"Tag: py3-none-{t}\n" for t in PLATFORM_TAGS[target])
        (info / "WHEEL").write_text(
            "Wheel-Version: 1.0\nGenerator: latchkey build_wheel.py\nRoot-Is-Purelib: false\n" + tags,
            encoding="utf-8",
        )
        (info / "licenses").mkdir()
        shutil.copy2(REPO / "LICENSE", info / "licenses" / "LICENSE")
        out.mkdir(parents=True, exist_ok=True)
        before = set(out.glob("*.whl"))
        subprocess.run([sys.executable, "-m", "wheel", "pack", str(root), "--dest-dir", str(out)], check=True, stdout=subprocess.DEVNULL)
        made = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob(f"{DIST}-{version}-*.whl"))
        if not made:
            raise SystemExit("error: wheel pack wrote nothing")
        return made[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, type=Path, help="the built latchkey binary")
    p.add_argument("--target", required=True, help="its Rust target triple")
    p.add_argument("--out", required=True, type=Path, help="directory for the wheel")
    a = p.parse_args()
    wheel = build(a.binary, a.target, a.out)
    mode = stat.filemode(a.binary.stat().st_mode)
    print(f"{wheel} ({wheel.stat().st_size // 1024} KiB, binary {mode})")


if __name__ == "__main__":
    main()
