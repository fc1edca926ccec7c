#!/usr/bin/env bash
# Launches the Latchkey desktop app: installs the system packages it needs when they are missing
# (WebKitGTK and friends, through apt), builds the admin UI and a release build of the app (each
# only when its sources changed since the last launch), and starts it. The app serves on http://localhost:8000 with the default database and opens its window
# on the UI.
#
# Without a display (an SSH session, a container), it runs the headless server instead
# (scripts/serve.sh) and the UI is at http://localhost:8000/admin/ in a browser.
#
# Arguments go to the app: --port N, --db PATH|:memory:, --config FILE (the same as
# `latchkey serve`'s), e.g. scripts/run.sh --config latchkey.toml
set -euo pipefail
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display (DISPLAY and WAYLAND_DISPLAY are unset): running the headless server instead."
  exec bash "$(dirname "$0")/serve.sh" "$@"
fi
caller=$PWD # relative paths in arguments and LATCHKEY_* are relative to where you ran this
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/lib.sh

ensure_rust
apt_ensure "${DESKTOP_BUILD_APT[@]}"
ensure_node
npm_ci ui
build_ui_if_changed
cargo_build_announced --release --locked -p latchkey-desktop
cd "$caller"
exec "$repo/target/release/latchkey-desktop" "$@"
