#!/usr/bin/env bash
# The desktop app's end-to-end test: the real window (Tauri, WebKitGTK) under Xvfb, driven by
# tauri-driver and WebKitWebDriver. Installs what it needs when it is missing (Debian packages,
# tauri-driver into .tools/, the test's npm packages), builds the UI and the desktop debug build,
# and runs src-tauri/e2e/desktop.test.mjs. Screenshots go to test-results/desktop/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

TAURI_DRIVER_VERSION=2.1.0

ensure_rust
ensure_node
apt_ensure "${DESKTOP_BUILD_APT[@]}" "${DESKTOP_TEST_APT[@]}"

# cargo records what it installed in .tools/.crates.toml.
if ! [ -x .tools/bin/tauri-driver ] || ! grep -q "tauri-driver $TAURI_DRIVER_VERSION " .tools/.crates.toml 2>/dev/null; then
  echo "==> installing tauri-driver $TAURI_DRIVER_VERSION into .tools/"
  cargo install tauri-driver --force --version "$TAURI_DRIVER_VERSION" --locked --root "$PWD/.tools" --quiet
fi
export PATH="$PWD/.tools/bin:$PATH"

echo "==> UI: install and build"
npm_ci ui
build_ui_if_changed

echo "==> desktop app: debug build"
cargo build -p latchkey-desktop --locked

echo "==> desktop test (Xvfb, tauri-driver, WebKitWebDriver)"
npm_ci src-tauri/e2e
mkdir -p test-results/desktop
(cd src-tauri/e2e && xvfb-run -a -s "-screen 0 1280x800x24" node --test --test-force-exit --test-concurrency=1 --test-timeout=120000 desktop.test.mjs)

echo "Desktop test passed; screenshots in test-results/desktop/."
