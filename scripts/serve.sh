#!/usr/bin/env bash
# Headless Latchkey: builds the admin UI, then a release `latchkey` binary that embeds it (each only
# when its sources changed since the last launch, so a second launch starts at once), and runs
# `latchkey serve` on http://localhost:8000 with the default database; the UI is at
# http://localhost:8000/admin/ in your browser. Extra arguments go to `latchkey serve`,
# e.g. scripts/serve.sh --config latchkey.toml
set -euo pipefail
caller=$PWD # relative paths in arguments and LATCHKEY_* are relative to where you ran this
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/lib.sh

ensure_rust
apt_ensure build-essential pkg-config
ensure_node
npm_ci ui
build_ui_if_changed
cargo_build_announced --release --locked
cd "$caller"
exec "$repo/target/release/latchkey" serve "$@"
