#!/usr/bin/env bash
# Starts the Collector with collector-config/honeycomb.yaml after checking
# what it cannot run without. Extra arguments go to the Collector.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${HONEYCOMB_API_KEY:-}" ]]; then
  echo "collector-honeycomb: HONEYCOMB_API_KEY is not set. Set it to an ingest key of your Honeycomb environment; it stays in the Collector's environment and never goes in a page." >&2
  exit 2
fi
if [[ -z "${WAGGLE_ALLOWED_ORIGINS:-}" ]]; then
  echo "collector-honeycomb: WAGGLE_ALLOWED_ORIGINS is not set. Set it to the page origins that may send, as a YAML list: '[\"https://shop.example.com\"]'." >&2
  exit 2
fi
if [[ "$WAGGLE_ALLOWED_ORIGINS" =~ (^|[\"\',[:space:]\[])\*([\"\',[:space:]]|\]|$) ]]; then
  echo "collector-honeycomb: WAGGLE_ALLOWED_ORIGINS must not contain a bare \"*\": the receiver allows credentials, so any site could send. List origins, or patterns such as https://*.example.com." >&2
  exit 2
fi
# The Go runtime collects harder as the heap nears GOMEMLIMIT, so garbage
# from decoding bodies does not push the process past the memory limiter's
# hard limit between its checks. Give the container about 1.25 times this.
export GOMEMLIMIT="${GOMEMLIMIT:-${WAGGLE_MEMORY_LIMIT_MIB:-1536}MiB}"
args=(--config "$root/collector-config/honeycomb.yaml")
if [[ -n "${HONEYCOMB_DATASET:-}" ]]; then
  args+=(--config "$root/collector-config/honeycomb-dataset.yaml")
fi
if [[ -n "${WAGGLE_SOURCE_MAPS_DIR:-}${WAGGLE_SOURCE_MAPS_URL:-}" ]]; then
  args+=(--config "$root/collector-config/honeycomb-sourcemaps.yaml")
fi
exec "$(bash "$root/scripts/collector.sh")" "${args[@]}" "$@"
