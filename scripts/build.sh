#!/usr/bin/env bash
# Builds the npm package in pkg/: the wasm module (release profile, then
# wasm-bindgen for --target web, then binaryen's wasm-opt -Oz) and the
# hand-written ES module wrapper and TypeScript declarations from js/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --quiet --lib --release --target wasm32-unknown-unknown
rm -rf pkg && mkdir -p pkg
wasm-bindgen --target web --out-dir pkg --out-name waggle_rum --no-typescript \
  target/wasm32-unknown-unknown/release/waggle_rum.wasm
# Debian's binaryen breaks modules from current wasm-bindgen; this one is
# pinned in package.json.
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  pkg/waggle_rum_bg.wasm -o pkg/waggle_rum_bg.wasm
cp js/index.js js/index.d.ts js/package.json pkg/
cp README.md pkg/README.md 2>/dev/null || true

# The script-tag build: the agent in one minified module, fetching the wasm
# with its SHA-384, and the snippet to paste, carrying the bundle's.
sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }
cp js/snippet-loader.js pkg/.snippet-loader.js
node_modules/.bin/esbuild pkg/.snippet-loader.js --bundle --format=esm --minify --target=es2020 \
  --outfile=pkg/waggle.snippet.js --log-level=warning
rm pkg/.snippet-loader.js
wasm_sri="$(sri pkg/waggle_rum_bg.wasm)"
sed -i "s#__WAGGLE_WASM_INTEGRITY__#$wasm_sri#" pkg/waggle.snippet.js
snippet_src="${WAGGLE_SNIPPET_SRC:-/waggle-rum/waggle.snippet.js}"
sed -e "s#__WAGGLE_SRC__#$snippet_src#" -e "s#__WAGGLE_SNIPPET_INTEGRITY__#$(sri pkg/waggle.snippet.js)#" \
  js/snippet.html >pkg/snippet.html

size() { printf '%-22s %8d B raw %7d B gzip\n' "$1" "$(wc -c <"$1")" "$(gzip -9c "$1" | wc -c)"; }
size pkg/waggle_rum_bg.wasm
size pkg/waggle_rum.js
size pkg/index.js
size pkg/waggle.snippet.js
