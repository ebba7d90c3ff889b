#!/usr/bin/env bash
# What a release ships, from pkg/ as scripts/build.sh left it (make package
# builds first):
#   dist/waggle-rum-<version>.tgz            the npm package (`npm pack`):
#                                            npm install ./dist/waggle-rum-<version>.tgz,
#                                            or npm publish dist/waggle-rum-<version>.tgz
#   dist/cdn/waggle-rum/<version>/           for script-tag pages, to upload as it is:
#     waggle.snippet.js, waggle.wasm           served side by side
#     snippet.html                             the inline snippet to paste, pointing there
# and prints the Subresource Integrity hashes and the snippet's CSP hash.
#
# WAGGLE_CDN_BASE is where dist/cdn/waggle-rum is served, such as
# https://cdn.example.com/waggle-rum (default /waggle-rum, this site);
# WAGGLE_DIST another folder than dist/ (it is emptied first).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

[[ -f pkg/package.json && -f pkg/waggle.wasm ]] || { echo "package: pkg/ is not built; run make build (or make package)" >&2; exit 1; }
version="$(node -p "require('./pkg/package.json').version")"
base="${WAGGLE_CDN_BASE:-/waggle-rum}"
base="${base%/}"
dist="${WAGGLE_DIST:-dist}"
cdn="$dist/cdn/waggle-rum/$version"

rm -rf "$dist"
mkdir -p "$cdn"
tarball="$(npm pack ./pkg --pack-destination "$dist" --silent | tail -1)"
cp pkg/waggle.snippet.js pkg/waggle.wasm "$cdn/"

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }
# The snippet in pkg/ loads waggle.snippet.js from where the build was told
# (WAGGLE_SNIPPET_SRC); this one from the versioned folder. Its SRI hashes
# stay; its CSP hash is that of the new inline script.
SRC="$base/$version/waggle.snippet.js" VERSION="$version" node - pkg/snippet.html "$cdn/snippet.html" <<'EOF'
const fs = require('node:fs');
const crypto = require('node:crypto');
const [from, to] = process.argv.slice(2);
const html = fs.readFileSync(from, 'utf8');
const m = /^<script>([\s\S]*)<\/script>\n$/m.exec(html.slice(html.indexOf('\n') + 1));
if (!m) throw new Error(`${from}: no inline <script> on its second line`);
const srcs = [...m[1].matchAll(/"([^"]*\/waggle\.snippet\.js)"/g)];
if (srcs.length !== 1) throw new Error(`${from}: expected one waggle.snippet.js URL, found ${srcs.length}`);
const inline = m[1].replace(srcs[0][0], JSON.stringify(process.env.SRC));
const csp = `sha256-${crypto.createHash('sha256').update(inline).digest('base64')}`;
fs.writeFileSync(to, `<!-- Waggle ${process.env.VERSION}: paste into <head>, before other scripts. CSP: script-src '${csp}' -->\n<script>${inline}</script>\n`);
EOF
csp="$(sed -n "1s/.*CSP: script-src '\([^']*\)'.*/\1/p" "$cdn/snippet.html")"

local_path="$dist/$tarball"
[[ "$local_path" == /* ]] || local_path="./$local_path"
printf 'npm package   %s\n' "$dist/$tarball"
printf '              npm install %s   (or: npm publish %s)\n' "$local_path" "$dist/$tarball"
printf 'CDN folder    %s/  (serve it at %s/%s/)\n' "$cdn" "$base" "$version"
for f in waggle.snippet.js waggle.wasm snippet.html; do
  printf '              %-18s %8d B\n' "$f" "$(wc -c <"$cdn/$f")"
done
printf '\nSubresource Integrity (carried by the snippet; for your own <script> or fetch):\n'
printf '  waggle.snippet.js  %s\n' "$(sri "$cdn/waggle.snippet.js")"
printf '  waggle.wasm        %s\n' "$(sri "$cdn/waggle.wasm")"
printf '\nContent Security Policy for a page with %s/snippet.html pasted in:\n' "$cdn"
origin="'self'"
[[ "$base" =~ ^(https?://[^/]+) ]] && origin="${BASH_REMATCH[1]}"
printf "  script-src '%s' %s 'wasm-unsafe-eval';\n" "$csp" "$origin"
printf '  connect-src <your Collector> %s;\n' "$origin"
