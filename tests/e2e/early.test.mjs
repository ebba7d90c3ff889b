// What the page does while the agent's WebAssembly module is still on its
// way is recorded from the agent's first byte and sent once the module
// runs, with its true times: a request, a click and an uncaught error made
// right after init() (npm path) or right after the snippet (script-tag
// path), with the module held back by the network for 1.5 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack, pkgSnippet } from '../lib/stack.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HOLD_MS = 1500;

let stack, server, collector, browser, snippet;

const html = (res, body) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
};

// What the page does at once, noting when (unix ms, the page's clock).
const act = (tag) => `
  window.marks = {};
  const at = () => performance.timeOrigin + performance.now();
  window.marks.fetch = at();
  fetch('/api/early?case=${tag}').then((r) => r.text());
  window.marks.error = at();
  setTimeout(() => { throw new Error('early ${tag}'); }, 0);
`;

const routes = {
  '/api/early': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end('ok');
  },
  '/early/npm.html': (req, res) => {
    const endpoint = new URL(req.url, 'http://x').searchParams.get('endpoint');
    html(res, `<!doctype html><html><head><meta charset="utf-8"><title>Early npm</title>
<script type="module">
  import * as waggle from '/pkg/index.js';
  window.waggle = waggle;
  window.ready = waggle.init({ serviceName: 'early-npm', endpoint: ${JSON.stringify(endpoint)}, batch: { scheduledDelayMillis: 100 } })
    .then(() => performance.timeOrigin + performance.now(), (e) => String(e));
  ${act('npm')}
</script>
</head><body><button id="buy">Buy</button></body></html>`);
  },
  '/early/snippet.html': (req, res) => {
    const endpoint = new URL(req.url, 'http://x').searchParams.get('endpoint');
    html(res, `<!doctype html><html><head><meta charset="utf-8"><title>Early snippet</title>
${snippet}
<script>
  window.ready = waggle.init({ serviceName: 'early-snippet', endpoint: ${JSON.stringify(endpoint)}, batch: { scheduledDelayMillis: 100 } })
    .then((ok) => (ok ? performance.timeOrigin + performance.now() : 'init resolved false'));
  ${act('snippet')}
</script>
</head><body><button id="buy">Buy</button></body></html>`);
  },
};

before(async () => {
  snippet = pkgSnippet();
  ({ server, collector, browser } = stack = await startStack({ routes }));
});

after(async () => {
  await stack?.stop();
});

const ns = (s) => Number(BigInt(s) / 1000n) / 1000; // unix ns string -> ms

for (const way of ['npm', 'snippet']) {
  test(`${way}: a request, a click and an error made while the module is held back arrive as spans with their true times`, async () => {
    const opened = await openPage(browser, null);
    const { page, consoleMessages, pageErrors } = opened;
    let wasmAsked = 0;
    await page.route('**/waggle.wasm', async (route) => {
      wasmAsked = Date.now();
      await sleep(HOLD_MS);
      await route.continue();
    });
    await page.goto(`${server.url}/early/${way}.html?endpoint=${encodeURIComponent(collector.endpoint)}`);
    // A real click, while the module is still held back.
    await page.click('#buy');
    const clickedAt = await page.evaluate(() => performance.timeOrigin + performance.now());
    const readyAt = await page.evaluate(() => window.ready);
    assert.equal(typeof readyAt, 'number', `init: ${readyAt}\n${formatConsole(consoleMessages, pageErrors)}`);
    const marks = await page.evaluate(() => window.marks);
    assert.ok(wasmAsked > 0, 'the module was fetched');
    assert.ok(readyAt - clickedAt > 500, `the click (${clickedAt}) was made well before the module ran (${readyAt})`);

    const service = `early-${way}`;
    const mine = (all) => all.filter((s) => s.resource['service.name'] === service);
    const spans = mine(
      await collector.waitForSpans((all) => {
        const m = mine(all);
        return m.some((s) => s.name === 'GET' && String(s.attrs['url.full']).includes(`case=${way}`)) && m.some((s) => s.name === 'click') && m.some((s) => s.name === 'exception');
      }, 15_000).catch((e) => {
        throw new Error(`${e.message}\n${formatConsole(consoleMessages, pageErrors)}`);
      }),
    );
    const get = spans.find((s) => s.name === 'GET' && String(s.attrs['url.full']).includes(`case=${way}`));
    const click = spans.find((s) => s.name === 'click');
    const error = spans.find((s) => s.name === 'exception' && String(s.attrs['exception.message']).includes(`early ${way}`));
    assert.ok(error, `the error's span: ${JSON.stringify(spans.map((s) => [s.name, s.attrs['exception.message']]))}`);

    // True times: as the page noted them, not when the module ran.
    assert.ok(Math.abs(ns(get.startTimeUnixNano) - marks.fetch) < 50, `fetch started at ${marks.fetch}, span says ${ns(get.startTimeUnixNano)}`);
    assert.ok(ns(get.endTimeUnixNano) < readyAt - 500, 'the request ended long before the module ran, and its span says so');
    assert.equal(get.attrs['http.response.status_code'], 200);
    assert.ok(ns(click.startTimeUnixNano) <= clickedAt && ns(click.startTimeUnixNano) > clickedAt - 1000, `click at ${clickedAt}, span at ${ns(click.startTimeUnixNano)}`);
    // Thrown by a 0 ms timer set at marks.error: a loaded machine runs it
    // late, but long before the module.
    const errorAt = ns(error.startTimeUnixNano);
    assert.ok(errorAt >= marks.error - 1 && errorAt < readyAt - 500, `error thrown after ${marks.error}, span at ${errorAt}, module ran at ${readyAt}`);
    // The page saw its own error, as it would without the agent.
    assert.deepEqual(pageErrors.map((e) => e.message), [`early ${way}`]);
    await page.close();
  });
}
