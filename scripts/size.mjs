// The download of each way of loading the agent, gzip -9, against the
// budget checked in beside it (size-budget.json): the size gate of
// `make test`, and of each optional router entry point (what it adds to an
// app that already has the router and the agent: the module itself,
// minified). Fails when a figure grows past its budget. Lower a budget
// as the package shrinks; raise it only in a commit that says why.
//
//   node scripts/size.mjs            check pkg/ against the budget
//   node scripts/size.mjs --json     print the figures as JSON
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const file = (name) => readFileSync(join(pkg, name));

// The inline snippet: the <script> element's text, as a page carries it.
const html = file('snippet.html').toString();
const inline = html.slice(html.indexOf('<script>') + 8, html.lastIndexOf('</script>'));

// What a bundler emits for an app that imports every export, minified.
const dir = mkdtempSync(join(tmpdir(), 'waggle-size-'));
let bundled;
try {
  writeFileSync(join(dir, 'app.js'), `import * as waggle from ${JSON.stringify(join(pkg, 'index.js'))};\nglobalThis.waggle = waggle;\n`);
  const out = buildSync({ entryPoints: [join(dir, 'app.js')], bundle: true, minify: true, format: 'esm', target: 'es2020', write: false, logLevel: 'error' });
  bundled = out.outputFiles[0].contents;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const wasm = gz(file('waggle.wasm'));
const figures = {
  snippet: { 'inline snippet': gz(Buffer.from(inline)), 'waggle.snippet.js': gz(file('waggle.snippet.js')), 'waggle.wasm': wasm },
  npm: { 'bundled app code': gz(bundled), 'waggle.wasm': wasm },
};
const ENTRIES = ['react-router', 'vue-router', 'next'];
const entries = Object.fromEntries(ENTRIES.map((e) => [e, gz(file(`${e}.js`))]));
const total = (parts) => Object.values(parts).reduce((a, b) => a + b, 0);
const budget = JSON.parse(readFileSync(join(root, 'size-budget.json'), 'utf8'));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ figures, totals: { snippet: total(figures.snippet), npm: total(figures.npm) }, entries, budget }, null, 2));
  process.exit(0);
}

let over = false;
for (const path of ['snippet', 'npm']) {
  const t = total(figures[path]);
  const parts = Object.entries(figures[path]).map(([k, v]) => `${k} ${v}`).join(' + ');
  const ok = t <= budget[path];
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${path} path: ${t} B gzip (${parts}); budget ${budget[path]} B, goal ${budget.goal} B`);
}
for (const e of ENTRIES) {
  const ok = entries[e] <= budget[e];
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} waggle-rum/${e}: ${entries[e]} B gzip; budget ${budget[e]} B`);
}
if (over) {
  console.error('size: the package grew past size-budget.json; make it smaller, or raise the budget in a commit that says why');
  process.exit(1);
}
