#!/usr/bin/env bash
# Every test: the core natively, the browser shell in headless Chromium
# (wasm-bindgen-test), then end to end with Playwright against the real
# Collector (and the real backend). Installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh

printf '\n== core (native cargo test)\n'
cargo test --quiet

printf '\n== browser shell (wasm-bindgen-test in headless Chromium)\n'
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" cargo test --target wasm32-unknown-unknown --test web

printf '\n== package\n'
bash scripts/build.sh

printf '\n== end to end (Playwright, Chromium, the Collector)\n'
node --test --test-concurrency=1 tests/e2e/
