// What a developer sees with `debug` on, and routes that group well.
//
// - debug: the console at DevTools' default level (Playwright reports every
//   level; the test checks which): the resolved options at init, then one
//   group per export with a line per span (name, duration, key attributes,
//   trace id, the link from `traceUrl`), each line matched with the span
//   that reached the real Collector.
// - setRoute: route changes, requests and the vitals carry the template,
//   the URLs keep the raw path.
// - The router entry points from the packed tarball, each with its real
//   router in an app built by esbuild (React Router in data and declarative
//   mode, Vue Router) or by Next.js (App Router): a client-side navigation's
//   routeChange carries the router's template.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import * as esbuild from 'esbuild';

import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';
import { startCollector } from '../lib/collector.mjs';
import { startServer, REPO_ROOT } from '../lib/server.mjs';
import { startNextApp } from '../lib/next.mjs';

// Inside the repo (ignored by git), so the apps find the routers in the
// repo's node_modules above their own, which hold only the tarball.
const WORK = path.join(REPO_ROOT, 'tests/e2e/.out/routes');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
const APPS = ['react-data', 'react-routes', 'vue'];

let server, collector, browser, installed;
let runs = 0;

const shopPage = (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(fs.readFileSync(path.join(REPO_ROOT, 'tests/pages/routes/index.html')));
};
const appPage = (name) => (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${name}</title><div id="root"></div><script type="module" src="/${name}/app.js"></script>\n`);
};

before(async () => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  // The package exactly as npm would publish it, installed by npm once.
  const packed = JSON.parse(run('npm', ['pack', path.join(REPO_ROOT, 'pkg'), '--pack-destination', WORK, '--json'], { cwd: WORK }))[0];
  const base = path.join(WORK, 'install');
  fs.mkdirSync(base);
  fs.writeFileSync(path.join(base, 'package.json'), '{"private":true}\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--no-package-lock', path.join(WORK, packed.filename)], { cwd: base });
  installed = path.join(base, 'node_modules', 'waggle-rum');

  // The esbuild apps: one bundle each, the wasm copied next to it (as the
  // package's README says for esbuild).
  const dir = path.join(WORK, 'routers');
  fs.cpSync(path.join(REPO_ROOT, 'tests/apps/routers'), dir, { recursive: true });
  fs.cpSync(installed, path.join(dir, 'node_modules', 'waggle-rum'), { recursive: true });
  for (const name of APPS) {
    const entry = fs.readdirSync(path.join(dir, 'src')).find((f) => f.startsWith(`${name}.`));
    await esbuild.build({
      absWorkingDir: dir,
      entryPoints: [`src/${entry}`],
      bundle: true,
      format: 'esm',
      minify: true,
      jsx: 'automatic',
      outfile: `dist/${name}/app.js`,
      logLevel: 'warning',
      define: {
        'process.env.NODE_ENV': '"production"',
        __VUE_OPTIONS_API__: 'true',
        __VUE_PROD_DEVTOOLS__: 'false',
        __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
      },
    });
    fs.copyFileSync(path.join(installed, 'waggle.wasm'), path.join(dir, 'dist', name, 'waggle.wasm'));
  }

  const mounts = { '/pkg/': 'pkg' };
  const routes = { '/shop/products/42': shopPage, '/shop/products/7': shopPage };
  for (const name of APPS) {
    mounts[`/${name}/`] = path.join(dir, 'dist', name);
    routes[`/${name}/`] = appPage(name);
  }
  routes['/api/item'] = (req, res) => {
    const p = new URL(req.url, 'http://x').searchParams.get('path');
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ title: `Item ${p.split('/').pop()}` }));
    }, 30);
  };
  server = await startServer({ mounts, routes });
  // Next.js serves itself, on a port of its own.
  collector = await startCollector({ allowedOrigins: ['http://localhost:*'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  await server?.close();
  if (!process.env.WAGGLE_KEEP_ROUTES) fs.rmSync(WORK, { recursive: true, force: true });
});

/** Opens the shop page at `path` with `query`; waits until it has run. */
async function openShop(path, query) {
  const tag = `r${++runs}`;
  const url = `${server.url}${path}?run=${tag}&endpoint=${encodeURIComponent(collector.endpoint)}&${query}`;
  const opened = await openPage(browser, url);
  await opened.page.waitForFunction(() => window.ready || window.failed, null, { timeout: 10_000 });
  assert.equal(await opened.page.evaluate(() => window.failed), undefined, formatConsole(opened.consoleMessages, opened.pageErrors));
  const mine = (s) => String(s.attrs['browser.document.url.full'] ?? '').includes(`run=${tag}&`);
  const waitFor = async (pred) => (await collector.waitForSpans((all) => pred(all.filter(mine)))).filter(mine);
  return { ...opened, waitFor };
}

/** The console as Playwright reports it: the waggle lines, groups and their entries. */
function waggleConsole(messages) {
  const groups = [];
  const plain = [];
  let open = null;
  for (const m of messages) {
    if (m.type === 'startGroup' && m.text.startsWith('[waggle] ')) {
      open = { heading: m.text, lines: [] };
      groups.push(open);
    } else if (m.type === 'endGroup') open = null;
    else if (open) open.lines.push(m);
    else if (m.text.startsWith('[waggle] ')) plain.push(m);
  }
  return { groups, plain };
}

const ms = (s) => Math.round(Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e5) / 10;

test('debug: the options at init, then each export as a console group of its spans with their trace links, at the default level', async () => {
  const trace = 'https://ui.honeycomb.io/my-team/environments/dev/trace?trace_id={traceId}';
  const shop = await openShop('/shop/products/42', `debug=1&trace=${encodeURIComponent(trace)}&template=${encodeURIComponent('/shop/products/:id')}`);
  const { page, consoleMessages, pageErrors } = shop;
  await page.click('#go');
  await page.waitForFunction(() => document.getElementById('view').textContent === 'Item 7');
  const spans = await shop.waitFor((s) => ['documentLoad', 'routeChange', 'click', 'GET'].every((n) => s.some((x) => x.name === n)));
  await page.evaluate(() => window.waggle.flush());
  const log = formatConsole(consoleMessages, pageErrors);

  const { groups, plain } = waggleConsole(consoleMessages);
  // Shown at DevTools' default level: info, log and groups, never debug.
  assert.deepEqual(consoleMessages.filter((m) => m.type === 'debug'), [], log);
  const init = plain[0];
  assert.equal(init.type, 'info', log);
  for (const part of [
    "[waggle] started with { serviceName: 'routes-test', serviceVersion: undefined, environment: undefined, ",
    `endpoint: '${collector.endpoint}', sampleRate: 1, propagateTraceHeaderCorsUrls: [], ignoreUrls: [/\\/health$/], `,
    'instrumentations: { documentLoad: true, fetch: true, xhr: true, interactions: true, routeChanges: true, webVitals: true, errors: true, consoleErrors: false, longAnimationFrames: true }, ',
    'batch: { maxExportBatchSize: 512, scheduledDelayMillis: 50, maxQueueSize: 20000 }, ',
    "session: { inactivityMinutes: 15, maxMinutes: 240, persist: true }, sampleBy: 'trace', ",
    `debug: { traceUrl: '${trace}' }, wasmUrl: undefined }; `,
    `instrumentations on: documentLoad fetch xhr interactions routeChanges webVitals errors longAnimationFrames; spans go to ${collector.endpoint}/v1/traces`,
  ]) {
    assert.ok(init.text.includes(part), `${part}\nnot in\n${init.text}`);
  }

  // One group per export: its heading counts its lines, one per span.
  assert.ok(groups.length >= 1, log);
  const lines = [];
  for (const g of groups) {
    const m = /^\[waggle\] export of (\d+) spans?:$/.exec(g.heading);
    assert.ok(m, g.heading);
    assert.equal(g.lines.length, Number(m[1]), `${g.heading}\n${g.lines.map((l) => l.text).join('\n')}`);
    for (const l of g.lines) {
      assert.equal(l.type, 'log');
      const p = /^(\S+) (\d+(?:\.\d)?) ms(.*) trace ([0-9a-f]{32}) (\S+)$/.exec(l.text);
      assert.ok(p, l.text);
      assert.equal(p[5], trace.replace('{traceId}', p[4]), 'the link is the template with the trace id');
      lines.push({ name: p[1], ms: Number(p[2]), attrs: p[3], traceId: p[4], text: l.text });
    }
  }
  // The answers, at the same level.
  assert.ok(plain.some((m) => m.type === 'info' && /^\[waggle\] export of \d+ spans? answered 200$/.test(m.text)), log);

  // Each span at the Collector was printed, with its duration and trace.
  const all = await shop.waitFor((s) => s.length >= spans.length);
  for (const s of all) {
    const line = lines.find((l) => l.name === s.name && l.traceId === s.traceId && Math.abs(l.ms - ms(s)) <= 0.1);
    assert.ok(line, `${s.name} ${s.traceId} ${ms(s)} ms printed\n${lines.map((l) => l.text).join('\n')}`);
  }
  const lineOf = (name, pred = () => true) => lines.find((l) => l.name === name && pred(l));
  const get = all.find((s) => s.name === 'GET' && s.attrs['url.full'].includes('%2F7'));
  assert.ok(lineOf('GET', (l) => l.attrs === ` url.full="${get.attrs['url.full']}" http.response.status_code=200`), lines.map((l) => l.text).join('\n'));
  assert.ok(lineOf('click', (l) => l.attrs === ' waggle.target.selector="#go"'));
  assert.ok(lineOf('routeChange', (l) => l.attrs === ' waggle.route.to="/shop/products/:id"'));
  assert.deepEqual(pageErrors, []);
  await page.close();

  // debug: true: the same without links.
  const plainShop = await openShop('/shop/products/42', 'debug=1');
  await plainShop.waitFor((s) => s.some((x) => x.name === 'documentLoad'));
  await plainShop.page.evaluate(() => window.waggle.flush());
  const second = waggleConsole(plainShop.consoleMessages);
  assert.ok(second.plain[0].text.includes(', debug: true, wasmUrl: undefined }'), second.plain[0].text);
  const entries = second.groups.flatMap((g) => g.lines);
  assert.ok(entries.length > 0 && entries.every((l) => / trace [0-9a-f]{32}$/.test(l.text)), entries.map((l) => l.text).join('\n'));
  await plainShop.page.close();
});

test('setRoute: the page load, the vitals, a route change and its request carry the template; the URLs keep the path', async () => {
  const shop = await openShop('/shop/products/42', `template=${encodeURIComponent('/shop/products/:id')}`);
  const { page } = shop;
  // A click finalises LCP; the router then changes the URL and names the
  // new view's route a task later, and loads its data.
  await page.click('#go');
  await page.waitForFunction(() => document.getElementById('view').textContent === 'Item 7');
  const spans = await shop.waitFor((s) => ['documentLoad', 'LCP', 'FCP', 'TTFB', 'routeChange'].every((n) => s.some((x) => x.name === n)) && s.some((x) => x.name === 'GET' && x.attrs['url.full'].includes('%2F7')));
  const one = (name, pred = () => true) => spans.find((s) => s.name === name && pred(s));
  for (const name of ['documentLoad', 'LCP', 'FCP', 'TTFB']) {
    const s = one(name);
    assert.equal(s.attrs['waggle.page.route'], '/shop/products/:id', name);
    assert.match(s.attrs['browser.document.url.full'], /\/shop\/products\/42\?/, name);
  }
  assert.match(one('documentLoad').attrs['url.full'], /\/shop\/products\/42\?/);
  const route = one('routeChange');
  assert.equal(route.attrs['waggle.route.from'], '/shop/products/:id');
  assert.equal(route.attrs['waggle.route.to'], '/shop/products/:id');
  assert.equal(route.attrs['waggle.page.route'], '/shop/products/:id');
  assert.match(route.attrs['browser.document.url.full'], /\/shop\/products\/7\?/);
  assert.match(route.attrs['waggle.url.from'], /\/shop\/products\/42\?/);
  const get = one('GET', (s) => s.attrs['url.full'].includes('%2F7'));
  assert.equal(get.attrs['waggle.page.route'], '/shop/products/:id');
  assert.equal(get.parentSpanId, route.spanId, 'the view\'s request is the route change\'s child');
  assert.match(get.attrs['url.full'], /path=%2Fshop%2Fproducts%2F7$/);
  await page.close();
});

/** Opens a router app at `url`, follows its link #`link`, and returns the route change that followed. */
async function navigate(url, service, link = 'go') {
  const { page, consoleMessages, pageErrors } = await openPage(browser, `${url}?endpoint=${encodeURIComponent(collector.endpoint)}`);
  const log = () => formatConsole(consoleMessages, pageErrors);
  await page.waitForFunction(() => window.ready || window.failed, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.failed), undefined, log());
  // The first view rendered (and named) before the user moves on.
  await page.waitForSelector('#title');
  const before = await page.evaluate(() => location.pathname);
  await page.click(`#${link}`);
  await page.waitForFunction((p) => location.pathname !== p && document.getElementById('title')?.textContent !== 'Home', before);
  const path = await page.evaluate(() => location.pathname);
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'routeChange' && s.resource['service.name'] === service && s.attrs['browser.document.url.full'].endsWith(path)));
  assert.deepEqual(pageErrors, [], log());
  return { page, path, route: spans.find((s) => s.name === 'routeChange' && s.resource['service.name'] === service && s.attrs['browser.document.url.full'].endsWith(path)), spans: spans.filter((s) => s.resource['service.name'] === service), log };
}

for (const [name, what] of [['react-data', 'React Router, data mode: trackRouter(router)'], ['react-routes', 'React Router, declarative mode: <WaggleRoutes>'], ['vue', 'Vue Router: trackRouter(router)']]) {
  test(`${what}: the route change to /products/42 carries /products/:id`, async () => {
    const { page, path, route } = await navigate(`${server.url}/${name}/`, name);
    assert.equal(path, `/${name}/products/42`);
    assert.equal(route.attrs['waggle.route.to'], '/products/:id');
    assert.equal(route.attrs['waggle.page.route'], '/products/:id');
    assert.equal(route.attrs['waggle.route.from'], '/', 'the first view named too');
    assert.match(route.attrs['browser.document.url.full'], new RegExp(`/${name}/products/42$`));
    await page.close();
  });
}

test('Next.js App Router: <WaggleRoute /> in the root layout names /products/[id] and /docs/[...slug]', { timeout: 300_000 }, async () => {
  const dir = path.join(WORK, 'next-routes');
  fs.cpSync(path.join(REPO_ROOT, 'tests/apps/next-routes'), dir, { recursive: true });
  fs.cpSync(installed, path.join(dir, 'node_modules', 'waggle-rum'), { recursive: true });
  const logFile = path.join(WORK, 'next.log');
  const { port, proc } = await startNextApp(dir, logFile);
  try {
    const first = await navigate(`http://localhost:${port}/`, 'next-routes', 'product');
    assert.equal(first.path, '/products/42');
    assert.equal(first.route.attrs['waggle.route.to'], '/products/[id]', first.log());
    assert.equal(first.route.attrs['waggle.route.from'], '/');
    assert.match(first.route.attrs['browser.document.url.full'], /\/products\/42$/);
    // On from there: a catch-all segment.
    await first.page.click('#docs');
    await first.page.waitForFunction(() => location.pathname === '/docs/guides/setup');
    const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full']?.endsWith('/docs/guides/setup')));
    const docs = spans.find((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'].endsWith('/docs/guides/setup'));
    assert.equal(docs.attrs['waggle.route.to'], '/docs/[...slug]');
    assert.equal(docs.attrs['waggle.route.from'], '/products/[id]');
    await first.page.close();
  } finally {
    await proc.stop();
  }
});
