// The app's own spans (startSpan, withSpan, setUser, global attributes) and
// sessions that survive reloads and tabs, renew when expired, and sample
// whole.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { bodyText } from '../lib/otlp.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack());
});

after(async () => {
  await stack?.stop();
});

const pageUrl = (extra = '') => `${server.url}/pages/app/index.html?endpoint=${encodeURIComponent(collector.endpoint)}${extra}`;

async function ready(page) {
  assert.equal(await page.evaluate(() => window.ready), true);
}

test('startSpan, withSpan and setUser produce the spans the app asked for', async () => {
  const { page, consoleMessages, pageErrors } = await openPage(browser, pageUrl());
  await ready(page);
  const r = await page.evaluate(async () => {
    const { startSpan, withSpan, setGlobalAttributes, flush } = window.waggle;
    setGlobalAttributes({ 'app.tenant': 'acme' });
    const span = startSpan('checkout.validate', { 'app.cart_items': 3, 'app.coupon': 'X1', ratio: 0.5, ok: true, tags: ['a', 'b'] });
    span.setAttribute('app.total_cents', 1299);
    span.addEvent('validated', { 'app.rules': 4 });
    span.setStatus('error', 'coupon expired');
    span.end();
    span.end();
    // Synchronous withSpan: a span started inside is its child.
    const value = withSpan('outer.sync', () => { startSpan('inner.sync').end(); return 42; });
    // A thrown error comes back as the very same object.
    const thrown = new RangeError('boom');
    let caughtSync;
    try { withSpan('outer.throws', () => { throw thrown; }); } catch (e) { caughtSync = e; }
    // A rejected promise: same error object, and the span ends in error.
    const rejected = new Error('async boom');
    let caughtAsync;
    try { await withSpan('outer.async', async () => { await new Promise((r) => setTimeout(r, 20)); throw rejected; }); } catch (e) { caughtAsync = e; }
    const resolved = await withSpan('outer.async.ok', async (s) => { s.setAttribute('app.step', 'one'); return 'fine'; });
    await flush();
    return { value, sameSync: caughtSync === thrown, sameAsync: caughtAsync === rejected, resolved, tp: startSpan('x').traceparent() };
  });
  assert.deepEqual({ ...r, tp: undefined }, { value: 42, sameSync: true, sameAsync: true, resolved: 'fine', tp: undefined });
  assert.match(r.tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  const spans = await collector.waitForSpans((all) => ['checkout.validate', 'inner.sync', 'outer.throws', 'outer.async', 'outer.async.ok'].every((n) => all.some((s) => s.name === n)));
  const by = (n) => spans.filter((s) => s.name === n);
  assert.equal(by('checkout.validate').length, 1, 'ending twice exports once');
  const cv = by('checkout.validate')[0];
  assert.deepEqual(
    [cv.attrs['app.cart_items'], cv.attrs['app.coupon'], cv.attrs.ratio, cv.attrs.ok, cv.attrs.tags, cv.attrs['app.total_cents']],
    [3, 'X1', 0.5, true, ['a', 'b'], 1299],
  );
  assert.deepEqual(cv.status, { code: 2, message: 'coupon expired' });
  assert.equal(cv.events[0].name, 'validated');
  // setUser before init, global attributes from init and later.
  assert.equal(cv.attrs['user.id'], 'user-7');
  assert.equal(cv.attrs['user.email'], 'u7@example.com');
  assert.equal(cv.attrs['user.full_name'], 'User Seven');
  assert.deepEqual(cv.attrs['user.roles'], ['buyer']);
  assert.equal(cv.attrs['app.release'], 'r1');
  assert.equal(cv.attrs['app.tenant'], 'acme');
  assert.match(cv.attrs['session.id'], /^[0-9a-f]{32}$/);
  assert.equal(cv.attrs['waggle.page.route'], '/pages/app/index.html');
  assert.equal(cv.attrs['waggle.page.title'], 'App spans');
  const outer = by('outer.sync')[0];
  const inner = by('inner.sync')[0];
  assert.equal(inner.parentSpanId, outer.spanId);
  assert.equal(inner.traceId, outer.traceId);
  assert.equal(by('outer.throws')[0].status.code, 2);
  assert.equal(by('outer.throws')[0].status.message, 'boom');
  assert.equal(by('outer.async')[0].status.code, 2);
  const asyncSpan = by('outer.async')[0];
  assert.ok(BigInt(asyncSpan.endTimeUnixNano) - BigInt(asyncSpan.startTimeUnixNano) >= 20_000_000n, 'ends when the promise settles');
  assert.equal(by('outer.async.ok')[0].attrs['app.step'], 'one');
  assert.notEqual(by('outer.async.ok')[0].status.code, 2);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

test('app spans go out gzipped, with the page and session context once per batch, attributes as they were given', async () => {
  const { page, consoleMessages, pageErrors } = await openPage(browser, pageUrl());
  await ready(page);
  const posts = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url() === collector.tracesUrl) {
      const encoding = req.headers()['content-encoding'];
      posts.push({ encoding, body: JSON.parse(bodyText(req.postDataBuffer(), encoding)) });
    }
  });
  const n = 1500;
  await page.evaluate(async (n) => {
    const { startSpan, flush } = window.waggle;
    const attrs = { 'app.k': 'before', 'app.list': ['a'] };
    const copied = startSpan('copy.check', attrs);
    attrs['app.k'] = 'after';
    attrs['app.list'].push('b');
    copied.setAttribute('app.later', 1);
    copied.end();
    copied.setAttribute('app.after_end', 1);
    for (let i = 0; i < n; i++) startSpan('burst.span', { 'app.seq': i }).end();
    await new Promise((r) => setTimeout(r, 1500));
    await flush();
  }, n);
  const spans = await collector.waitForSpans((all) => all.filter((s) => s.name === 'burst.span').length >= n && all.some((s) => s.name === 'copy.check'));
  const burst = spans.filter((s) => s.name === 'burst.span');
  assert.equal(burst.length, n, 'every span once');
  assert.deepEqual(new Set(burst.map((s) => s.attrs['app.seq'])).size, n);
  const copied = spans.find((s) => s.name === 'copy.check');
  assert.deepEqual(copied.spanAttrs, { 'app.k': 'before', 'app.list': ['a'], 'app.later': 1 });
  assert.match(copied.attrs['session.id'], /^[0-9a-f]{32}$/);
  // On the wire: gzip, and the context as resource attributes, once per
  // group of spans sharing it, not once per span.
  const mine = posts.filter((p) => p.body.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((x) => x.name === 'burst.span'))));
  assert.ok(mine.length >= 3, `batches of 512: ${mine.length} requests`);
  for (const p of mine) {
    assert.equal(p.encoding, 'gzip');
    for (const rs of p.body.resourceSpans) {
      const keys = rs.resource.attributes.map((a) => a.key);
      assert.ok(keys.includes('session.id') && keys.includes('browser.document.url.full'), keys.join());
      for (const ss of rs.scopeSpans) for (const x of ss.spans) assert.ok(!(x.attributes ?? []).some((a) => a.key === 'session.id' || a.key === 'browser.document.url.full'));
    }
  }
  const groups = mine.reduce((k, p) => k + p.body.resourceSpans.length, 0);
  assert.ok(groups <= mine.length * 2, `${groups} context groups for ${n} spans`);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

const sessionOf = async (page, name) => {
  const marker = `marker-${Math.random().toString(16).slice(2)}`;
  await page.evaluate(async (m) => { window.waggle.startSpan(m).end(); await window.waggle.flush(); }, marker);
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === marker), 30_000);
  return spans.find((s) => s.name === marker).attrs['session.id'];
};

test('a session survives reloads and tabs, and renews after inactivity: session.end, then session.start with session.previous_id', async () => {
  const { page, context } = await openPage(browser, pageUrl());
  await ready(page);
  const first = await sessionOf(page);
  assert.match(first, /^[0-9a-f]{32}$/);
  await page.reload();
  await ready(page);
  assert.equal(await sessionOf(page), first, 'same session after reload');
  const tab = await context.newPage();
  await tab.bringToFront();
  await tab.goto(pageUrl());
  await ready(tab);
  assert.equal(await sessionOf(tab), first, 'same session in another tab');
  await tab.close();

  // The last activity 20 minutes ago: past the 15-minute inactivity limit.
  await page.evaluate((id) => {
    const t = Date.now() - 20 * 60_000;
    localStorage.setItem('waggle.session', `${id}|${t}|${t}`);
  }, first);
  await page.reload();
  await ready(page);
  // The semantic conventions' session events: session.start carries
  // session.previous_id, session.end the id of the session that ended.
  const spans = await collector.waitForSpans((all) => all.some((s) => s.attrs['session.previous_id'] === first));
  const renewed = spans.find((s) => s.attrs['session.previous_id'] === first);
  assert.equal(renewed.name, 'session.start');
  assert.notEqual(renewed.attrs['session.id'], first);
  const ended = spans.filter((s) => s.name === 'session.end' && s.spanAttrs['session.id'] === first);
  assert.equal(ended.length, 1, 'one session.end for the session that ended');
  assert.equal(await sessionOf(page), renewed.attrs['session.id']);
  // Only session.start carries it, once.
  const after = (await collector.spans()).filter((s) => s.attrs['session.id'] === renewed.attrs['session.id']);
  assert.equal(after.filter((s) => s.attrs['session.previous_id']).length, 1);
  await page.close();
});

test('sampling by session keeps or drops a session whole', async () => {
  const now = Date.now();
  const seeded = async (id) => {
    const { page, context } = await openPage(browser, null);
    await context.addInitScript(([sid, t]) => localStorage.setItem('waggle.session', `${sid}|${t}|${t}`), [id, now]);
    await page.goto(pageUrl('&sampleBy=session&sampleRate=0.5'));
    await ready(page);
    await page.evaluate(async () => { window.waggle.startSpan('session.sampled.probe').end(); await window.waggle.flush(); });
    return page;
  };
  // The id's low bytes decide, as for trace ids: 0x00.. is under any ratio, 0xff.. over.
  const kept = '0'.repeat(31) + '1';
  const dropped = 'f'.repeat(32);
  const p1 = await seeded(kept);
  const p2 = await seeded(dropped);
  await collector.waitForSpans((all) => all.some((s) => s.attrs['session.id'] === kept && s.name === 'documentLoad') && all.some((s) => s.attrs['session.id'] === kept && s.name === 'session.sampled.probe'));
  // flush() resolved after the Collector answered; give its file exporter time to write.
  await new Promise((r) => setTimeout(r, 1500));
  const all = await collector.spans();
  assert.equal(all.filter((s) => s.attrs['session.id'] === dropped).length, 0, 'nothing from the dropped session');
  await p1.close();
  await p2.close();
});
