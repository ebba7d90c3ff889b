#!/usr/bin/env bash
# Prints the directory of the virtualenv that runs the OTLP stand-in for
# Honeycomb (tests/standin/). One per tests/standin/requirements.txt
# content, in the per-user cache, so clones on the same machine share it and
# a changed pin gets a fresh one. scripts/setup.sh creates it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${WAGGLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waggle}"
echo "$cache/standin-venv-$(sha256sum "$root/tests/standin/requirements.txt" | cut -c1-12)"
