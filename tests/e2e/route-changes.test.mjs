// SPA navigations through the real agent, the real browser and the real
// Collector: a pushState router with three routes, back, a fragment link,
// replaceState. One routeChange per URL change, ending once the new view
// has fetched its data and rendered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startStack } from '../lib/stack.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openRun } from '../lib/browser.mjs';

let stack, server, collector, browser;

const TITLES = { '/': 'Home', '/products': 'Products', '/products/42': 'Product 42', '#reviews': 'Reviews' };
const title = (p) => `${TITLES[p]} — Shop`;

before(async () => {
  const app = (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(path.join(REPO_ROOT, 'tests/pages/spa/index.html')));
  };
  ({ server, collector, browser } = stack = await startStack({
    routes: {
      '/': app,
      '/products': app,
      '/products/42': app,
      '/api/view': (req, res) => {
        const p = new URL(req.url, 'http://x').searchParams.get('path');
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify({ title: TITLES[p] ? title(p) : p, items: ['a', 'b', 'c'] }));
        }, 60);
      },
    },
  }));
});

after(async () => {
  await stack?.stop();
});

async function openApp() {
  const opened = await openRun(browser, collector, (run) => `${server.url}/?run=${run}&endpoint=${encodeURIComponent(collector.endpoint)}`);
  const { page } = opened;
  await page.waitForFunction(() => window.renders.length === 1);
  return { ...opened, rendered: (n) => page.waitForFunction((k) => window.renders.length >= k, n) };
}

const ns = (us) => BigInt(us) * 1000n;
const end = (s) => BigInt(s.endTimeUnixNano);
const start = (s) => BigInt(s.startTimeUnixNano);
const byStart = (a, b) => (start(a) < start(b) ? -1 : 1);

test('pushState, back, a fragment link and replaceState each give one routeChange', async () => {
  const app = await openApp();
  const { page } = app;
  // Each view is left once its route change has ended.
  const settled = (n) => app.waitFor((s) => s.filter((x) => x.name === 'routeChange').length >= n);
  await page.click('#nav-products');
  await settled(1);
  await page.click('#nav-product');
  await settled(2);
  await page.click('#buy');
  // The browser's Back button, right after a click: not the click's doing.
  await page.goBack();
  await settled(3);
  await page.click('#buy');
  await page.click('#nav-reviews');
  await settled(4);
  // Same URL: state only, not a navigation.
  await page.evaluate(() => history.replaceState({ tab: 1 }, ''));
  await page.evaluate(() => history.replaceState(null, '', location.pathname + location.search + '#top'));

  const spans = await app.waitFor((s) => s.filter((x) => x.name === 'routeChange').length >= 5 && s.filter((x) => x.name === 'click').length >= 5);
  await page.evaluate(() => window.waggle.flush());
  const [origin, renders, entries] = await page.evaluate(() => [
    Math.round(performance.timeOrigin * 1000),
    window.renders.map((r) => ({ path: r.path, us: Math.round(r.at * 1000) })),
    performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/view')).map((e) => ({ name: e.name, us: Math.round(e.responseEnd * 1000) })),
  ]);
  const routes = spans.filter((s) => s.name === 'routeChange').sort(byStart);
  const clicks = spans.filter((s) => s.name === 'click');
  const click = (id) => clicks.filter((c) => c.attrs['waggle.target.id'] === id).sort(byStart);
  const ctx = `\n${routes.map((r) => JSON.stringify(r.attrs)).join('\n')}\n${app.context()}`;

  assert.equal(routes.length, 5, `one per URL change, none for a replaceState that kept the URL${ctx}`);
  const expected = [
    ['pushState', '/', '/products', click('nav-products')[0]],
    ['pushState', '/products', '/products/42', click('nav-product')[0]],
    ['popstate', '/products/42', '/products', null],
    ['hashchange', '/products', '/products', click('nav-reviews')[0]],
    ['replaceState', '/products', '/products', null],
  ];
  routes.forEach((r, i) => {
    const [type, from, to, parent] = expected[i];
    assert.equal(r.attrs['waggle.route.change_type'], type, `#${i}${ctx}`);
    assert.equal(r.attrs['waggle.route.from'], from, `#${i}${ctx}`);
    assert.equal(r.attrs['waggle.route.to'], to, `#${i}`);
    assert.equal(r.attrs['waggle.page.route'], to, `#${i}: the route change carries the new page`);
    assert.equal(r.kind, 1);
    assert.equal(r.attrs['waggle.end_reason'], 'settled', `#${i}`);
    if (parent) {
      assert.equal(r.parentSpanId, parent.spanId, `#${i}: the click that navigated is the parent`);
      assert.equal(r.traceId, parent.traceId);
      assert.ok(end(parent) >= end(r), `#${i}: the click ends after its route change`);
    } else {
      assert.equal(r.parentSpanId ?? '', '', `#${i}: nothing was current`);
    }
  });
  assert.match(routes[0].attrs['waggle.url.from'], new RegExp(`^${server.url}/\\?run=`));
  assert.match(routes[0].attrs['browser.document.url.full'], new RegExp(`^${server.url}/products\\?run=`));
  assert.ok(routes[3].attrs['browser.document.url.full'].endsWith('#reviews'));
  assert.ok(routes[4].attrs['waggle.url.from'].endsWith('#reviews'));
  assert.ok(routes[4].attrs['browser.document.url.full'].endsWith('#top'));

  // Each view's route change ends once its data came and it rendered, and
  // it ends at that last activity, not when the quiet window ran out.
  // (The reviews section loads data but leaves the title as it was.)
  const views = [
    [routes[0], '/products', title('/products')],
    [routes[1], '/products/42', title('/products/42')],
    [routes[2], '/products', title('/products')],
    [routes[3], '#reviews', title('/products')],
  ];
  for (const [r, p, pageTitle] of views) {
    const render = renders.find((x) => x.path === p && ns(origin + x.us) >= start(r));
    assert.ok(render, `render of ${p}`);
    const fetched = entries.find((e) => e.name.endsWith(`path=${encodeURIComponent(p)}`) && ns(origin + e.us) >= start(r));
    assert.ok(fetched, `data request for ${p}`);
    assert.ok(end(r) >= ns(origin + fetched.us), `${p}: ends after its data arrived`);
    assert.ok(end(r) >= ns(origin + render.us), `${p}: ends after the render`);
    assert.ok(end(r) - ns(origin + render.us) < 100_000_000n, `${p}: ends at the render, ${(end(r) - ns(origin + render.us)) / 1000n} µs after it`);
    assert.equal(r.attrs['waggle.page.title'], pageTitle, `${p}: the title the view set`);
    // The view's data request: a child of the route change, which ends
    // after it.
    const client = [...spans].sort(byStart).find((s) => s.kind === 3 && s.attrs['url.full'].endsWith(`/api/view?path=${encodeURIComponent(p)}`) && start(s) >= start(r));
    assert.ok(client, `CLIENT span for ${p}`);
    assert.equal(client.parentSpanId, r.spanId, `${p}: the view's request is the route change's child${ctx}`);
    assert.equal(client.traceId, r.traceId);
    assert.ok(end(r) >= end(client), `${p}: ends after its data request`);
  }

  // Spans after a navigation carry the page it led to; a click carries the
  // page it happened on.
  assert.equal(click('nav-product')[0].attrs['waggle.page.route'], '/products');
  assert.equal(click('nav-product')[0].attrs['waggle.page.title'], title('/products'));
  const [buy42, buyBack] = click('buy');
  assert.equal(buy42.attrs['waggle.page.route'], '/products/42');
  assert.equal(buy42.attrs['waggle.page.title'], title('/products/42'));
  assert.match(buy42.attrs['browser.document.url.full'], new RegExp(`^${server.url}/products/42\\?run=`));
  assert.equal(buyBack.attrs['waggle.page.route'], '/products', 'after back');
  assert.equal(buyBack.attrs['waggle.page.title'], title('/products'));
  assert.deepEqual(app.pageErrors.map(String), []);
  await page.close();
});

test('an in-app Back button is the parent of the traversal it asks for', async () => {
  const app = await openApp();
  const { page } = app;
  await page.click('#nav-products');
  await page.click('#nav-product');
  await app.rendered(3);
  await page.click('#back');
  await app.rendered(4);
  const spans = await app.waitFor((s) => s.some((x) => x.name === 'routeChange' && x.attrs['waggle.route.change_type'] === 'popstate'));
  const back = spans.find((s) => s.name === 'routeChange' && s.attrs['waggle.route.change_type'] === 'popstate');
  const click = spans.find((s) => s.name === 'click' && s.attrs['waggle.target.id'] === 'back');
  assert.ok(click, app.context());
  assert.equal(back.parentSpanId, click.spanId);
  assert.equal(back.attrs['waggle.route.from'], '/products/42');
  assert.equal(back.attrs['waggle.route.to'], '/products');
  const client = spans.find((s) => s.kind === 3 && s.parentSpanId === back.spanId);
  assert.ok(client?.attrs['url.full'].endsWith('/api/view?path=%2Fproducts'), 'the view it went back to loads as its child');
  await page.close();
});

test('a navigation that begins before the last one settled ends it', async () => {
  const app = await openApp();
  const { page } = app;
  // The second click comes while the first view's data is still loading.
  await page.evaluate(() => {
    document.getElementById('nav-products').click();
    setTimeout(() => document.getElementById('nav-product').click(), 20);
  });
  await app.rendered(3);
  const spans = await app.waitFor((s) => s.filter((x) => x.name === 'routeChange').length === 2);
  const [first, second] = spans.filter((s) => s.name === 'routeChange').sort(byStart);
  assert.equal(first.attrs['waggle.route.to'], '/products');
  assert.equal(first.attrs['waggle.end_reason'], 'superseded');
  assert.ok(end(first) <= start(second), 'it ends at its last activity, before the next one began');
  assert.equal(second.attrs['waggle.end_reason'], 'settled');
  assert.equal(second.attrs['waggle.route.from'], '/products');
  await page.close();
});

test('a view that never stops changing ends at the 5 s bound', async () => {
  const app = await openApp();
  await app.page.click('#busy');
  const spans = await app.waitFor((s) => s.some((x) => x.name === 'routeChange' && x.attrs['waggle.end_reason']));
  const r = spans.find((s) => s.name === 'routeChange');
  assert.equal(r.attrs['waggle.end_reason'], 'timeout', JSON.stringify([r.attrs, Number(end(r) - start(r)) / 1e6]));
  const ms = Number(end(r) - start(r)) / 1e6;
  assert.ok(ms >= 5000 && ms < 5500, `lasted ${ms} ms`);
  await app.page.close();
});
