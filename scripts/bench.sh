#!/usr/bin/env bash
# The benchmark against the OpenTelemetry JS web stack: installs the
# benchmark's pinned npm packages, builds Waggle (pkg/), runs both agents in
# headless Chromium and writes bench/results.json and bench/RESULTS.md.
# Extra arguments go to bench/run.mjs (--runs N, --spans N, --big N,
# --no-profile; see bench/README.md). Exits 0 when budgets are missed, 1
# when something could not be measured.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

(cd bench && npm ci --no-audit --no-fund --loglevel=error)
bash scripts/build.sh
node bench/run.mjs "$@"
