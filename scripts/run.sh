#!/usr/bin/env bash
# Builds Latchkey (the admin UI, then a release binary that embeds it) and runs it on
# http://localhost:8000 with the default database. Extra arguments go to `latchkey serve`,
# e.g. scripts/run.sh --config latchkey.toml
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
apt_ensure build-essential pkg-config
ensure_node
npm_ci ui
(cd ui && npm run --silent build)
cargo build --release --locked
exec ./target/release/latchkey serve "$@"
