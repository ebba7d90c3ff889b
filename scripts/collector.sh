#!/usr/bin/env bash
# Finds or builds the Waggle collector and prints the binary's path.
#
#   scripts/collector.sh [MANIFEST]   (default collector-config/manifest.yaml;
#   deploy/tail-sampling/manifest.yaml is the one with tail sampling)
#
# WAGGLE_OTELCOL=/path/to/otelcol-contrib uses a collector you already run
# (it must have the components listed in collector-config/manifest.yaml).
# Otherwise the binary is built once per manifest with the Collector Builder
# into a per-user cache, so fresh clones on the same machine reuse it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILDER_VERSION=v0.159.0

if [[ -n "${WAGGLE_OTELCOL:-}" ]]; then
  if [[ ! -x "$WAGGLE_OTELCOL" ]]; then
    echo "WAGGLE_OTELCOL=$WAGGLE_OTELCOL is not an executable file" >&2
    exit 1
  fi
  echo "$WAGGLE_OTELCOL"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go is needed to build the collector (or set WAGGLE_OTELCOL to a collector binary)." >&2
  exit 1
fi

manifest="${1:-$root/collector-config/manifest.yaml}"
manifest_dir="$(cd "$(dirname "$manifest")" && pwd)"
# The binary is dist.name, built into ./<name> (both manifests say so).
name="$(awk '/^dist:/ {d=1; next} d && /^  name:/ {print $2; exit}' "$manifest")"
# Modules built from a folder here (a `path:` entry, relative to the
# manifest) are part of what is built: their files count in the cache key,
# so a change to them builds anew (their tests and test data do not).
local_dirs=()
while read -r p; do
  local_dirs+=("$(cd "$manifest_dir" && cd "$p" && pwd)")
done < <(awk '/^ *path: / {print $2}' "$manifest")
hash="$({
  cat "$manifest"
  for d in "${local_dirs[@]}"; do
    (cd "$d" && find . -type f ! -name '*_test.go' ! -path './testdata/*' -print0 | sort -z | xargs -0 sha256sum)
  done
} | sha256sum | cut -c1-12)"
cache="${WAGGLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waggle}"
dir="$cache/otelcol-$hash"
bin="$dir/$name/$name"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

gobin="$(go env GOPATH)/bin"
if [[ ! -x "$gobin/builder" ]] || ! "$gobin/builder" version 2>/dev/null | grep -q "${BUILDER_VERSION#v}"; then
  echo "installing the Collector Builder $BUILDER_VERSION ..." >&2
  go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2
fi

echo "building the collector (first time only, several minutes on 2 cores) ..." >&2
mkdir -p "$dir"
# The builder runs in the cache folder, so a `path:` is made absolute.
awk -v base="$manifest_dir" '/^ *path: \./ { sub(/path: \./, "path: " base "/.") } { print }' "$manifest" >"$dir/manifest.yaml"
start=$SECONDS
(cd "$dir" && GOFLAGS="${GOFLAGS:-} -p=2" "$gobin/builder" --config manifest.yaml >"$dir/build.log" 2>&1) || {
  echo "collector build failed; the last lines of $dir/build.log:" >&2
  tail -20 "$dir/build.log" >&2
  exit 1
}
echo "collector built in $((SECONDS - start)) s" >&2
echo "$bin"
