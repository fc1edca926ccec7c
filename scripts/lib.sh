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
