#!/usr/bin/env bash
# What fault injection costs in requests per second (issue 15's bar): introspection and
# client-credentials token requests at concurrency 16 against a release build, first with no
# fault rule, then with 100 rules that do not match (50 at /introspect and 50 at /token, each
# for another client id). Instruction counts of the same cases: bench/faults_callgrind.sh.
#
#   bench/faults_load.sh                 # 10 s per case
#   DURATION=30 BIN=target/release/latchkey bench/faults_load.sh
#
# On a 2-core machine wrk shares the CPU with the server: run it with nothing else running.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
PORT=${PORT:-18111}
BASE="http://127.0.0.1:$PORT"
apt_ensure wrk curl
if [ -z "${BIN:-}" ]; then
  ensure_rust
  cargo build --release --locked --quiet --bin latchkey
  BIN=./target/release/latchkey
fi

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cp bench/latchkey-bench.toml "$work/bench.toml"
"$BIN" serve --port "$PORT" --db "$work/bench.db" --config "$work/bench.toml" >"$work/server.log" 2>&1 &
pid=$!
until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.05; done

auth=$(printf 'bench-client:bench-secret' | base64)
token=$(curl -sf -H "Authorization: Basic $auth" -d 'grant_type=client_credentials' "$BASE/token" |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d non-2xx\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status))
end
LUA
cat "$work/report.lua" - >"$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=$token&token_type_hint=access_token"
LUA
cat "$work/report.lua" - >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&scope=read_books%20add_books"
LUA

run() { # LABEL SCRIPT PATH
  wrk -t2 -c"$CONNS" -d2s -s "$2" "$BASE$3" >/dev/null
  printf '%-40s ' "$1"
  wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$2" "$BASE$3" | tail -1
}

run "introspect, no rule" "$work/introspect.lua" /introspect
run "token, no rule" "$work/token.lua" /token
for i in $(seq 1 50); do
  for e in introspect token; do
    curl -sf -o /dev/null -H 'content-type: application/json' \
      -d "{\"name\":\"$e $i\",\"endpoint\":\"$e\",\"client_id\":\"other-$i\",\"action\":\"status\",\"status\":503}" \
      "$BASE/admin/api/faults"
  done
done
[ "$(curl -sf "$BASE/admin/api/faults" | grep -o '"name"' | wc -l)" -eq 100 ] || { echo "error: the 100 rules were not created" >&2; exit 1; }
run "introspect, 100 rules that do not match" "$work/introspect.lua" /introspect
run "token, 100 rules that do not match" "$work/token.lua" /token
