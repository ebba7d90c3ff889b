// The two ways teams adopt Waggle: the npm package in a bundled app
// (esbuild and Vite, served from a sub-path, type-checked with tsc; every
// code example of both READMEs compiles, and the declarations refuse what
// the agent refuses) and the script-tag snippet (calls queued before the
// agent arrives replayed in order; a blocked agent leaves the page
// working). tests/e2e/bundlers.test.mjs covers the other bundlers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startStack } from '../lib/stack.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

const bin = (name) => path.join(REPO_ROOT, 'node_modules', '.bin', name);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

let stack, server, collector, browser, work;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'waggle-adoption-'));
  // The package exactly as npm would publish it.
  const packed = JSON.parse(run('npm', ['pack', path.join(REPO_ROOT, 'pkg'), '--pack-destination', work, '--json'], work))[0];
  const app = path.join(work, 'app');
  fs.cpSync(path.join(REPO_ROOT, 'tests/apps/bundled'), app, { recursive: true });
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(work, packed.filename)], app);
  // esbuild leaves `new URL('…wasm', import.meta.url)` alone, so the wasm is
  // copied next to the bundle, as README says.
  const esb = path.join(app, 'dist-esbuild');
  run(bin('esbuild'), ['src/main.ts', '--bundle', '--format=esm', '--minify', `--outfile=${path.join(esb, 'app.js')}`, '--log-level=warning'], app);
  fs.copyFileSync(path.join(app, 'node_modules/waggle-rum/waggle.wasm'), path.join(esb, 'waggle.wasm'));
  fs.writeFileSync(path.join(esb, 'index.html'), fs.readFileSync(path.join(app, 'index.html'), 'utf8').replace('./src/main.ts', './app.js'));
  // Vite emits the wasm as an asset by itself.
  run(bin('vite'), ['build', '--base', './', '--outDir', 'dist-vite', '--logLevel', 'warn'], app);

  const snippet = fs.readFileSync(path.join(REPO_ROOT, 'pkg/snippet.html'), 'utf8').replace(/(['"])\/waggle-rum\/waggle\.snippet\.js\1/, "'/pkg/waggle.snippet.js'");
  const snippetPage = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Snippet page</title>
${snippet}
<script>
  var params = new URLSearchParams(location.search);
  window.loadedAtFirstCall = !!window.waggle.loaded;
  window.initResult = waggle.init({ serviceName: 'snippet-example', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } });
  waggle.setUser({ id: 'snippet-user' });
  waggle.setRoute('/snippet/:page');
  var first = waggle.startSpan('early.first', { 'app.order': 1 });
  first.setAttribute('app.note', 'before the agent');
  first.end();
  waggle.withSpan('early.second', function (s) { s.setAttribute('app.order', 2); });
  window.flushed = waggle.flush();
</script>
<script>document.documentElement.dataset.pageScript = 'ran';</script>
</head><body><h1>Snippet page</h1></body></html>`);
  };
  ({ server, collector, browser } = stack = await startStack({
    mounts: { '/pkg/': 'pkg', '/sub/esbuild/': esb, '/sub/vite/': path.join(app, 'dist-vite') },
    routes: { '/snippet/index.html': snippetPage },
  }));
});

after(async () => {
  await stack?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the declarations type-check an app that uses every call (tsc --noEmit)', () => {
  const out = (() => {
    try {
      return run(bin('tsc'), ['--noEmit', '-p', path.join(work, 'app')], path.join(work, 'app'));
    } catch (err) {
      return `${err.stdout}${err.stderr}`;
    }
  })();
  assert.equal(out.trim(), '');
  // And the checker is really checking: a wrong option type fails.
  const bad = path.join(work, 'app', 'src', 'bad.ts');
  fs.writeFileSync(bad, "import { init } from 'waggle-rum';\ninit({ serviceName: 'x', sampleRate: '0.5' });\n");
  let report = '';
  try {
    run(bin('tsc'), ['--noEmit', '-p', path.join(work, 'app')], path.join(work, 'app'));
  } catch (err) {
    report = `${err.stdout}`;
  } finally {
    fs.rmSync(bad);
  }
  assert.match(report, /bad\.ts.*Type 'string' is not assignable to type 'number'/s);
});

/** The fenced blocks of a markdown file in `langs`, in order. */
function examples(file, langs) {
  const blocks = [];
  let open = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const fence = line.match(/^```(\w*)\s*$/);
    if (!open && fence) open = { lang: fence[1], code: '' };
    else if (open && line.startsWith('```')) {
      if (langs.includes(open.lang)) blocks.push(open);
      open = null;
    } else if (open) open.code += `${line}\n`;
  }
  return blocks;
}

// The routers the router entry points' examples import.
const ROUTERS = ['react-router', 'vue-router', 'vue', '@vue', 'next', 'react', 'react-dom'];
const importsRouter = (code) => /from '(react-router|vue-router|next\/[\w/]+)'/.test(code);

/**
 * tsc --strict --exactOptionalPropertyTypes over `files` with the packed
 * package; its report. With `routers`, the real routers are there too, and
 * the declarations in node_modules are not checked themselves (the
 * routers' own do not pass exactOptionalPropertyTypes; the package's are
 * checked without them).
 */
function strictCheck(name, files, { routers = false } = {}) {
  const dir = path.join(work, name);
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  fs.cpSync(path.join(work, 'app/node_modules/waggle-rum'), path.join(dir, 'node_modules/waggle-rum'), { recursive: true });
  // For the Next.js (React) example.
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules/@types/react'), path.join(dir, 'node_modules/@types/react'));
  if (routers) for (const m of ROUTERS) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', m), path.join(dir, 'node_modules', m));
  for (const [file, code] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), code);
  const compilerOptions = {
    target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], jsx: 'react-jsx',
    strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: routers, types: [],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: Object.keys(files) }));
  try {
    return run(bin('tsc'), ['-p', dir], dir);
  } catch (err) {
    return `${err.stdout}${err.stderr}`;
  }
}

test("every js/ts example in README.md and in the package's README compiles under tsc --strict --exactOptionalPropertyTypes", () => {
  const files = {};
  // The package's README as it ships, and the repository's.
  for (const [name, file] of [['package', path.join(work, 'app/node_modules/waggle-rum/README.md')], ['repo', path.join(REPO_ROOT, 'README.md')]]) {
    examples(file, ['js', 'ts', 'jsx', 'tsx']).forEach((b, i) => {
      // Each a module of its own (top-level await, no shared names).
      files[`${name}-${i + 1}.${b.lang.endsWith('x') ? 'tsx' : 'ts'}`] = `${b.code}export {};\n`;
    });
  }
  assert.ok(Object.keys(files).filter((f) => f.startsWith('package-')).length >= 5, Object.keys(files).join(' '));
  assert.ok(Object.keys(files).some((f) => f.startsWith('repo-')));
  // The router entry points' examples, with the real routers.
  const withRouters = Object.fromEntries(Object.entries(files).filter(([, code]) => importsRouter(code)));
  assert.ok(Object.keys(withRouters).length >= 3, Object.keys(withRouters).join(' '));
  for (const f of Object.keys(withRouters)) delete files[f];
  assert.equal(strictCheck('readme', files).trim(), '');
  assert.equal(strictCheck('readme-routers', withRouters, { routers: true }).trim(), '');
});

test('the declarations take what the agent takes and refuse the rest (window.waggle, loadAgent, event names, attributes, error classes, setRoute, consent, the router entry points)', () => {
  // Each @ts-expect-error must meet an error, or tsc reports it unused.
  const check = `/// <reference types="waggle-rum/snippet" />
import { init, loadAgent, startSpan, setUser, setGlobalAttributes, setRoute, setConsent, WaggleConfigError, WaggleLoadError, type InteractionEvent, type Consent } from 'waggle-rum';
import { trackRouter as trackReactRouter, WaggleRoutes } from 'waggle-rum/react-router';
import { trackRouter as trackVueRouter } from 'waggle-rum/vue-router';
import { WaggleRoute, routeOf } from 'waggle-rum/next';
import type { ReactElement } from 'react';

const exportsOf: WebAssembly.Exports = await loadAgent();
const events: InteractionEvent[] = ['click', 'submit', 'keydown'];
await init({ serviceName: 'x', interactionEvents: events });
// @ts-expect-error a misspelt event name
await init({ serviceName: 'x', interactionEvents: ['clik'] });
await init({ serviceName: 'x', attributes: { a: [1, 2], b: ['x'] as const, c: true, d: 'e', f: undefined } });
// @ts-expect-error an object is no attribute value
await init({ serviceName: 'x', attributes: { a: { b: 1 } } });
// @ts-expect-error init's attributes refuse null
await init({ serviceName: 'x', attributes: { a: null } });
startSpan('s', { a: [true, false] }).setAttribute('n', [1.5, 2]);
// @ts-expect-error a mixed array is no attribute value
startSpan('s', { a: [1, 'b'] });
setUser({ id: '42', email: null, team: undefined });
setGlobalAttributes({ gone: null });
try {
  await init({ serviceName: '' });
} catch (e) {
  if (e instanceof WaggleConfigError) {
    const option: string = e.option;
    const name: 'WaggleConfigError' = e.name;
    const asType: TypeError = e;
  }
  if (e instanceof WaggleLoadError) {
    const cause: unknown = e.cause;
  }
}
await init({ serviceName: 'x', debug: { traceUrl: 'https://ui.honeycomb.io/t/environments/e/trace?trace_id={traceId}' } });
await init({ serviceName: 'x', debug: true });
// @ts-expect-error debug is a boolean or { traceUrl }
await init({ serviceName: 'x', debug: { link: 'x' } });
waggle.setRoute('/products/:id');
setRoute('/products/:id');
setRoute(null);
// @ts-expect-error a route is a string or null
setRoute(42);
const consents: Consent[] = ['granted', 'pending', 'denied'];
await init({ serviceName: 'x', consent: consents[1] });
setConsent('granted');
waggle.setConsent('denied');
// @ts-expect-error consent is one of three strings
setConsent('yes');
// @ts-expect-error nor a boolean
await init({ serviceName: 'x', consent: true });
trackReactRouter({ state: { matches: [{ route: { path: '/' } }, { route: {} }] }, subscribe: () => () => {} })();
// @ts-expect-error trackRouter takes a router
trackReactRouter({});
const routes: ReactElement = WaggleRoutes({ children: null });
trackVueRouter({ currentRoute: { value: { matched: [{ path: '/products/:id' }] } }, afterEach: () => () => {} })();
const template: string = routeOf('/products/42', { id: '42', slug: ['a', 'b'], none: undefined });
const named: null = WaggleRoute();
const started: boolean = await waggle.init({ serviceName: 'x' });
const flushed: boolean = await window.waggle.flush();
const stopped: boolean = await waggle.shutdown();
// @ts-expect-error through the snippet init resolves a boolean
const nothing: undefined = await waggle.init({ serviceName: 'x' });
export {};
`;
  assert.equal(strictCheck('declarations', { 'check.ts': check }).trim(), '');
});

for (const bundler of ['esbuild', 'vite']) {
  test(`an app bundled with ${bundler} from the packed tarball exports from a sub-path`, async () => {
    const url = `${server.url}/sub/${bundler}/index.html?bundler=${bundler}&endpoint=${encodeURIComponent(collector.endpoint)}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    assert.equal(await page.evaluate(() => window.appDone), 'ok 42', formatConsole(consoleMessages, pageErrors));
    const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'bundled.work' && s.attrs['app.bundler'] === bundler));
    const work = spans.find((s) => s.name === 'bundled.work' && s.attrs['app.bundler'] === bundler);
    assert.equal(work.resource['service.name'], 'bundled-example');
    assert.equal(work.resource['service.version'], '1.0.0');
    assert.equal(work.attrs['user.id'], 'bundled-user');
    assert.equal(work.attrs['app.items'], 2);
    assert.equal(work.attrs['waggle.page.route'], `/sub/${bundler}/index.html`);
    await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url));
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
}

test('the snippet queues calls made before the agent arrives and replays them in order', async () => {
  const url = `${server.url}/snippet/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  assert.equal(await page.evaluate(() => window.initResult), true, formatConsole(consoleMessages, pageErrors));
  assert.equal(await page.evaluate(() => window.loadedAtFirstCall), false, 'the calls were made before the agent arrived');
  assert.equal(await page.evaluate(() => window.flushed), true);
  assert.equal(await page.evaluate(() => window.waggle.loaded), true);
  const spans = await collector.waitForSpans((all) => ['early.first', 'early.second'].every((n) => all.some((s) => s.name === n && s.resource['service.name'] === 'snippet-example')));
  const first = spans.find((s) => s.name === 'early.first');
  const second = spans.find((s) => s.name === 'early.second');
  assert.equal(first.attrs['app.note'], 'before the agent');
  assert.equal(first.attrs['user.id'], 'snippet-user');
  assert.equal(first.attrs['waggle.page.route'], '/snippet/:page', 'setRoute queued and replayed in order');
  assert.equal(second.attrs['app.order'], 2);
  // Replayed with the times they were made at, in order, before init resolved.
  const t = await page.evaluate(() => ({ origin: performance.timeOrigin, nav: performance.getEntriesByType('navigation')[0].domInteractive }));
  const firstMs = Number(BigInt(first.startTimeUnixNano) / 1000n) / 1000 - t.origin;
  assert.ok(firstMs < t.nav, `early.first started at ${firstMs} ms, before domInteractive ${t.nav} ms`);
  assert.ok(BigInt(first.startTimeUnixNano) <= BigInt(second.startTimeUnixNano));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.pageScript), 'ran');
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('with the agent blocked, the page still runs and logs no uncaught error', async () => {
  const url = `${server.url}/snippet/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, context, consoleMessages, pageErrors } = await openPage(browser, null);
  await context.route('**/waggle.snippet.js', (route) => route.abort('blockedbyclient'));
  await page.goto(url);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.pageScript), 'ran');
  assert.equal(await page.evaluate(() => window.initResult), false);
  assert.equal(await page.evaluate(() => window.flushed), false);
  // Later calls do nothing and throw nothing.
  assert.equal(await page.evaluate(() => { waggle.startSpan('late').end(); return waggle.init({ serviceName: 'x' }); }), false);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(pageErrors, []);
  assert.equal(consoleMessages.filter((m) => /Uncaught/.test(m.text)).length, 0, formatConsole(consoleMessages));
  await page.close();
});
