#!/usr/bin/env python3
"""Start-up times of a `latchkey` binary, for test suites that start one per run or per worker.

  bench/startup.py [BINARY] [--runs N]      (default ./target/release/latchkey, 20 runs)

1. cold start, `latchkey serve --port P --db :memory: --config bench/latchkey-bench.toml`:
   launch -> first HTTP 200 from discovery (polled every 1 ms, as the shared harness does every
   5 ms), and launch -> first client-credentials token (which needs the signing key: a fresh
   :memory: database generates its RSA key in the background while discovery already answers);
2. `latchkey exec --config bench/latchkey-bench.toml -- date +%s%N`: launch -> the command
   running (the time the command itself prints).

Prints medians, 90th percentiles and the worst run (milliseconds). Loopback only.
"""
import base64, http.client, os, socket, statistics, subprocess, sys, time

args = sys.argv[1:]
runs = 20
if "--runs" in args:
    i = args.index("--runs")
    runs = int(args[i + 1])
    del args[i:i + 2]
binary = args[0] if args else "./target/release/latchkey"
config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latchkey-bench.toml")
auth = "Basic " + base64.b64encode(b"bench-client:bench-secret").decode()
env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_200(port, method, path, body=None, headers={}, deadline=10.0):
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.001)
    raise SystemExit(f"no 200 from {path} within {deadline} s")


def summary(name, xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    print(f"| {name} | {statistics.median(xs):.1f} | {p90:.1f} | {xs[-1]:.1f} |")


discovery, token, execs = [], [], []
for _ in range(runs):
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--port", str(port), "--db", ":memory:", "--config", config, "--quiet"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t1 = first_200(port, "GET", "/.well-known/openid-configuration")
        t2 = first_200(port, "POST", "/token", "grant_type=client_credentials",
                       {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
    finally:
        p.terminate()
        p.wait()
    discovery.append((t1 - t0) * 1000)
    token.append((t2 - t0) * 1000)

for _ in range(runs):
    t0 = time.time_ns()
    out = subprocess.run([binary, "exec", "--quiet", "--config", config, "--", "date", "+%s%N"],
                         env=env, capture_output=True, text=True, check=True)
    execs.append((int(out.stdout.strip()) - t0) / 1e6)

print(f"{binary}, {runs} runs each; milliseconds")
print("| from launch to | median | p90 | worst |")
print("| --- | ---: | ---: | ---: |")
summary("first discovery response (serve, :memory:)", discovery)
summary("first token (needs the key)", token)
summary("the command running (exec)", execs)
