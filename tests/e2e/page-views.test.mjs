// Page views linked, not lumped: each view's span (documentLoad, and
// routeChange for a single-page app) links to the view before it in the
// same session, each in a trace of its own, as the Collector exports them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startStack } from '../lib/stack.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openPage, launchBrowser, formatConsole } from '../lib/browser.mjs';

let stack, server, collector, browser;
let runs = 0;

// The app page (tests/pages/app) at a path per step, so each view has a
// route of its own. No Cache-Control: no-store, so the back-forward cache
// may keep it.
const STEPS = ['a', 'b', 'c', 'd', 'e', 'f'];

before(async () => {
  const app = (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(fs.readFileSync(path.join(REPO_ROOT, 'tests/pages/app/index.html')));
  };
  const routes = Object.fromEntries(STEPS.map((s) => [`/walk/${s}`, app]));
  ({ server, collector, browser } = stack = await startStack({ routes }));
});

after(async () => {
  await stack?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A walk of its own: its URLs carry a run number, so its spans are told apart. */
function walk(extra = '') {
  const run = `r${++runs}-${Date.now()}`;
  const url = (step) => `${server.url}/walk/${step}?endpoint=${encodeURIComponent(collector.endpoint)}&run=${run}${extra}`;
  const loadOf = (spans, step) => spans.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url(step));
  return {
    url,
    loadOf,
    /** Opens `step` in `page` and waits for its documentLoad at the Collector. */
    async visit(page, step) {
      await page.goto(url(step));
      assert.equal(await page.evaluate(() => window.ready), true);
      const spans = await collector.waitForSpans((all) => loadOf(all, step), 15_000);
      return loadOf(spans, step);
    },
  };
}

/** The links a span makes to the view before it. */
const previous = (span) => span.links.filter((l) => l.attrs['waggle.link.type'] === 'previous_page_view');

function assertLinked(span, to, route) {
  const links = previous(span);
  assert.equal(links.length, 1, `${span.name} ${span.attrs['url.full'] ?? span.attrs['browser.document.url.full']}: one link to the view before`);
  const [l] = links;
  assert.deepEqual(
    { traceId: l.traceId, spanId: l.spanId, sampled: (l.flags ?? 0) & 1, attrs: l.attrs },
    {
      traceId: to.traceId,
      spanId: to.spanId,
      sampled: 1,
      attrs: {
        'waggle.link.type': 'previous_page_view',
        'waggle.link.page.url': to.attrs['browser.document.url.full'],
        'waggle.link.page.route': route,
      },
    },
  );
  assert.notEqual(span.traceId, to.traceId, 'each view in a trace of its own');
}

test('page A, B, C, a route change, then page E: each view links to the one before, each in its own trace', async () => {
  const w = walk();
  const { page, consoleMessages, pageErrors } = await openPage(browser, null);
  const a = await w.visit(page, 'a');
  const b = await w.visit(page, 'b');
  const c = await w.visit(page, 'c');
  // A single-page app's view: the router changes the URL, then names the route.
  const dUrl = await page.evaluate(() => {
    history.pushState({}, '', location.href.replace('/walk/c', '/walk/d'));
    window.waggle.setRoute('/walk/:step');
    return location.href;
  });
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'] === dUrl), 15_000);
  const d = spans.find((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'] === dUrl);
  const e = await w.visit(page, 'e');

  assert.equal(previous(a).length, 0, 'the first view of a session links to nothing');
  assertLinked(b, a, '/walk/a');
  assertLinked(c, b, '/walk/b');
  assertLinked(d, c, '/walk/c');
  // The route the app named after the URL changed is the one the next view's link says.
  assertLinked(e, d, '/walk/:step');
  assert.equal(e.attrs['waggle.page.route'], '/walk/e');

  const views = [a, b, c, d, e];
  assert.equal(new Set(views.map((s) => s.attrs['session.id'])).size, 1, 'one session');
  assert.equal(new Set(views.map((s) => s.traceId)).size, 5, 'five traces, not one giant one');
  for (const s of [a, b, c, e]) assert.ok(!s.parentSpanId, `${s.attrs['url.full']}: the root of its trace`);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

test('a new session starts with no link to the old one', async () => {
  const w = walk();
  const { page } = await openPage(browser, null);
  const a = await w.visit(page, 'a');
  // The last activity 20 minutes ago: past the 15-minute inactivity limit.
  await page.evaluate((id) => {
    const t = Date.now() - 20 * 60_000;
    localStorage.setItem('waggle.session', `${id}|${t}|${t}`);
  }, a.attrs['session.id']);
  const b = await w.visit(page, 'b');
  assert.notEqual(b.attrs['session.id'], a.attrs['session.id'], 'a new session');
  const started = await collector.waitForSpans((all) => all.some((s) => s.name === 'session.start' && s.attrs['session.previous_id'] === a.attrs['session.id']));
  assert.equal(started.find((s) => s.name === 'session.start' && s.attrs['session.previous_id'] === a.attrs['session.id']).attrs['session.id'], b.attrs['session.id']);
  assert.deepEqual(b.links, [], 'no link across sessions');
  // The new session's own chain starts at B.
  const c = await w.visit(page, 'c');
  assertLinked(c, b, '/walk/b');
  await page.close();
});

test('tabs share a session: a view follows the newest view any tab began', async () => {
  const w = walk();
  const { page: one, context } = await openPage(browser, null);
  const a = await w.visit(one, 'a');
  const two = await context.newPage();
  await two.bringToFront();
  const b = await w.visit(two, 'b');
  assertLinked(b, a, '/walk/a');
  // Back in the first tab, a route change follows B, begun in the other tab since.
  await one.bringToFront();
  const dUrl = await one.evaluate(() => {
    history.pushState({}, '', location.href.replace('/walk/a', '/walk/d'));
    return location.href;
  });
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'] === dUrl), 15_000);
  assertLinked(spans.find((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'] === dUrl), b, '/walk/b');
  await two.close();
  await one.close();
});

test('with session.persist: false the session and its chain of views are the tab\'s own', async () => {
  const w = walk('&persist=false');
  const { page: one, context } = await openPage(browser, null);
  const a = await w.visit(one, 'a');
  const b = await w.visit(one, 'b');
  assert.equal(b.attrs['session.id'], a.attrs['session.id'], 'one session across the tab\'s pages');
  assertLinked(b, a, '/walk/a');
  // Another tab has a session of its own, and its first view links to nothing.
  const two = await context.newPage();
  const c = await w.visit(two, 'c');
  assert.notEqual(c.attrs['session.id'], a.attrs['session.id']);
  assert.deepEqual(c.links, []);
  await two.close();
  await one.close();
});

test('sampling by session keeps a session\'s views, and their links, whole', async () => {
  const seeded = async (id) => {
    const now = Date.now();
    const { page, context } = await openPage(browser, null);
    await context.addInitScript(([sid, t]) => {
      if (!localStorage.getItem('waggle.session')) localStorage.setItem('waggle.session', `${sid}|${t}|${t}`);
    }, [id, now]);
    return page;
  };
  // The id's low bytes decide, as for trace ids: 0x00.. is under any ratio, 0xff.. over.
  const kept = '0'.repeat(31) + '2';
  const dropped = 'f'.repeat(31) + 'e';
  const w = walk('&sampleBy=session&sampleRate=0.5');
  const p1 = await seeded(kept);
  const a = await w.visit(p1, 'a');
  const b = await w.visit(p1, 'b');
  assert.equal(a.attrs['session.id'], kept);
  assertLinked(b, a, '/walk/a');

  const p2 = await seeded(dropped);
  for (const step of ['c', 'd']) {
    await p2.goto(w.url(step));
    assert.equal(await p2.evaluate(() => window.ready), true);
    await p2.evaluate(async () => { window.waggle.startSpan('views.sampled.probe').end(); await window.waggle.flush(); });
  }
  await sleep(1500);
  assert.equal(collector.spans().filter((s) => s.attrs['session.id'] === dropped).length, 0, 'nothing from the dropped session');
  await p1.close();
  await p2.close();
});

// Whether a page is kept at all is Chromium's call (see delivery.test.mjs):
// the leave-and-return is tried up to three times, and one must restore.
test('a page restored from the back-forward cache is the view the next one follows', async () => {
  // Playwright turns the cache off by default.
  const bfBrowser = await launchBrowser({ ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  const tries = [];
  try {
    for (let t = 0; t < 3 && !tries.some((x) => x.restored); t++) {
      const w = walk();
      const { page, consoleMessages, pageErrors } = await openPage(bfBrowser, null);
      const a = await w.visit(page, 'a');
      await page.evaluate(() => {
        window.restored = 0;
        addEventListener('pageshow', (e) => { if (e.persisted) window.restored += 1; });
      });
      const b = await w.visit(page, 'b');
      assertLinked(b, a, '/walk/a');
      await page.goBack({ waitUntil: 'commit' });
      let restored = 0;
      for (let i = 0; i < 25 && restored !== 1; i++) {
        await sleep(200);
        restored = await page.evaluate(() => window.restored).catch(() => 0);
      }
      tries.push({ restored: restored === 1 });
      if (restored === 1) {
        const c = await w.visit(page, 'c');
        assertLinked(c, a, '/walk/a');
        assert.equal(collector.spans().filter((s) => s.name === 'documentLoad' && s.attrs['url.full'] === w.url('a')).length, 1, 'a restore is not a load');
      }
      assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
      await page.close();
    }
    assert.ok(tries.some((x) => x.restored), `no try came back from the back-forward cache: ${JSON.stringify(tries)}`);
  } finally {
    await bfBrowser.close();
  }
});
