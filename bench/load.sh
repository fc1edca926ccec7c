#!/usr/bin/env bash
# Latchkey's own load benchmark: client-credentials tokens (with a secret, and with a
# private_key_jwt client assertion: one ES256 verification more), introspection, a call to a
# protected resource (GET /resources/books/..., JWT mode) and discovery at concurrency 16 against
# a release build on loopback, with wrk (installed if missing).
#
#   bench/load.sh            # 10 s per scenario
#   DURATION=30 bench/load.sh
#
# It prints requests/s and latency per scenario, plus cold start and idle memory.
# On a 2-core machine the load generator shares the CPU with the server: compare runs
# made on the same machine, with nothing else running.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
PORT=${PORT:-18000}
BASE="http://127.0.0.1:$PORT"

ensure_rust
apt_ensure wrk curl
cargo build --release --locked --quiet --bin latchkey --example client_assertions

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
bin=./target/release/latchkey
# The private_key_jwt client (a fresh ES256 key) and single-use assertions for it: each request
# needs its own jti, and assertions live at most 10 minutes, so they are made now. Separate
# sets for the warm-up and the measured run, split between wrk's two threads.
mkdir -p "$work/pkj-warm" "$work/pkj-run"
./target/release/examples/client_assertions ES256 bench-pkj "http://localhost:$PORT/token" 200000 "$work/pkj-run"
head -n 40000 "$work/pkj-run/assertions.txt" >"$work/pkj-warm/assertions.txt"
tail -n +40001 "$work/pkj-run/assertions.txt" >"$work/pkj-run/run.txt"
cat bench/latchkey-bench.toml "$work/pkj-run/client.toml" >"$work/bench.toml"
args=(serve --port "$PORT" --db "$work/bench.db" --config "$work/bench.toml")

# First start: creates the database and the signing key (not timed).
"$bin" "${args[@]}" >"$work/first.log" 2>&1 &
pid=$!
until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.01; done
kill $pid; wait $pid 2>/dev/null || true

# Cold start: launch to first discovery response, best of 5.
best=999999
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$bin" "${args[@]}" >"$work/server.log" 2>&1 &
  pid=$!
  until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.002; done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  [ $ms -lt $best ] && best=$ms
  kill $pid; wait $pid 2>/dev/null || true
done
"$bin" "${args[@]}" >"$work/server.log" 2>&1 &
pid=$!
until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.01; done
sleep 2
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "cold start (best of 5): ${best} ms"
echo "idle RSS: $((rss / 1024)) MiB"

auth=$(printf 'bench-client:bench-secret' | base64)
token=$(curl -sf -H "Authorization: Basic $auth" -d 'grant_type=client_credentials' "$BASE/token" |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')

cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&scope=read_books%20add_books"
LUA
cat >"$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=$token&token_type_hint=access_token"
LUA
cat >"$work/resource.lua" <<LUA
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("  %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d non-2xx, %d socket errors\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, errs))
end
LUA
# private_key_jwt: each wrk thread takes every other line of its file, so no jti repeats.
pkj_lua() {
  cat <<LUA
local lines = {}
for l in io.lines("$1") do lines[#lines + 1] = l end
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local i
function request()
  i = (i or tid + 1 - 2) + 2
  local a = lines[((i - 1) % #lines) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=client_credentials&scope=read_books%20add_books" ..
    "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" ..
    "&client_assertion=" .. a)
end
LUA
}
pkj_lua "$work/pkj-warm/assertions.txt" >"$work/token-pkj.warm.lua"
pkj_lua "$work/pkj-run/run.txt" >"$work/token-pkj.lua"
cat "$work/report.lua" >>"$work/token-pkj.warm.lua"
for scenario in token token-pkj introspect resource discovery; do
  case $scenario in
    token) url="$BASE/token"; script="$work/token.lua" ;;
    token-pkj)
      echo "$scenario (c=$CONNS, ${DURATION}s; private_key_jwt ES256, one assertion per request):"
      wrk -t2 -c"$CONNS" -d2s -s "$work/token-pkj.warm.lua" "$BASE/token" >/dev/null
      cat "$work/report.lua" >>"$work/token-pkj.lua"
      wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$work/token-pkj.lua" "$BASE/token" | grep 'req/s'
      continue ;;
    introspect) url="$BASE/introspect"; script="$work/introspect.lua" ;;
    resource) url="$BASE/resources/books/books/1"; script="$work/resource.lua" ;;
    discovery) url="$BASE/.well-known/openid-configuration"; script="" ;;
  esac
  cat "$work/report.lua" >>"$work/$scenario.run.lua"
  [ -n "$script" ] && cat "$script" >>"$work/$scenario.run.lua"
  wrk -t2 -c"$CONNS" -d2s -s "$work/$scenario.run.lua" "$url" >/dev/null   # warm-up
  echo "$scenario (c=$CONNS, ${DURATION}s):"
  wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$work/$scenario.run.lua" "$url" | grep 'req/s'
done
echo "peak RSS: $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
