#!/usr/bin/env bash
# The authorize + login + token round trip (a fresh browser each time: GET /authorize, a persona
# click on the login page, the code at the redirect, POST /token with PKCE) against release
# builds on loopback, one after the other, so a change can be compared with a baseline binary
# measured in the same run on the same (possibly busy) machine.
#
#   bench/roundtrip.sh                                  # ./target/release/latchkey (built here)
#   bench/roundtrip.sh OLD_BINARY ./target/release/latchkey   # alternate two builds, ROUNDS times
#   N=300 CONC=4 ROUNDS=3 bench/roundtrip.sh ...
#
# For each binary and round it prints one sequential line (c=1: mean/p50/p99 per round trip) and
# one concurrent line (c=CONC: round trips per second over all workers).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${N:-300}
CONC=${CONC:-4}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-18100}
BASE="http://127.0.0.1:$PORT"
apt_ensure curl
if [ $# -eq 0 ]; then
  ensure_rust
  cargo build --release --locked --quiet
  set -- ./target/release/latchkey
fi

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    "$bin" serve --port "$PORT" --db :memory: --config bench/roundtrip.toml >"$work/server.log" 2>&1 &
    pid=$!
    until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.01; done
    echo "== $bin (round $round)"
    python3 bench/roundtrip.py "$BASE" -n "$N" -c 1
    python3 bench/roundtrip.py "$BASE" -n "$N" -c "$CONC"
    echo "   RSS after: $(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
    kill $pid; wait $pid 2>/dev/null || true
    pid=
  done
done
