#!/usr/bin/env bash
# Builds the headless `latchkey` binary that runs on any x86_64 Linux without extra libraries:
# a release build, statically linked against musl (with mimalloc as its allocator), the admin UI
# embedded. Falls back to a static glibc build (`-C target-feature=+crt-static`) when the musl
# target cannot be installed; see docs/testing.md for what that changes (host name lookups).
#
# Then checks the result: `file` and `ldd` must call it static, and it must start under `env -i`
# (no PATH, no HOME, no locale) on a free port and answer discovery and the admin UI.
#
#   scripts/build-static.sh            # writes target/static/latchkey
#   LATCHKEY_STATIC_TARGET=x86_64-unknown-linux-gnu scripts/build-static.sh   # force glibc
#
# Prints the target, the size and the time taken. Exits non-zero when the build or a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

start=$(date +%s)
ensure_rust
apt_ensure build-essential pkg-config file
ensure_node

# The UI is embedded in release builds: build it first (skipped when ui/dist is newer than its
# sources).
npm_ci ui
if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/package.json ui/vite.config.* -newer ui/dist/index.html 2>/dev/null | head -1)" ]; then
  echo "==> building the UI (ui/dist)"
  (cd ui && npm run --silent build)
fi

target=${LATCHKEY_STATIC_TARGET:-}
if [ -z "$target" ]; then
  target=x86_64-unknown-linux-gnu
  if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1; then
    apt_ensure musl-tools
    target=x86_64-unknown-linux-musl
  else
    echo "==> the musl target cannot be installed here; building a static glibc binary instead"
  fi
fi

case "$target" in
  x86_64-unknown-linux-musl)
    # aws-lc-sys, mimalloc and SQLite are C: compile them with musl's gcc wrapper.
    export CC_x86_64_unknown_linux_musl=musl-gcc
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=+crt-static"
    ;;
  x86_64-unknown-linux-gnu)
    # Only for this target's build (host build scripts stay dynamic): a fully static executable.
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
    ;;
  *)
    echo "error: LATCHKEY_STATIC_TARGET=$target: only x86_64-unknown-linux-musl and x86_64-unknown-linux-gnu are supported" >&2
    exit 2
    ;;
esac

# `latchkey --version` and `latchkey doctor` name the commit.
LATCHKEY_BUILD_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export LATCHKEY_BUILD_COMMIT
# LATCHKEY_STATIC_PROFILE=cross-check (what CI sets, Cargo.toml) skips LTO and optimisation: the same
# code for the fixture tests, built in a fraction of the time, sharing host build artifacts with the cross builds.
profile=${LATCHKEY_STATIC_PROFILE:-release}
echo "==> cargo build --profile $profile --target $target (static)"
cargo build --profile "$profile" --locked --target "$target" --bin latchkey
mkdir -p target/static
cp "target/$target/$profile/latchkey" target/static/latchkey.tmp
# The symbol table is a sixth of the file and only names functions in backtraces.
if command -v strip >/dev/null 2>&1; then strip --strip-all target/static/latchkey.tmp; fi
mv target/static/latchkey.tmp target/static/latchkey
bin=target/static/latchkey

echo "==> checking $bin"
description=$(file -b "$bin")
echo "    file: $description"
case "$description" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) echo "error: $bin is not statically linked" >&2; exit 1 ;;
esac
if ldd_out=$(ldd "$bin" 2>&1); then
  case "$ldd_out" in
    *"statically linked"* | *"not a dynamic executable"*) ;;
    *) echo "error: ldd lists libraries for $bin:" >&2; echo "$ldd_out" >&2; exit 1 ;;
  esac
fi
echo "    ldd: ${ldd_out//$'\n'/ }"

# Run it with an empty environment, from an empty directory, and ask it what a user would.
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
abs_bin=$PWD/$bin
version=$(cd "$work" && env -i "$abs_bin" --version)
echo "    --version: $version"
: >"$work/out"
: >"$work/err"
(cd "$work" && exec env -i "$abs_bin" serve --port 0 --db :memory: >"$work/out" 2>"$work/err") &
server_pid=$!
url=
for _ in $(seq 1 200); do
  url=$(sed -n 's/^  listening \(http:\/\/[0-9.:]*\)$/\1/p' "$work/out" || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "error: the static binary exited under env -i:" >&2; cat "$work/err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "error: the static binary did not print its address within 10 s" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
discovery=$(curl -sf "$url/.well-known/openid-configuration")
case "$discovery" in
  *'"issuer":"http://localhost:'*) ;;
  *) echo "error: unexpected discovery document: $discovery" >&2; exit 1 ;;
esac
ui=$(curl -sf "$url/admin/")
case "$ui" in
  *"The UI is not built"*) echo "error: the admin UI is not embedded in $bin" >&2; exit 1 ;;
  *'<div id="root">'*) ;;
  *) echo "error: unexpected /admin/ page: ${ui:0:200}" >&2; exit 1 ;;
esac
echo "    under env -i: discovery and the embedded admin UI answer at $url"

size=$(stat -c %s "$bin")
echo "==> $bin: $target, $((size / 1024)) KiB ($size bytes), built and checked in $(( $(date +%s) - start )) s"
