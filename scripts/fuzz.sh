#!/usr/bin/env bash
# Fuzzes the parsers that take input from pages and servers: trace context,
# init's options, URL scrubbing and the OTLP encoder. Each target runs for
# FUZZ_SECONDS (default 60) on its corpus: the seeds kept in
# fuzz/seeds/<target>/ and what earlier runs found, in fuzz/corpus/<target>/.
# FUZZ_SECONDS=0 only replays that corpus once (what `make test` does).
#
# Fails when a target does not build or crashes; a crash leaves its input in
# fuzz/artifacts/<target>/ (replay it with `cargo +<nightly> fuzz run
# <target> <file>`, then keep it as a regression test in src/core). Uses the
# nightly the module is built with (scripts/toolchain.sh) and cargo-fuzz,
# installing either when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/toolchain.sh
seconds="${FUZZ_SECONDS:-60}"
targets=(trace_context config url_scrub otlp_encode)

rustup run "$WAGGLE_NIGHTLY" rustc --version >/dev/null 2>&1 \
  || rustup toolchain install "$WAGGLE_NIGHTLY" --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

# Every target, before any runs: a target that no longer builds fails here.
cargo "+$WAGGLE_NIGHTLY" fuzz build

if [[ "$seconds" == 0 ]]; then run=(-runs=0); else run=(-max_total_time="$seconds"); fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  if ! cargo "+$WAGGLE_NIGHTLY" fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    "${run[@]}" -max_len=4096 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed (a crash leaves its input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  printf '%-14s %s\n' "$target" "$(grep -E '^#[0-9]+ *(DONE|INITED)|Done [0-9]+ runs' "$log" | tail -n 1)"
done
