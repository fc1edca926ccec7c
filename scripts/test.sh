#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and the whole test suite.
# Installs what it needs (Rust, system packages) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
apt_ensure build-essential pkg-config

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --locked 2>&1
