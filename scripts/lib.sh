# Shared helpers for scripts/*.sh. Sourced, not run.

# Debian/Ubuntu packages the desktop app (Tauri 2, WebKitGTK 4.1) needs to build and run.
DESKTOP_BUILD_APT=(build-essential pkg-config file libssl-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev)
# What its end-to-end test adds: WebKitWebDriver, a virtual X server, screenshots, a font.
DESKTOP_TEST_APT=(webkit2gtk-driver xvfb xauth imagemagick fonts-dejavu-core)

# Installs Debian/Ubuntu packages that are missing (skips apt entirely when all are present).
apt_ensure() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Makes sure cargo (Rust stable) is on PATH, installing it with rustup when it is missing.
ensure_rust() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null 2>&1; then
    apt_ensure curl ca-certificates build-essential pkg-config
    echo "==> installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  # rustfmt and clippy ship with the default toolchain; add them if this one lacks them.
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  fi
}

# Makes sure Node.js 20 or newer and npm are on PATH (installing Debian's when missing).
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_ensure nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    echo "error: Node.js $(node --version 2>/dev/null || echo '(none)') is too old; the UI build needs Node.js 20 or newer." >&2
    echo "       Install it from https://nodejs.org or your distribution's backports, then run this again." >&2
    return 1
  fi
}

# Installs a package.json's exact dependencies (package-lock.json) unless they are already there.
npm_ci() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Makes sure a Python 3 venv at $1 holds the pinned requirements file $2, creating it (Debian's
# python3-venv when missing) and reinstalling only when the requirements changed.
ensure_python_venv() {
  local venv=$1 req=$2
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_ensure python3 python3-venv
  fi
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$venv/requirements.installed"; then
    echo "==> pip install -r $req (into $venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$venv/requirements.installed"
  fi
}

# Installs the JWT libraries tests/conformance compares the resource profiles with (Node.js
# packages in conformance/node, PyJWT in a venv under target/) and exports
# LATCHKEY_CONFORMANCE_PYTHON for the tests, which are `#[ignore]`d without them.
conformance_setup() {
  ensure_python_venv target/conformance-venv conformance/python/requirements.txt
  npm_ci conformance/node
  export LATCHKEY_CONFORMANCE_PYTHON="$PWD/target/conformance-venv/bin/python"
}

# The files the UI build reads (not node_modules, the build output or the browser tests), hashed:
# the same sources give the same hash whatever their modification times.
ui_source_hash() {
  (cd ui && find index.html package.json package-lock.json vite.config.ts tsconfig*.json src public \
      -type f ! -name '*.test.ts' ! -name '*.test.tsx' -print 2>/dev/null | LC_ALL=C sort | xargs sha256sum) \
    | sha256sum | cut -d' ' -f1
}

# Builds ui/dist only when the UI's sources differ from those of the last build (a hash kept in
# target/ui-sources.sha256), and says why it builds. A second launch with nothing changed leaves
# ui/dist untouched, so cargo does not recompile the crate that embeds it.
build_ui_if_changed() {
  local stamp=target/ui-sources.sha256 hash why=""
  hash=$(ui_source_hash)
  if [ ! -f ui/dist/index.html ]; then
    why="ui/dist is missing"
  elif [ ! -f "$stamp" ]; then
    why="no record of the sources ui/dist was built from"
  elif [ "$(cat "$stamp")" != "$hash" ]; then
    why="the UI's sources changed since the last build"
  fi
  if [ -z "$why" ]; then
    echo "==> UI: up to date (ui/dist was built from these sources)"
    return 0
  fi
  echo "==> building the UI: $why"
  (cd ui && npm run --silent build)
  mkdir -p target
  echo "$hash" > "$stamp"
}

# `cargo build ARGS` that says whether it had anything to do: cargo decides what changed (its
# fingerprints of sources and of the embedded ui/dist files) and lists what it compiles.
cargo_build_announced() {
  local log status=0
  log=$(mktemp)
  echo "==> cargo build $* (compiles only what changed since the last build)"
  { cargo build "$@" 2>&1; echo $? > "$log.status"; } | tee "$log" | grep --line-buffered -E '^ *(Compiling|error|warning)' || true
  status=$(cat "$log.status")
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
  elif ! grep -q 'Compiling' "$log"; then
    echo "    nothing changed: the binary is up to date"
  fi
  rm -f "$log" "$log.status"
  return "$status"
}
