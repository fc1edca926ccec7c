#!/usr/bin/env bash
# Instructions per client-credentials token request, with a secret (client_secret_basic) and
# with a private_key_jwt client assertion (ES256 and RS256), counted by callgrind in the server
# process. Unlike requests per second, the count does not depend on what else the machine is
# doing, so it compares builds on a busy machine.
#
#   bench/token_callgrind.sh            # 200 requests per case, release build
#   N=500 BIN=target/debug/latchkey bench/token_callgrind.sh
#
# The server runs under valgrind; after a warm-up of each case the counters are zeroed
# (callgrind_control -z), N requests are sent one after another with curl, and the counters
# are dumped: instructions / N is the cost of one request (the HTTP parsing, client
# authentication, signing the token, recording it, the request log).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${N:-200}
PORT=${PORT:-18100}
BASE="http://127.0.0.1:$PORT"
apt_ensure valgrind curl
if [ -z "${BIN:-}" ]; then
  ensure_rust
  cargo build --release --locked --quiet --bin latchkey --example client_assertions
  BIN=./target/release/latchkey
fi
GEN=${GEN:-$(dirname "$BIN")/examples/client_assertions}

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cp bench/latchkey-bench.toml "$work/bench.toml"
for alg in ES256 RS256; do
  mkdir -p "$work/$alg"
  "$GEN" "$alg" "pkj-$alg" "http://localhost:$PORT/token" $((N + 20)) "$work/$alg"
  cat "$work/$alg/client.toml" >>"$work/bench.toml"
done

valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
  "$BIN" serve --port "$PORT" --db "$work/bench.db" --config "$work/bench.toml" >"$work/server.log" 2>&1 &
pid=$!
until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.2; done

secret() {
  curl -sf -o /dev/null -u bench-client:bench-secret -d grant_type=client_credentials \
    -d scope='read_books add_books' "$BASE/token"
}
assertion() { # ALG LINE
  curl -sf -o /dev/null -d grant_type=client_credentials -d scope='read_books add_books' \
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --data-urlencode "client_assertion=$(sed -n "${2}p" "$work/$1/assertions.txt")" "$BASE/token"
}

measure() { # NAME COMMAND...
  local name=$1
  shift
  callgrind_control -z "$pid" >/dev/null 2>&1
  for i in $(seq 1 "$N"); do "$@" "$i"; done
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
  local file
  file=$(ls "$work"/cg.* | sort -V | tail -1)
  local total
  total=$(awk '/^summary:/ {print $2} /^totals:/ {print $2}' "$file" | tail -1)
  printf '%-28s %8d instructions per request (%d requests)\n' "$name" $((total / N)) "$N"
}

# Warm-up: connection pools, caches, the first JWKS parse.
for i in 1 2 3 4 5; do secret; done
for i in $(seq 1 10); do assertion ES256 $((N + i)); assertion RS256 $((N + i)); done

measure "client_secret_basic" secret
for alg in ES256 RS256; do
  measure "private_key_jwt $alg" assertion "$alg"
done
