#!/usr/bin/env bash
# Every test: the core and the whole agent natively, the Collector's
# sourcemap processor (go test), the package and its size budget, then end
# to end with Playwright in headless Chromium against the real Collector
# (and the real backend). Installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh

printf '\n== core and agent (native cargo test)\n'
cargo test --quiet

printf '\n== the Collector'"'"'s sourcemap processor (go test)\n'
command -v go >/dev/null || { echo "Go is not installed: it runs the sourcemap processor's tests (collector-config/sourcemapprocessor)." >&2; exit 1; }
(cd collector-config/sourcemapprocessor && go test ./...)

printf '\n== fuzz targets (each built, its corpus replayed once)\n'
FUZZ_SECONDS=0 bash scripts/fuzz.sh

printf '\n== package, and its size against size-budget.json\n'
bash scripts/build.sh
node scripts/size.mjs

printf '\n== end to end (Playwright, Chromium, the Collector)\n'
node --test --test-concurrency=1 tests/e2e/
