#!/usr/bin/env bash
# Installs what building, testing and the demo need, skipping what is there:
# the pinned nightly the module is built with (also the fuzzers'), cargo-fuzz,
# Debian's Chromium, the npm dev packages (Playwright's driver, binaryen's
# wasm-opt, esbuild and the bundlers the tests build with), the Python virtualenvs (the demo backend; the OTLP
# stand-in for Honeycomb that the relay tests use) and the collector.
# Prints how long each step took; says plainly what it cannot do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$1"; step_start=$SECONDS; }
done_step() { printf '   (%d s)\n' "$((SECONDS - step_start))"; }
fail() { printf '\nsetup: %s\n' "$1" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || fail "Rust is not installed: install it with rustup (https://rustup.rs), then run this again."
command -v node >/dev/null || fail "Node.js (18 or newer) is not installed."
command -v go >/dev/null || [[ -n "${WAGGLE_OTELCOL:-}" ]] || fail "Go is not installed: it builds the collector (or set WAGGLE_OTELCOL to a collector binary)."

source scripts/toolchain.sh
step "Rust nightly $WAGGLE_NIGHTLY for the shipped module (with rust-src and the wasm32 target)"
command -v rustup >/dev/null || fail "rustup is not installed: the module is built with a pinned nightly that rustup installs (https://rustup.rs)."
if ! rustup run "$WAGGLE_NIGHTLY" rustc --print sysroot >/dev/null 2>&1 \
  || [[ ! -d "$(rustup run "$WAGGLE_NIGHTLY" rustc --print sysroot)/lib/rustlib/src/rust/library" ]] \
  || ! rustup target list --toolchain "$WAGGLE_NIGHTLY" --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "   installing (about 1 minute)"
  rustup toolchain install "$WAGGLE_NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown \
    || fail "rustup could not install $WAGGLE_NIGHTLY with rust-src and the wasm32-unknown-unknown target."
else
  echo "   already installed"
fi
done_step

step "cargo-fuzz (make test builds the fuzz targets and replays their corpora)"
if command -v cargo-fuzz >/dev/null; then
  echo "   $(cargo fuzz --version 2>/dev/null || echo installed)"
else
  echo "   installing it with cargo install (a few minutes, once)"
  cargo install --locked cargo-fuzz || fail "cargo install cargo-fuzz failed."
fi
done_step

step "Chromium (Debian package)"
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); else
    fail "Chromium is missing and this user cannot install packages: run 'apt-get install chromium' as root."
  fi
  "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq chromium >/dev/null \
    || fail "apt-get could not install chromium."
else
  echo "   $(/usr/bin/chromium --version 2>/dev/null | head -1)"
fi
done_step

step "npm dev packages (the bundlers the package is tested with, Playwright's driver, wasm-opt)"
if [[ ! -d node_modules/playwright-core || ! -x node_modules/.bin/wasm-opt || ! -d node_modules/next \
  || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # Exactly the lock file, which never changes here: the lock holds every
  # platform's optional binaries (esbuild's, Rollup's, Next.js's), so a
  # clone stays clean.
  echo "   npm ci (about a minute)"
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed."
else
  echo "   up to date"
fi
done_step

# The virtualenv named $1 (see scripts/venv.sh), from the pinned
# requirements file $2. The marker is written last, so an install cut short
# is redone.
make_venv() {
  local venv
  venv="$(bash scripts/venv.sh "$1" "$2")"
  if [[ ! -f "$venv/.installed" ]]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
      || fail "Python 3.10 or newer is needed as python3 (found: $(python3 --version 2>&1 || echo none))."
    rm -rf "$venv"
    python3 -m venv "$venv" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)."
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$2" \
      || fail "pip could not install $2 into $venv."
    touch "$venv/.installed"
  fi
  echo "   $venv"
}

if [[ -f www/backend/requirements.txt ]]; then
  step "Python backend virtualenv"
  make_venv venv www/backend/requirements.txt
  done_step
fi

step "OTLP stand-in for Honeycomb (Python gRPC virtualenv)"
make_venv standin-venv tests/standin/requirements.txt
done_step

step "OpenTelemetry Collector"
bash scripts/collector.sh >/dev/null
done_step
