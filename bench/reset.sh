#!/usr/bin/env bash
# How long `POST /admin/api/reset` takes with 0, 100 and 1,000 tokens issued since the last
# reset: for each count, ROUNDS times: issue that many client-credentials tokens, then time one
# reset (round trip seen by the client, and the server's own `elapsed_ms`). Prints the median
# and the worst round per count, for each database kind (:memory: and a file).
#
#   bench/reset.sh [BINARY]            (default ./target/release/latchkey)
#   ROUNDS=20 COUNTS="0 100 1000" bench/reset.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-./target/release/latchkey}
ROUNDS=${ROUNDS:-20}
COUNTS=${COUNTS:-"0 100 1000"}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for db in :memory: "$tmp/reset.db"; do
  "$BIN" serve --port 0 --db "$db" --config bench/latchkey-bench.toml --quiet --ready-file "$tmp/ready" &
  pid=$!
  until [ -s "$tmp/ready" ]; do sleep 0.005; done
  python3 - "$(cat "$tmp/ready")" "$ROUNDS" "$COUNTS" "$db" <<'PY'
import base64, http.client, json, statistics, sys, time, urllib.parse
base, rounds, counts, db = sys.argv[1], int(sys.argv[2]), [int(c) for c in sys.argv[3].split()], sys.argv[4]
u = urllib.parse.urlsplit(base)
c = http.client.HTTPConnection("127.0.0.1", u.port)
auth = "Basic " + base64.b64encode(b"bench-client:bench-secret").decode()
def call(method, path, body=None, headers={}):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    assert r.status == 200, (path, r.status, data)
    return data
print(f"database {db}: reset with N tokens issued since the last one ({rounds} rounds each)")
print("| tokens | client round trip, median | worst | server elapsed_ms, median |")
print("| ---: | ---: | ---: | ---: |")
for n in counts:
    rtt, server = [], []
    for _ in range(rounds):
        for _ in range(n):
            call("POST", "/token", "grant_type=client_credentials",
                 {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
        t = time.perf_counter()
        out = json.loads(call("POST", "/admin/api/reset"))
        rtt.append((time.perf_counter() - t) * 1000)
        server.append(out["elapsed_ms"])
        assert out["tokens"] == n, out
    print(f"| {n} | {statistics.median(rtt):.2f} ms | {max(rtt):.2f} ms | {statistics.median(server):.2f} ms |")
PY
  kill $pid; wait $pid 2>/dev/null || true; pid=
  rm -f "$tmp/ready"
done
