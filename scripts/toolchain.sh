# The nightly the shipped module is built with: pinned, so the module does
# not change under a toolchain update. scripts/setup.sh installs it.
WAGGLE_NIGHTLY="${WAGGLE_NIGHTLY:-nightly-2026-10-29}"
