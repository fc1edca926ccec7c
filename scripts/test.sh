#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, the UI's type check and unit tests, the Rust
# tests, the resource profiles against the JWT libraries they are named after (Node.js and
# Python), the static binary and the test fixtures built from it (pytest, Vitest, Jest,
# Playwright), the release packaging (docs/release.md: Linux arm64 and Windows binaries under
# qemu and Wine, wheels, npm packages, cargo publish --dry-run, actionlint), the browser tests in
# Chromium, and the desktop app's test in a real window under Xvfb.
# Installs what it needs (Rust, Node.js packages, Debian packages such as chromium and
# WebKitGTK) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
apt_ensure chromium "${DESKTOP_BUILD_APT[@]}" "${DESKTOP_TEST_APT[@]}"
ensure_node

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> UI: install, type check, unit tests, build"
npm_ci ui
(cd ui && npm run --silent typecheck && npm test --silent && npm run --silent build)

echo "==> cargo clippy (server and desktop app)"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy -p latchkey-desktop --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --locked 2>&1
cargo test -p latchkey-desktop --locked 2>&1

echo "==> JWT library conformance: each library-named resource profile against the library itself"
bash scripts/conformance.sh

echo "==> the static binary (musl, UI embedded): built once, checked under env -i"
bash scripts/build-static.sh

echo "==> test fixtures, installed from their built packages outside the repository"
LATCHKEY_BIN="$PWD/target/static/latchkey" bash scripts/fixtures-test.sh

echo "==> what a release ships: cross-built binaries under qemu and Wine, wheels, npm packages, cargo publish --dry-run, actionlint"
bash scripts/dist-test.sh

echo "==> browser tests (Chromium): login and consent pages"
cargo build --locked --quiet
npm_ci e2e
(cd e2e && npm test)

echo "==> browser tests (Chromium): the admin UI"
(cd ui && npm run e2e)

echo "==> desktop app test (Xvfb, tauri-driver, WebKitWebDriver)"
timeout 1200 bash scripts/desktop-test.sh

echo "All checks passed."
