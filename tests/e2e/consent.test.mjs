// Consent, as a visitor and the app's consent banner see it: with consent
// pending nothing reaches the Collector and nothing is stored, not even
// when the page is left; a grant sends what was recorded, with its times;
// a denial stops the agent and removes what it stored, and a later grant
// starts again with a new session. Through the npm module and the snippet
// (with setConsent called before its agent arrived).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack, pkgSnippet } from '../lib/stack.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stack, server, collector, browser, snippet;

const html = (res, head) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Consent</title>
${head}
</head><body><button id="buy">Buy</button>
<script>
  document.getElementById('buy').addEventListener('click', (e) => { window.clickedAt = performance.timeOrigin + e.timeStamp; });
</script></body></html>`);
};

// The query: service, endpoint, consent (the option), early (a setConsent
// call before init), debug, noinit, queue (batch size and queue bound).
const npmPage = (req, res) =>
  html(res, `<script type="module">
  import * as waggle from '/pkg/index.js';
  const q = new URLSearchParams(location.search);
  window.waggle = waggle;
  const options = { serviceName: q.get('service'), endpoint: q.get('endpoint'), batch: { scheduledDelayMillis: 50 } };
  if (q.get('consent')) options.consent = q.get('consent');
  if (q.get('debug')) options.debug = true;
  if (q.get('queue')) Object.assign(options.batch, { maxExportBatchSize: Number(q.get('queue')), maxQueueSize: Number(q.get('queue')) });
  if (q.get('early')) waggle.setConsent(q.get('early'));
  window.ready = q.get('noinit') ? Promise.resolve(true) : waggle.init(options).then(() => true, (e) => String(e));
</script>`);

const snippetPage = (req, res) =>
  html(res, `${snippet}
<script>
  var q = new URLSearchParams(location.search);
  window.loadedAtFirstCall = !!window.waggle.loaded;
  // Queued: the agent has not arrived yet.
  if (q.get('early')) waggle.setConsent(q.get('early'));
  window.ready = waggle.init({ serviceName: q.get('service'), endpoint: q.get('endpoint'), batch: { scheduledDelayMillis: 50 } });
</script>`);

before(async () => {
  snippet = pkgSnippet();
  ({ server, collector, browser } = stack = await startStack({
    routes: {
      '/consent/npm.html': npmPage,
      '/consent/snippet.html': snippetPage,
      '/consent/left.html': (req, res) => html(res, ''),
      '/api/data': (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end('{"ok":true}');
      },
    },
  }));
});

after(async () => {
  await stack?.stop();
});

const url = (path, service, query = '') => `${server.url}/consent/${path}?service=${service}&endpoint=${encodeURIComponent(collector.endpoint)}${query}`;

/** A page in a context of its own, and every request its pages make to the Collector's origin. */
async function open(target, { plant, earlier = 'consent-earlier' } = {}) {
  const opened = await openPage(browser, null);
  const origin = new URL(collector.endpoint).origin;
  const sent = [];
  opened.context.on('request', (r) => {
    if (new URL(r.url()).origin === origin) sent.push(`${r.method()} ${r.url()}`);
  });
  if (plant) await opened.context.addInitScript(plant, { tracesUrl: collector.tracesUrl, service: earlier });
  await opened.page.goto(target);
  assert.equal(await opened.page.evaluate(() => window.ready), true, formatConsole(opened.consoleMessages, opened.pageErrors));
  return { ...opened, sent };
}

/** What the page's origin keeps: storage keys, cookies, IndexedDB databases. */
async function kept(page, context) {
  const inPage = await page.evaluate(async () => ({
    local: Object.keys(localStorage).sort(),
    session: Object.keys(sessionStorage).sort(),
    cookie: document.cookie,
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
  }));
  return { ...inPage, cookies: (await context.cookies()).map((c) => c.name) };
}
const NOTHING = { local: [], session: [], cookie: '', indexedDB: [], cookies: [] };

const ofService = (spans, service) => spans.filter((s) => s.resource['service.name'] === service);
const waitFor = (service, names) => collector.waitForSpans((all) => names.every((n) => ofService(all, service).some((s) => s.name === n)), 15_000);
const ms = (ns) => Number(BigInt(ns) / 1000n) / 1000;

/** A click and a fetch of the page's own, as a visitor's. */
async function use(page) {
  await page.click('#buy');
  assert.equal(await page.evaluate(() => fetch('/api/data').then((r) => r.text())), '{"ok":true}');
}

test('npm, consent pending: nothing reaches the Collector and nothing is stored; a grant sends the page load, the click and the fetch with their own times', async () => {
  const service = 'consent-npm-pending';
  const { page, context, sent, consoleMessages, pageErrors } = await open(url('npm.html', service, '&consent=pending&debug=1'));
  await use(page);
  // A flush has nothing it may try; a wrong value is one warning, not a throw.
  await page.evaluate(() => window.waggle.flush());
  assert.equal(await page.evaluate(() => window.waggle.setConsent('yes')), undefined);
  await sleep(1500);
  assert.deepEqual(sent, [], 'no request to the Collector, not even the gzip probe');
  assert.deepEqual(await kept(page, context), NOTHING);
  assert.deepEqual(ofService(collector.spans(), service), []);
  const warnings = consoleMessages.filter((m) => m.type === 'warning' && m.text.includes('setConsent'));
  assert.deepEqual(warnings.map((m) => m.text), ["[waggle] setConsent: must be 'granted', 'pending' or 'denied', got \"yes\"; the call is ignored"]);

  const grantedAt = await page.evaluate(() => {
    window.waggle.setConsent('granted');
    return performance.timeOrigin + performance.now();
  });
  const spans = ofService(await waitFor(service, ['documentLoad', 'click', 'GET']), service);
  const one = (name) => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, `${name} once`);
    return found[0];
  };
  const click = one('click');
  const clickedAt = await page.evaluate(() => window.clickedAt);
  assert.ok(Math.abs(ms(click.startTimeUnixNano) - clickedAt) < 1, `the click's own time: ${ms(click.startTimeUnixNano)} vs ${clickedAt}`);
  const fetched = one('GET');
  assert.ok(fetched.attrs['url.full'].endsWith('/api/data'), fetched.attrs['url.full']);
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  const load = one('documentLoad');
  assert.ok(Math.abs(ms(load.startTimeUnixNano) - timeOrigin) < 1000, 'the page load from its start');
  for (const s of [load, click, fetched]) assert.ok(ms(s.endTimeUnixNano) < grantedAt, `${s.name} ended before the grant`);
  // All in one session, now written to storage.
  assert.match(click.attrs['session.id'], /^[0-9a-f]{32}$/);
  assert.equal(load.attrs['session.id'], click.attrs['session.id']);
  assert.deepEqual((await kept(page, context)).local, ['waggle.session', 'waggle.view']);
  // The page load recorded while pending is the view the next page links to.
  const view = await page.evaluate(() => localStorage.getItem('waggle.view'));
  assert.ok(view.includes(`${load.traceId}-${load.spanId}`), view);
  assert.ok(sent.length > 0);
  // debug says so.
  const said = consoleMessages.filter((m) => /^\[waggle\] (consent|started with)/.test(m.text)).map((m) => m.text);
  assert.ok(said[0].startsWith('[waggle] started with') && said[0].includes("consent: 'pending'"), said.join('\n'));
  assert.deepEqual(said.slice(1), ['[waggle] consent pending: held, nothing sent or stored', '[waggle] consent granted']);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('npm, consent pending: held spans are bounded by batch.maxQueueSize, and what goes past it is counted in waggle.dropped_spans once granted', async () => {
  const service = 'consent-npm-bound';
  const { page, sent, consoleMessages, pageErrors } = await open(url('npm.html', service, '&consent=pending&queue=50'));
  await page.evaluate(() => {
    for (let i = 0; i < 300; i++) window.waggle.startSpan('held.burst', { 'app.seq': i }).end();
  });
  await sleep(1000);
  assert.deepEqual(sent, []);
  await page.evaluate(() => window.waggle.setConsent('granted'));
  // Delivered, and dropped as the bodies that arrived report it.
  const count = () => {
    let delivered = 0;
    let dropped = 0;
    for (const req of collector.requests()) {
      for (const rs of req.resourceSpans ?? []) {
        const attrs = rs.resource?.attributes ?? [];
        if (!attrs.some((a) => a.key === 'service.name' && a.value.stringValue === service)) continue;
        delivered += (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []).filter((x) => x.name === 'held.burst').length;
        const d = attrs.find((a) => a.key === 'waggle.dropped_spans');
        if (d) dropped += Number(d.value.intValue);
      }
    }
    return { delivered, dropped };
  };
  const deadline = Date.now() + 15_000;
  while (count().delivered + count().dropped < 300 && Date.now() < deadline) await sleep(200);
  await sleep(1000);
  const { delivered, dropped } = count();
  assert.equal(delivered + dropped, 300, `${delivered} delivered, ${dropped} dropped`);
  assert.ok(delivered <= 100 && delivered >= 50, `${delivered} held: the bound and a batch`);
  // The newest are kept.
  const seqs = ofService(collector.spans(), service).filter((s) => s.name === 'held.burst').map((s) => s.attrs['app.seq']);
  assert.equal(Math.max(...seqs), 299);
  assert.equal(consoleMessages.filter((m) => m.type === 'warning' && m.text.includes('could not be delivered')).length, 1, formatConsole(consoleMessages));
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('npm, consent pending: a page left before a decision writes nothing and sends nothing', async () => {
  const service = 'consent-npm-left';
  const { page, context, sent, pageErrors } = await open(url('npm.html', service, '&consent=pending'));
  await use(page);
  await page.evaluate(() => window.waggle.startSpan('left.pending').end());
  // The same origin and tab, so its storage (sessionStorage too) can be read.
  await page.goto(`${server.url}/consent/left.html`);
  await sleep(1500);
  assert.deepEqual(await kept(page, context), NOTHING);
  assert.deepEqual(sent, []);
  assert.deepEqual(ofService(collector.spans(), service), []);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

// What an earlier, granted visit left: a session in both storages and a
// body it could not send, for this Collector; and a key of the app's own.
function plantEarlier({ tracesUrl, service }) {
  const t = Date.now();
  const body = JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'waggle' }, spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'earlier.unsent', kind: 1, startTimeUnixNano: `${t}000000`, endTimeUnixNano: `${t}000000` }] }],
    }],
  });
  if (sessionStorage.getItem('planted')) return;
  sessionStorage.setItem('planted', '1');
  localStorage.setItem('waggle.session', `${'a'.repeat(32)}|${t}|${t}`);
  sessionStorage.setItem('waggle.session', `${'b'.repeat(32)}|${t}|${t}`);
  localStorage.setItem('waggle.unsent.earlier.1', `w1\x1e${tracesUrl}\x1f1\x1f${body}`);
  localStorage.setItem('app.theme', 'dark');
}

test('npm, consent pending: what an earlier visit stored stays as it was, its session goes on in memory; the grant sends its unsent body', async () => {
  const service = 'consent-npm-earlier';
  const earlier = 'consent-earlier-granted';
  const { page, context, sent, pageErrors } = await open(url('npm.html', service, '&consent=pending'), { plant: plantEarlier, earlier });
  const planted = await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])));
  await use(page);
  await sleep(1500);
  assert.deepEqual(sent, []);
  assert.deepEqual(await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]))), planted, 'not a write');
  assert.deepEqual(Object.keys(planted).sort(), ['app.theme', 'waggle.session', 'waggle.unsent.earlier.1']);

  await page.evaluate(() => window.waggle.setConsent('granted'));
  await collector.waitForSpans((all) => ofService(all, earlier).some((s) => s.name === 'earlier.unsent'), 15_000);
  const spans = ofService(await waitFor(service, ['documentLoad', 'click']), service);
  assert.equal(spans.find((s) => s.name === 'click').attrs['session.id'], 'a'.repeat(32), "the earlier visit's session, held in memory");
  assert.deepEqual((await kept(page, context)).local, ['app.theme', 'waggle.session', 'waggle.view'], 'taken out of storage once sent');
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test("npm, init({ consent: 'denied' }): every key the agent wrote is removed, the app's stay, and nothing is sent", async () => {
  const service = 'consent-npm-denied';
  const { page, context, sent, pageErrors } = await open(url('npm.html', service, '&consent=denied'), { plant: plantEarlier });
  await use(page);
  assert.equal(await page.evaluate(() => window.waggle.startSpan('denied.span').traceparent()), undefined, 'a span that does nothing');
  await page.evaluate(() => window.waggle.flush());
  await sleep(1500);
  assert.deepEqual(await kept(page, context), { ...NOTHING, local: ['app.theme'], session: ['planted'] });
  assert.deepEqual(sent, []);
  assert.deepEqual(ofService(collector.spans(), service), []);
  assert.deepEqual(ofService(collector.spans(), 'consent-earlier'), [], 'what the earlier page left is not sent');
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('npm, granted then denied then granted: the denial clears storage and sends nothing more; the grant starts again with a new session', async () => {
  const service = 'consent-npm-again';
  const { page, context, sent, consoleMessages, pageErrors } = await open(url('npm.html', service));
  const first = ofService(await waitFor(service, ['documentLoad']), service).find((s) => s.name === 'documentLoad');
  assert.deepEqual((await kept(page, context)).local, ['waggle.session', 'waggle.view']);

  await page.evaluate(() => window.waggle.setConsent('denied'));
  assert.deepEqual(await kept(page, context), NOTHING);
  // A request issued before the denial may be reported a moment after it.
  await sleep(500);
  const before = sent.length;
  await use(page);
  await page.evaluate(async () => {
    window.waggle.startSpan('after.denied').end();
    await window.waggle.flush();
  });
  await sleep(1500);
  assert.equal(sent.length, before, `nothing more sent: ${sent.slice(before).join(', ')}`);
  assert.deepEqual(await kept(page, context), NOTHING);

  await page.evaluate(() => window.waggle.setConsent('granted'));
  await use(page);
  await page.evaluate(async () => {
    window.waggle.startSpan('after.granted').end();
    await window.waggle.flush();
  });
  const spans = ofService(await waitFor(service, ['after.granted', 'click']), service);
  const again = spans.find((s) => s.name === 'after.granted');
  assert.match(again.attrs['session.id'], /^[0-9a-f]{32}$/);
  assert.notEqual(again.attrs['session.id'], first.attrs['session.id'], 'a new session');
  const clicks = spans.filter((s) => s.name === 'click');
  assert.equal(clicks.length, 1, 'the click made while denied is not there');
  assert.equal(clicks[0].attrs['session.id'], again.attrs['session.id']);
  assert.ok(spans.some((s) => s.name === 'session.start' && s.attrs['session.id'] === again.attrs['session.id']));
  assert.equal(spans.filter((s) => s.name === 'after.denied').length, 0);
  assert.equal(spans.filter((s) => s.name === 'documentLoad').length, 1, 'the page load is not sent again');
  assert.deepEqual((await kept(page, context)).local, ['waggle.session']);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

test('npm: a wrong consent option is a WaggleConfigError naming it; setConsent before init wins over the option', async () => {
  const service = 'consent-npm-options';
  const { page, sent, pageErrors } = await open(url('npm.html', service, '&noinit=1'));
  const refused = await page.evaluate(() =>
    window.waggle.init({ serviceName: 'x', consent: 'later' }).then(
      () => 'resolved',
      (e) => [e.name, e.option, e.message],
    ),
  );
  assert.deepEqual(refused, ['WaggleConfigError', 'consent', "waggle: option `consent` must be 'granted', 'pending' or 'denied', got \"later\""]);
  await page.close();

  // The option says granted; the call before init says pending.
  const p = await open(url('npm.html', service, '&consent=granted&early=pending'));
  await use(p.page);
  await sleep(1500);
  assert.deepEqual(p.sent, []);
  assert.deepEqual(await kept(p.page, p.context), NOTHING);
  assert.deepEqual([...pageErrors, ...p.pageErrors], []);
  assert.deepEqual(sent, []);
  await p.page.close();
});

test('snippet: setConsent queued before the agent arrived holds everything until the grant', async () => {
  const service = 'consent-snippet-pending';
  const { page, context, sent, consoleMessages, pageErrors } = await open(url('snippet.html', service, '&early=pending'));
  assert.equal(await page.evaluate(() => window.loadedAtFirstCall), false, 'called before the agent arrived');
  assert.equal(await page.evaluate(() => window.waggle.loaded), true);
  await use(page);
  await sleep(1500);
  assert.deepEqual(sent, []);
  assert.deepEqual(await kept(page, context), NOTHING);
  await page.evaluate(() => window.waggle.setConsent('granted'));
  const spans = ofService(await waitFor(service, ['documentLoad', 'click', 'GET']), service);
  const clickedAt = await page.evaluate(() => window.clickedAt);
  const click = spans.find((s) => s.name === 'click');
  assert.ok(Math.abs(ms(click.startTimeUnixNano) - clickedAt) < 1);
  assert.deepEqual((await kept(page, context)).local, ['waggle.session', 'waggle.view']);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

test('snippet: setConsent("denied") queued before the agent arrived clears what an earlier visit stored and sends nothing', async () => {
  const service = 'consent-snippet-denied';
  const { page, context, sent, pageErrors } = await open(url('snippet.html', service, '&early=denied'), { plant: plantEarlier });
  await use(page);
  await sleep(1500);
  assert.deepEqual(await kept(page, context), { ...NOTHING, local: ['app.theme'], session: ['planted'] });
  assert.deepEqual(sent, []);
  assert.deepEqual(ofService(collector.spans(), service), []);
  assert.deepEqual(ofService(collector.spans(), 'consent-earlier'), []);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
