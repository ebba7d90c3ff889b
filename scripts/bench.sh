#!/usr/bin/env bash
# The benchmark against the OpenTelemetry JS web stack: installs the
# benchmark's pinned npm packages, builds Waggle, runs both agents in
# headless Chromium and writes bench/results.json and bench/RESULTS.md.
# Extra arguments go to bench/run.mjs (--runs N, --spans N, --no-profile).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

(cd bench && npm ci --no-audit --no-fund --loglevel=error)
bash scripts/build.sh
node bench/run.mjs "$@"
