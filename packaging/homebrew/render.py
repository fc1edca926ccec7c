#!/usr/bin/env python3
"""Renders the Homebrew formula and cask from their templates with a release's version and the
SHA-256 of its archives (a `sha256sum` file: `<hex>  <file name>` per line).

    python3 packaging/homebrew/render.py --version 0.1.0 --repo owner/latchkey \
        --checksums release/SHA256SUMS --out release

Fails, naming what is missing, when an archive the formula points at has no checksum, so a
formula never ships with a placeholder.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ["aarch64-apple-darwin", "x86_64-apple-darwin", "aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"]


def render(version: str, repo: str, sums: dict[str, str]) -> dict[str, str]:
    values = {"VERSION": version, "REPO": repo}
    for t in TARGETS:
        name = f"latchkey-{version}-{t}.tar.gz"
        if name in sums:
            values[f"SHA256_{t}"] = sums[name]
    dmg = f"Latchkey_{version}_universal.dmg"
    if dmg in sums:
        values["SHA256_dmg"] = sums[dmg]
    out = {}
    for template, target in (("latchkey.rb.in", "latchkey.rb"), ("latchkey-desktop.rb.in", "latchkey-desktop.rb")):
        text = (HERE / template).read_text(encoding="utf-8")
        missing = sorted(set(re.findall(r"@([A-Za-z0-9_.-]+)@", text)) - set(values))
        if missing:
            raise SystemExit(f"error: {template}: no value for {', '.join(missing)} (is the archive in the checksums file?)")
        out[target] = re.sub(r"@([A-Za-z0-9_.-]+)@", lambda m: values[m.group(1)], text)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", required=True)
    p.add_argument("--repo", required=True, help="the GitHub repository, owner/name")
    p.add_argument("--checksums", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    a = p.parse_args()
    sums = {}
    for line in a.checksums.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            sums[parts[1].lstrip("*")] = parts[0]
    a.out.mkdir(parents=True, exist_ok=True)
    for name, text in render(a.version, a.repo, sums).items():
        (a.out / name).write_text(text, encoding="utf-8")
        print(a.out / name)


if __name__ == "__main__":
    sys.exit(main())
