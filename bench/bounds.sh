#!/usr/bin/env bash
# Memory held by half-finished authorizations: resident memory of a release build before and
# after COUNT /authorize requests (each shows the login page and parks a request), with a
# STATE-character state. Compare builds: bench/bounds.sh OLD_BINARY NEW_BINARY.
#
#   COUNT=1000 STATE=60000 bench/bounds.sh ./target/release/latchkey
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000}
STATE=${STATE:-60000}
PORT=${PORT:-18200}
BASE="http://127.0.0.1:$PORT"
[ $# -gt 0 ] || set -- ./target/release/latchkey
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null' EXIT
for bin in "$@"; do
  "$bin" serve --port "$PORT" --db :memory: --config bench/roundtrip.toml >/dev/null 2>&1 &
  pid=$!
  until curl -sf "$BASE/.well-known/openid-configuration" >/dev/null; do sleep 0.01; done
  before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  python3 - "$BASE" "$COUNT" "$STATE" <<'PY'
import http.client, sys, urllib.parse
base, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlsplit(base)
c = http.client.HTTPConnection(u.hostname, u.port)
statuses = {}
for i in range(count):
    q = urllib.parse.urlencode({"response_type": "code", "client_id": "rt-web",
        "redirect_uri": "http://localhost:3000/callback", "scope": "openid",
        "state": f"{i:08d}" + "s" * max(0, size - 8)})
    c.request("GET", "/authorize?" + q)
    r = c.getresponse(); r.read()
    statuses[r.status] = statuses.get(r.status, 0) + 1
print(f"  {count} x /authorize, state {size} chars: statuses {statuses}")
PY
  after=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  echo "== $bin: RSS $((before / 1024)) MiB -> $((after / 1024)) MiB"
  kill $pid; wait $pid 2>/dev/null || true
  pid=
done
