#!/usr/bin/env bash
# Fuzzes the parsers that take input from pages and servers: trace context,
# init's options, URL scrubbing and the OTLP encoder. Each target runs for
# FUZZ_SECONDS (default 60). Needs the nightly toolchain and cargo-fuzz,
# installed here when missing. A crash leaves its input in
# fuzz/artifacts/<target>/; keep it as a regression test in src/core.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${FUZZ_SECONDS:-60}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz
for target in trace_context config url_scrub otlp_encode; do
  echo "== $target ($seconds s)"
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=4096 2>&1 \
    | grep -E "^#[0-9]+ *DONE|Done [0-9]+ runs|SUMMARY|panicked|ERROR" || true
  if ls "fuzz/artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "crash found in $target: see fuzz/artifacts/$target" >&2
    exit 1
  fi
done
