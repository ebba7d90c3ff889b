#!/usr/bin/env bash
# Prints the directory of a virtualenv: scripts/venv.sh NAME REQUIREMENTS.
# One per requirements file content, in the per-user cache, so clones on the
# same machine share it and a changed pin gets a fresh one.
# scripts/setup.sh creates it; the demo and the tests only read this path.
#   backend (www/backend/requirements.txt): NAME venv
#   OTLP stand-in (tests/standin/requirements.txt): NAME standin-venv
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${WAGGLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/waggle}"
echo "$cache/$1-$(sha256sum "$root/$2" | cut -c1-12)"
