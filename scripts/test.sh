#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, the UI's type check and unit tests, the Rust
# tests, and the browser tests in Chromium. Installs what it needs (Rust, Node.js packages,
# Debian packages such as chromium) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
apt_ensure build-essential pkg-config chromium
ensure_node

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> UI: install, type check, unit tests, build"
npm_ci ui
(cd ui && npm run --silent typecheck && npm test --silent && npm run --silent build)

echo "==> cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --locked 2>&1

echo "==> browser tests (Chromium): login and consent pages"
cargo build --locked --quiet
npm_ci e2e
(cd e2e && npm test)

echo "==> browser tests (Chromium): the admin UI"
(cd ui && npm run e2e)

echo "All checks passed."
