#!/usr/bin/env bash
# Library conformance (issue 10): installs the verifier libraries the library-named resource
# profiles reproduce (conformance/node with npm ci; PyJWT and cryptography in a venv under
# target/) and runs tests/conformance, which checks that each profile accepts and refuses
# exactly what its library does on the same tokens (prints the agreement table), and that
# client assertions and JWT bearer assertions signed by PyJWT and jose are accepted (issue 14).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_node
conformance_setup

echo "==> library conformance (tests/conformance)"
start=$(date +%s)
cargo test --locked --test conformance -- --include-ignored --nocapture 2>&1
echo "==> library conformance took $(( $(date +%s) - start )) s"
