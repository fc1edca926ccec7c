#!/usr/bin/env python3
"""The browser round trip of the authorization code flow, timed.

Each iteration is a fresh browser (no cookies) on a kept-alive connection:
GET /authorize (public client, PKCE S256) -> the login page -> POST /login with a persona click
-> the redirect with the code -> POST /token with the code_verifier -> an access token.

    bench/roundtrip.py BASE_URL [-n 300] [-c 1] [--warmup 20]

Prints the mean, p50, p99 and max of one round trip in milliseconds, and round trips per
second over all workers (-c N runs N worker processes, each doing -n iterations).
Standard library only, so it runs against any Latchkey build (bench/roundtrip.sh starts one).
"""

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
import urllib.parse

CLIENT = "rt-public"
REDIRECT = "http://127.0.0.1:9/cb"
REQ = re.compile(r'name="req" value="([^"]+)"')


class Browser:
    """One connection; cookies kept by name (enough for Latchkey's few cookies)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies = {}

    def request(self, method, path, body=None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        self.conn.request(method, self.prefix + path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in v or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r.status, r.headers, data


def round_trip(b):
    b.cookies = {}
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s" * 16, "nonce": "n" * 16,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    status, _, body = b.request("GET", "/authorize?" + q)
    m = REQ.search(body.decode())
    if status != 200 or not m:
        raise RuntimeError(f"/authorize: {status} {body[:300]!r}")
    status, headers, body = b.request("POST", "/login", {"req": m.group(1), "persona": "alice"})
    loc = headers.get("Location", "")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("code")
    if status not in (302, 303) or not code:
        raise RuntimeError(f"/login: {status} {loc} {body[:300]!r}")
    status, _, body = b.request("POST", "/token", {
        "grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT,
        "client_id": CLIENT, "code_verifier": verifier,
    })
    if status != 200 or "access_token" not in json.loads(body):
        raise RuntimeError(f"/token: {status} {body[:300]!r}")


def worker(args):
    base, n, warmup = args
    b = Browser(base)
    for _ in range(warmup):
        round_trip(b)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        round_trip(b)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("-n", type=int, default=300, help="round trips per worker")
    ap.add_argument("-c", type=int, default=1, help="concurrent workers (processes)")
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    t0 = time.perf_counter()
    if a.c == 1:
        results = [worker((a.base, a.n, a.warmup))]
    else:
        with multiprocessing.Pool(a.c) as pool:
            results = pool.map(worker, [(a.base, a.n, a.warmup)] * a.c)
    wall = time.perf_counter() - t0
    times = sorted(t for r in results for t in r)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    total = len(times) + a.warmup * a.c
    print(f"c={a.c} n={len(times)} mean={statistics.mean(times):.2f}ms p50={p(0.5):.2f}ms "
          f"p99={p(0.99):.2f}ms max={times[-1]:.2f}ms throughput={total / wall:.0f} round trips/s")


if __name__ == "__main__":
    sys.exit(main())
