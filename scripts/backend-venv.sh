#!/usr/bin/env bash
# Prints the directory of the demo backend's virtualenv. One per
# www/backend/requirements.txt content, in the per-user cache, so clones on
# the same machine share it and a changed pin gets a fresh one.
# scripts/setup.sh creates it; the demo and the tests only read this path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${WAGGLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waggle}"
echo "$cache/venv-$(sha256sum "$root/www/backend/requirements.txt" | cut -c1-12)"
