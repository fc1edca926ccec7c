#!/usr/bin/env bash
# What fault injection costs (issue 15's performance bar), in instructions per request counted
# by callgrind in the server process: introspection with no rule defined, then introspection and
# a client-credentials token request with 100 rules that do not match (50 at /introspect and 50
# at /token, each for another client id). The token request without rules is
# bench/token_callgrind.sh's `client_secret_basic` case. Instruction counts do not depend on what else the machine is
# doing, so they compare builds on a busy machine (wall-clock req/s: bench/load.sh).
#
#   bench/faults_callgrind.sh              # 300 requests per case, release build
#   N=500 BIN=target/release/latchkey bench/faults_callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${N:-300}
PORT=${PORT:-18110}
BASE="http://127.0.0.1:$PORT"
apt_ensure valgrind curl
if [ -z "${BIN:-}" ]; then
  ensure_rust
  cargo build --release --locked --quiet --bin latchkey
  BIN=./target/release/latchkey
fi

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cp bench/latchkey-bench.toml "$work/bench.toml"
valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
  "$BIN" serve --port "$PORT" --db "$work/bench.db" --config "$work/bench.toml" >"$work/server.log" 2>&1 &
pid=$!
until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.2; done

token=$(curl -sf -u bench-client:bench-secret -d grant_type=client_credentials "$BASE/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
introspect() { curl -sf -o /dev/null -u bench-client:bench-secret --data-urlencode "token=$token" "$BASE/introspect"; }
token_request() { curl -sf -o /dev/null -u bench-client:bench-secret -d grant_type=client_credentials "$BASE/token"; }

measure() { # NAME COMMAND
  local name=$1
  shift
  callgrind_control -z "$pid" >/dev/null 2>&1
  for _ in $(seq 1 "$N"); do "$@"; done
  local before
  before=$(ls "$work"/cg.* 2>/dev/null | wc -l)
  callgrind_control -d "$name" "$pid" >/dev/null 2>&1
  # The dump is written when the server next runs: wait for the new file.
  for _ in $(seq 1 300); do
    [ "$(ls "$work"/cg.* 2>/dev/null | wc -l)" -gt "$before" ] && break
    curl -s -o /dev/null "$BASE/.well-known/openid-configuration" || true
    sleep 0.1
  done
  sleep 0.5
  local file total
  file=$(ls "$work"/cg.* | sort -V | tail -1)
  total=$(awk '/^summary:/ {print $2} /^totals:/ {print $2}' "$file" | tail -1)
  printf '%-44s %8d instructions per request (%d requests)\n' "$name" $((total / N)) "$N"
}

for _ in 1 2 3 4 5; do introspect; token_request; done
measure "introspect, no rule" introspect
for i in $(seq 1 50); do
  for e in introspect token; do
    curl -sf -o /dev/null -H 'content-type: application/json' \
      -d "{\"name\":\"$e $i\",\"endpoint\":\"$e\",\"client_id\":\"other-$i\",\"action\":\"status\",\"status\":503}" \
      "$BASE/admin/api/faults"
  done
done
[ "$(curl -sf "$BASE/admin/api/faults" | grep -o '"name"' | wc -l)" -eq 100 ] || { echo "error: the 100 rules were not created" >&2; exit 1; }
for _ in 1 2 3; do introspect; token_request; done
measure "introspect, 100 rules that do not match" introspect
measure "token, 100 rules that do not match" token_request
