#!/usr/bin/env bash
# Builds the npm package in pkg/: the module (a pinned nightly with
# build-std, so panics abort without formatting and core::fmt stays out;
# then binaryen's wasm-opt), the JavaScript (esbuild), the snippet to
# paste with its hashes, and the declarations.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/toolchain.sh

# The shipped module only; development and tests build on stable.
RUSTFLAGS="-C link-arg=-zstack-size=65536 -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  cargo "+$WAGGLE_NIGHTLY" build --quiet --lib --release --target wasm32-unknown-unknown \
  -Zbuild-std=core,alloc --target-dir target/ship
rm -rf pkg && mkdir -p pkg
# Debian's binaryen breaks modules from current toolchains; this one is
# pinned in package.json.
# -Os with whole-program type analysis between two rounds gzips smaller
# than -Oz here (measured: about 0.5 KB).
node_modules/.bin/wasm-opt -Os --gufa-optimizing -Os --strip-debug --strip-producers \
  --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  target/ship/wasm32-unknown-unknown/release/waggle_rum.wasm -o pkg/waggle.wasm

esbuild() { node_modules/.bin/esbuild --bundle --minify --target=es2020 --log-level=warning "$@"; }
# The npm module (what bundlers and no-bundler pages import).
esbuild js/index.js --format=esm --sourcemap --sources-content=true --outfile=pkg/index.js
# The rest of the agent for snippet pages, and the snippet itself.
esbuild js/loader.js --format=iife --log-override:empty-import-meta=silent --outfile=pkg/waggle.snippet.js
esbuild js/snippet.js --format=iife --outfile=pkg/.snippet.js
# The optional router entry points: each on its own, importing the router
# and ./index.js (the agent) as they are.
for entry in react-router vue-router next; do
  node_modules/.bin/esbuild "js/$entry.js" --minify --format=esm --target=es2020 --log-level=warning --outfile="pkg/$entry.js"
done

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }
snippet_src="${WAGGLE_SNIPPET_SRC:-/waggle-rum/waggle.snippet.js}"
inline="$(sed -e "s#__WAGGLE_SRC__#$snippet_src#" -e "s#__WAGGLE_INTEGRITY__#$(sri pkg/waggle.snippet.js)#" \
  -e "s#__WAGGLE_WASM_INTEGRITY__#$(sri pkg/waggle.wasm)#" pkg/.snippet.js | sed -e '$ s/\n$//')"
rm pkg/.snippet.js
printf '%s' "$inline" >pkg/.inline.js
csp="sha256-$(openssl dgst -sha256 -binary pkg/.inline.js | openssl base64 -A)"
rm pkg/.inline.js
{
  printf '<!-- Waggle %s: paste into <head>, before other scripts. CSP: script-src %s -->\n' "$(node -p "require('./js/package.json').version")" "'$csp'"
  printf '<script>%s</script>\n' "$inline"
} >pkg/snippet.html

cp js/index.d.ts js/snippet.d.ts js/react-router.d.ts js/vue-router.d.ts js/next.d.ts js/package.json js/README.md LICENSE pkg/

size() { printf '%-22s %8d B raw %7d B gzip\n' "$1" "$(wc -c <"$1")" "$(gzip -9c "$1" | wc -c)"; }
size pkg/waggle.wasm
size pkg/index.js
size pkg/waggle.snippet.js
size pkg/snippet.html
for entry in react-router vue-router next; do size "pkg/$entry.js"; done
