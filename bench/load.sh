#!/usr/bin/env bash
# Latchkey's own load benchmark: client-credentials tokens, introspection, a call to a protected
# resource (GET /resources/books/..., JWT mode) and discovery at concurrency 16 against a
# release build on loopback, with wrk (installed if missing).
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
cargo build --release --locked --quiet

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
bin=./target/release/latchkey
args=(serve --port "$PORT" --db "$work/bench.db" --config bench/latchkey-bench.toml)

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
for scenario in token introspect resource discovery; do
  case $scenario in
    token) url="$BASE/token"; script="$work/token.lua" ;;
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
