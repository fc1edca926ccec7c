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

# Each step is timed; the times are printed as a table at the end (also when a step fails), so
# the log of every run shows what each step costs.
step_name="" step_start=0 timings=()
step() { # step TITLE: ends the running step and starts the next
  end_step
  step_name=$1 step_start=$SECONDS
  echo "==> $1"
}
end_step() {
  [ -n "$step_name" ] || return 0
  timings+=("$(printf '%6d s  %s' $((SECONDS - step_start)) "$step_name")")
  step_name=""
}
print_timings() {
  end_step
  echo "==> time per step (whole run: $SECONDS s)"
  printf '%s\n' "${timings[@]}"
}
trap print_timings EXIT

step "setup: Rust, Debian packages, Node.js"
ensure_rust
apt_ensure chromium "${DESKTOP_BUILD_APT[@]}" "${DESKTOP_TEST_APT[@]}"
ensure_node

step "cargo fmt --check"
cargo fmt --all -- --check

step "UI: install, type check, unit tests, build"
npm_ci ui
(cd ui && npm run --silent typecheck && npm test --silent)
build_ui_if_changed

step "JWT libraries for the conformance tests (Node.js, Python)"
conformance_setup

# clippy-driver compiles the workspace's own crates with the lints on (what `cargo clippy` runs
# as its rustc), so the dependencies are compiled once, for the lints and the tests together,
# instead of checked for clippy and then built again for the tests. The whole workspace builds in
# one feature resolution: building the server and the desktop app apart compiled the shared
# dependencies twice. Every later host build in this script keeps these variables.
step "compile everything the tests run, server and desktop app, with clippy's lints as errors"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
if [ ! -x "$RUSTC_WORKSPACE_WRAPPER" ]; then
  echo "clippy-driver not found: install clippy (rustup component add clippy)" >&2
  exit 1
fi
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --workspace --locked --no-run 2>&1

# --include-ignored: tests/conformance's library comparisons need the packages installed above.
step "cargo test (server and desktop app, with the JWT library conformance tests)"
cargo test --workspace --locked -- --include-ignored 2>&1

# The static and cross builds target other platforms: the lints ran on this code above.
step "the static binary (musl, UI embedded): built once, checked under env -i"
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS bash scripts/build-static.sh

step "test fixtures, installed from their built packages outside the repository"
LATCHKEY_BIN="$PWD/target/static/latchkey" bash scripts/fixtures-test.sh

step "what a release ships: cross-built binaries under qemu and Wine, wheels, npm packages, cargo publish --dry-run, actionlint"
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS bash scripts/dist-test.sh

# target/debug/latchkey was built for the tests above.
step "browser tests (Chromium): login and consent pages"
npm_ci e2e
(cd e2e && npm test)

step "browser tests (Chromium): the admin UI"
(cd ui && npm run e2e)

step "desktop app test (Xvfb, tauri-driver, WebKitWebDriver)"
timeout 1200 bash scripts/desktop-test.sh

end_step
echo "All checks passed."
