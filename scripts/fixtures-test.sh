#!/usr/bin/env bash
# Proves the test fixtures as a user gets them: builds the Python wheel (integrations/python)
# and packs the npm package (integrations/js), installs each into a fresh virtual environment /
# an empty project in a temporary directory outside the repository, copies the example suites
# there, and runs them against the `latchkey` binary given in LATCHKEY_BIN (default: the static
# binary, built by scripts/build-static.sh when missing), also with parallel workers.
#
#   scripts/fixtures-test.sh                 # everything
#   scripts/fixtures-test.sh python          # or: js
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/lib.sh

which=${1:-all}
start=$(date +%s)
ensure_node
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_ensure python3 python3-venv
fi

if [ -z "${LATCHKEY_BIN:-}" ]; then
  [ -x target/static/latchkey ] || bash scripts/build-static.sh
  LATCHKEY_BIN=$repo/target/static/latchkey
fi
export LATCHKEY_BIN
echo "==> fixtures against $LATCHKEY_BIN ($("$LATCHKEY_BIN" --version))"
# The suites must find the binary through LATCHKEY_BIN alone: no `latchkey` on PATH.
if command -v latchkey >/dev/null 2>&1; then
  echo "note: a latchkey on PATH ($(command -v latchkey)) is ignored: LATCHKEY_BIN wins"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-fixtures.XXXXXX")
trap 'rm -rf "$work"' EXIT
case "$work" in "$repo"/*) echo "error: $work is inside the repository" >&2; exit 1 ;; esac

timed() { # timed LABEL COMMAND...: runs it, prints how long it took
  local label=$1 t0
  shift
  t0=$(date +%s%N)
  "$@"
  echo "    $label: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

python_suite() {
  echo "==> Python: build the wheel, install it into a fresh venv, run the examples"
  python3 -m venv "$work/venv"
  local pip=("$work/venv/bin/pip" --quiet --disable-pip-version-check)
  "${pip[@]}" install wheel
  # The plugin depends on the binary's wheel (latchkey-oidc), built here from $LATCHKEY_BIN.
  timed "latchkey-oidc wheel (the binary)" "$work/venv/bin/python" packaging/pypi/build_wheel.py \
    --binary "$LATCHKEY_BIN" --target x86_64-unknown-linux-musl --out "$work/dist" >/dev/null
  timed "wheel" "${pip[@]}" wheel --no-deps --wheel-dir "$work/dist" integrations/python
  local wheel
  wheel=$(ls "$work"/dist/pytest_latchkey-*.whl)
  timed "install (wheels + example requirements)" "${pip[@]}" install --find-links "$work/dist" "$wheel" -r integrations/python/examples/requirements.txt
  # With neither LATCHKEY_BIN nor PATH, the plugin finds the binary its dependency installed.
  packaged=$(env -u LATCHKEY_BIN PATH=/usr/bin:/bin "$work/venv/bin/python" -c 'from pytest_latchkey import find_binary; print(find_binary())')
  case "$packaged" in
    "$work/venv/"*) echo "    the binary from the latchkey-oidc wheel: $packaged ($("$packaged" --version))" ;;
    *) echo "error: find_binary() gave $packaged, not the wheel's binary" >&2; exit 1 ;;
  esac
  cp -rL integrations/python/examples "$work/python-project"
  (
    cd "$work/python-project"
    # The plugin must come from the installed wheel, not from the checkout.
    "$work/venv/bin/python" -c 'import pytest_latchkey, sys; p = pytest_latchkey.__file__; print("    pytest_latchkey from", p); sys.exit(p.startswith(sys.argv[1]))' "$repo"
    timed "pytest" "$work/venv/bin/pytest" -p no:cacheprovider -q
    timed "pytest -n 2 (pytest-xdist)" "$work/venv/bin/pytest" -p no:cacheprovider -q -n 2
    timed "pytest --latchkey-tls (the suite over HTTPS)" "$work/venv/bin/pytest" -p no:cacheprovider -q --latchkey-tls
  )
}

js_suite() {
  echo "==> JavaScript: npm pack, install into an empty project, type check, run the examples"
  # Playwright drives the system's Chromium (no browser download is possible everywhere).
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || apt_ensure chromium
  npm_ci integrations/js
  # @latchkey/testing depends on the `latchkey` package, whose platform package carries the
  # binary: both packed here from $LATCHKEY_BIN.
  timed "npm packages of the binary" node packaging/npm/build.mjs --out "$work/npm" \
    --binary "x86_64-unknown-linux-musl=$LATCHKEY_BIN" >/dev/null
  timed "npm pack" bash -c "cd integrations/js && npm pack --silent --pack-destination '$work' >/dev/null"
  local tarball
  tarball=$(ls "$work"/latchkey-testing-*.tgz)
  cp -rL integrations/js/examples "$work/js-project"
  (
    cd "$work/js-project"
    timed "npm install (tarballs + example dependencies)" npm install --no-audit --no-fund --loglevel=error \
      "$tarball" "$work/npm/latchkey-0"*.tgz "$work/npm/latchkey-cli-linux-x64-"*.tgz
    # With neither LATCHKEY_BIN nor PATH, the fixture finds the binary its dependency installed.
    env -u LATCHKEY_BIN PATH=/usr/bin:/bin node -e 'const p = require("@latchkey/testing").findLatchkeyBinary(); console.log("    the binary from the latchkey npm package:", p); process.exit(p.includes("/node_modules/@latchkey/cli-linux-x64/") ? 0 : 1)'

    node -e 'const p = require.resolve("@latchkey/testing"); console.log("    @latchkey/testing from", p); process.exit(p.includes("/node_modules/") ? 0 : 1)'
    timed "tsc --noEmit (the examples against the shipped types)" npx tsc --noEmit
    timed "vitest (threads, 2 workers)" npx vitest run --pool threads --maxWorkers 2
    timed "jest (2 workers)" npx jest --maxWorkers 2
    timed "playwright (globalSetup, per-worker fixture, Chromium)" npx playwright test --reporter=line
  )
}

case "$which" in
  python) python_suite ;;
  js) js_suite ;;
  all) python_suite; js_suite ;;
  *) echo "usage: $0 [python|js|all]" >&2; exit 2 ;;
esac
echo "==> fixtures: passed in $(( $(date +%s) - start )) s"
