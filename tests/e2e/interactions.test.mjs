// Clicks and submits through the real agent, the real browser and the real
// Collector: one span per event naming its target, and the context that
// follows the work a handler schedules. Route changes made by the handlers
// show where that context reaches: a routeChange is a child of whatever
// span is current when the URL changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { openRun } from '../lib/browser.mjs';

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack({
    routes: {
      // Slow enough that a request is still under way when the handler's
      // task is over.
      '/api/data': (req, res) => {
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
          res.end('ok');
        }, 40);
      },
    },
  }));
});

after(async () => {
  await stack?.stop();
});

// A fresh page per test; its spans are the ones whose page.url names its run.
const openApp = () =>
  openRun(browser, collector, (run) => `${server.url}/pages/interactions/index.html?run=${run}&endpoint=${encodeURIComponent(collector.endpoint)}`);

const clickOn = (spans, id) => spans.find((s) => s.name === 'click' && s.attrs['waggle.target.id'] === id);
const routeTo = (spans, hash) => spans.find((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'].endsWith(hash));
const ns = (us) => BigInt(us) * 1000n;

test('a click span names its target, the page, and starts at the event', async () => {
  const app = await openApp();
  const { page } = app;
  await page.click('#sync');
  await page.click('ul li:nth-child(2) .pick');
  await page.click('#panel button');
  const spans = await app.waitFor((s) => s.filter((x) => x.name === 'click').length === 3);
  const [origin, stamps] = await page.evaluate(() => [Math.round(performance.timeOrigin * 1000), window.stamps]);

  const sync = clickOn(spans, 'sync');
  assert.ok(sync, app.context());
  assert.equal(sync.kind, 1, 'INTERNAL');
  assert.equal(sync.parentSpanId ?? '', '', 'a user click starts a trace');
  assert.equal(sync.attrs['waggle.event.type'], 'click');
  assert.equal(sync.attrs['waggle.target.tag'], 'button');
  assert.equal(sync.attrs['waggle.target.selector'], '#sync');
  assert.equal(sync.attrs['waggle.page.route'], '/pages/interactions/index.html');
  assert.equal(sync.attrs['waggle.page.title'], 'Interactions');
  assert.equal(sync.attrs['waggle.end_reason'], 'settled');
  assert.equal(sync.resource['service.name'], 'interactions-test');
  // The span starts when the browser received the click, to the microsecond.
  const stamp = stamps.find((s) => s.type === 'click' && s.id === 'sync');
  assert.equal(BigInt(sync.startTimeUnixNano), ns(origin + stamp.us));
  assert.ok(BigInt(sync.endTimeUnixNano) >= BigInt(sync.startTimeUnixNano));

  // Without ids: tags and positions up to body, and a selector that finds
  // exactly the clicked element.
  const deep = spans.find((s) => s.name === 'click' && s.attrs['waggle.target.selector']?.startsWith('body'));
  assert.equal(deep.attrs['waggle.target.selector'], 'body > main > ul > li:nth-of-type(2) > button:nth-of-type(2)');
  assert.equal(deep.attrs['waggle.target.id'], undefined);
  const panel = spans.find((s) => s.attrs['waggle.target.selector'] === '#panel > span > button');
  assert.ok(panel, 'the nearest unique id anchors the selector');
  const found = await page.evaluate((sels) => sels.map((sel) => {
    const all = document.querySelectorAll(sel);
    return all.length === 1 ? all[0].textContent : `${all.length} matches`;
  }), [deep.attrs['waggle.target.selector'], panel.attrs['waggle.target.selector']]);
  assert.deepEqual(found, ['third', 'in panel']);
  await page.close();
});

test('frustration: rage, dead and error clicks are marked and counted per page; data-waggle-name names the target', async () => {
  const app = await openApp();
  const { page } = app;
  const counts = (s) => [s.attrs['waggle.page.rage_clicks'], s.attrs['waggle.page.dead_clicks'], s.attrs['waggle.page.error_clicks']];
  // An actionable button whose click changes nothing: dead.
  await page.click('#nothing');
  let spans = await app.waitFor((s) => clickOn(s, 'nothing'));
  const dead = clickOn(spans, 'nothing');
  assert.equal(dead.attrs['waggle.frustration.dead'], true, app.context());
  assert.equal(dead.attrs['waggle.frustration.rage'], undefined);
  assert.equal(dead.attrs['waggle.frustration.error'], undefined);
  assert.deepEqual(counts(dead), [0, 1, 0]);
  // The nearest data-waggle-name is the app's name for the target.
  assert.equal(dead.attrs['waggle.target.name'], 'frustration panel');

  // A button whose click changes the DOM, clicked four times in well
  // under a second: the third and fourth are rage clicks, one run.
  const box = await page.locator('#count').boundingBox();
  for (let i = 0; i < 4; i++) await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  spans = await app.waitFor((s) => s.filter((x) => x.name === 'click' && x.attrs['waggle.target.id'] === 'count').length === 4);
  const runOf = spans.filter((x) => x.name === 'click' && x.attrs['waggle.target.id'] === 'count').sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  assert.deepEqual(runOf.map((x) => x.attrs['waggle.frustration.rage'] ?? false), [false, false, true, true], app.context());
  assert.deepEqual(runOf.map((x) => x.attrs['waggle.frustration.rage_clicks'] ?? 0), [0, 0, 3, 4]);
  assert.ok(runOf.every((x) => x.attrs['waggle.frustration.dead'] === undefined), 'a click that changed the DOM is not dead');
  assert.deepEqual(counts(runOf[3]), [1, 1, 0]);
  assert.ok(runOf.every((x) => x.attrs['waggle.target.name'] === 'counter'));

  // A click whose handler throws: an error click, not a dead one.
  await page.click('#boom');
  spans = await app.waitFor((s) => clickOn(s, 'boom'));
  const boom = clickOn(spans, 'boom');
  assert.equal(boom.attrs['waggle.frustration.error'], true);
  assert.equal(boom.attrs['waggle.frustration.dead'], undefined);
  assert.deepEqual(counts(boom), [1, 1, 1]);
  assert.deepEqual(app.pageErrors.map((e) => e.message), ['boom from a click']);

  // Text and a form field are not expected to do anything: no signal.
  await page.click('#plain');
  await page.click('#field');
  spans = await app.waitFor((s) => clickOn(s, 'plain') && clickOn(s, 'field'));
  for (const id of ['plain', 'field']) {
    const c = clickOn(spans, id);
    assert.deepEqual(Object.keys(c.attrs).filter((k) => k.startsWith('waggle.frustration') || k.startsWith('waggle.page.') && k.endsWith('_clicks')), [], id);
  }
  await page.close();
});

test('submit is recorded as its own span, a child of the click that submitted', async () => {
  const app = await openApp();
  await app.page.click('#send');
  const spans = await app.waitFor((s) => s.some((x) => x.name === 'submit') && clickOn(s, 'send'));
  const submit = spans.find((s) => s.name === 'submit');
  const click = clickOn(spans, 'send');
  assert.equal(submit.attrs['waggle.event.type'], 'submit');
  assert.equal(submit.attrs['waggle.target.tag'], 'form');
  assert.equal(submit.attrs['waggle.target.id'], 'search');
  assert.equal(submit.attrs['waggle.target.selector'], '#search');
  assert.equal(submit.parentSpanId, click.spanId);
  assert.equal(submit.traceId, click.traceId);
  assert.ok(BigInt(click.endTimeUnixNano) >= BigInt(submit.endTimeUnixNano), 'a parent ends after its child');
  await app.page.close();
});

test('events without an element target are not recorded', async () => {
  const app = await openApp();
  await app.page.evaluate(() => {
    window.dispatchEvent(new MouseEvent('click'));
    document.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
  await app.page.click('#sync');
  await app.waitFor((s) => clickOn(s, 'sync'));
  await app.page.evaluate(() => window.waggle.flush());
  const clicks = app.spans().filter((s) => s.name === 'click');
  assert.equal(clicks.length, 1, clicks.map((c) => JSON.stringify(c.attrs)).join('\n'));
  await app.page.close();
});

test('work a click handler schedules runs with the click current: sync, promise callbacks, timers', async () => {
  const app = await openApp();
  const followed = [
    ['push-sync', '#sync'],
    ['push-micro', '#micro'],
    ['push-async', '#async'],
    ['push-timer', '#timer'],
    ['push-chain', '#chain'],
    ['push-args', '#args-ok'],
  ];
  for (const [id, hash] of followed) {
    await app.page.click(`#${id}`);
    await app.page.waitForFunction((h) => location.hash === h, hash);
  }
  const spans = await app.waitFor((s) => followed.every(([id, hash]) => clickOn(s, id) && routeTo(s, hash)));
  for (const [id, hash] of followed) {
    const click = clickOn(spans, id);
    const nav = routeTo(spans, hash);
    assert.equal(nav.parentSpanId, click.spanId, `${id}: the route change is the click's child\n${app.context()}`);
    assert.equal(nav.traceId, click.traceId, id);
    assert.equal(nav.attrs['waggle.route.change_type'], 'pushState', id);
    // The click stays open until the work it set going is done.
    assert.ok(BigInt(click.endTimeUnixNano) >= BigInt(nav.endTimeUnixNano), `${id}: click ends after its child`);
    assert.ok(BigInt(nav.startTimeUnixNano) >= BigInt(click.startTimeUnixNano), id);
  }
  // Timers keep it open for as long as they take.
  const timer = clickOn(spans, 'push-timer');
  assert.ok(BigInt(timer.endTimeUnixNano) - BigInt(timer.startTimeUnixNano) >= 30_000_000n, 'open until the 30 ms timer fired');
  await app.page.close();
});

const request = (spans, c) => spans.find((s) => s.kind === 3 && s.attrs['url.full']?.endsWith(`/api/data?case=${c}`));

test('requests a click handler starts are its children: now, in a promise callback, in a timer, by XHR', async () => {
  const app = await openApp();
  const cases = [['sync', 'sync'], ['micro', 'micro'], ['timer', 'timer'], ['xhr', 'xhr']];
  for (const [id] of cases) await app.page.click(`#${id}`);
  const spans = await app.waitFor((s) => cases.every(([id, c]) => clickOn(s, id) && request(s, c)));
  for (const [id, c] of cases) {
    const click = clickOn(spans, id);
    const req = request(spans, c);
    assert.equal(req.name, 'GET');
    assert.equal(req.parentSpanId, click.spanId, `${id}: the request is the click's child\n${app.context()}`);
    assert.equal(req.traceId, click.traceId, id);
    // The click lasts until its request is done.
    assert.ok(BigInt(click.endTimeUnixNano) >= BigInt(req.endTimeUnixNano), `${id}: click ends after its request`);
    assert.equal(click.attrs['waggle.end_reason'], 'settled', id);
  }
  await app.page.close();
});

test('a request started after an awaited response is not the click\'s child (documented limit)', async () => {
  const app = await openApp();
  await app.page.click('#after-await');
  const spans = await app.waitFor((s) => clickOn(s, 'after-await') && request(s, 'first') && request(s, 'after'));
  const click = clickOn(spans, 'after-await');
  assert.equal(request(spans, 'first').parentSpanId, click.spanId, 'the request made in the handler is followed');
  const after = request(spans, 'after');
  assert.equal(after.parentSpanId ?? '', '', 'the one made when the response came back starts its own trace');
  assert.notEqual(after.traceId, click.traceId);
  await app.page.close();
});

test('a request made while handling a submit is the submit\'s child', async () => {
  const app = await openApp();
  await app.page.click('#send');
  const spans = await app.waitFor((s) => s.some((x) => x.name === 'submit') && request(s, 'search'));
  const submit = spans.find((s) => s.name === 'submit');
  assert.equal(request(spans, 'search').parentSpanId, submit.spanId);
  await app.page.close();
});

test('a long timer (a toast hidden after 3 s) does not keep the click open', async () => {
  const app = await openApp();
  await app.page.click('#toast');
  const click = clickOn(await app.waitFor((s) => clickOn(s, 'toast')), 'toast');
  assert.equal(click.attrs['waggle.end_reason'], 'settled');
  const ms = Number(BigInt(click.endTimeUnixNano) - BigInt(click.startTimeUnixNano)) / 1e6;
  assert.ok(ms < 1000, `lasted ${ms} ms`);
  await app.page.close();
});

test('a click on a link to another document is sent as the page goes away', async () => {
  const app = await openApp();
  await app.page.click('#away');
  await app.page.waitForURL(/document-load/);
  const click = clickOn(await app.waitFor((s) => clickOn(s, 'away')), 'away');
  // The next document usually arrives within the 100 ms quiet window, and
  // the page going away ends the click; on a loaded machine it may take
  // longer, and the click settles first. Either way the old page sends it.
  assert.ok(['hidden', 'settled'].includes(click.attrs['waggle.end_reason']), click.attrs['waggle.end_reason']);
  assert.equal(click.attrs['waggle.target.tag'], 'a');
  assert.equal(click.attrs['waggle.page.route'], '/pages/interactions/index.html');
  await app.page.close();
});

test('a click made by a handler is a child of the click being handled', async () => {
  const app = await openApp();
  await app.page.click('#outer');
  const spans = await app.waitFor((s) => clickOn(s, 'outer') && clickOn(s, 'inner'));
  assert.equal(clickOn(spans, 'inner').parentSpanId, clickOn(spans, 'outer').spanId);
  await app.page.close();
});

test('code after an awaited network response is not followed (documented limit)', async () => {
  const app = await openApp();
  await app.page.click('#push-await');
  await app.page.waitForFunction(() => location.hash === '#await');
  const spans = await app.waitFor((s) => clickOn(s, 'push-await') && routeTo(s, '#await'));
  const click = clickOn(spans, 'push-await');
  const nav = routeTo(spans, '#await');
  assert.equal(nav.parentSpanId ?? '', '', 'a new trace: the agent cannot see that the response belongs to the click');
  assert.notEqual(nav.traceId, click.traceId);
  await app.page.close();
});

test('setTimeout behaves exactly as before while it is followed', async () => {
  const app = await openApp();
  const { page } = app;
  await page.click('#semantics');
  await page.waitForFunction(() => window.semantics?.done && window.semantics.errors.length > 0);
  const r = await page.evaluate(() => window.semantics);
  assert.deepEqual(r.args, ['x', 'y', 2], 'extra arguments reach the callback, and only they');
  assert.equal(r.thisIsWindow, true);
  assert.equal(r.idType, 'number');
  assert.equal(r.cancelledRan, undefined, 'clearTimeout takes the id the page got');
  assert.deepEqual(r.errors, [{ same: true, message: 'Uncaught TypeError: thrown from a timer' }], 'the thrown error reaches onerror unchanged');
  assert.equal(r.stringRan, true, 'a string of code still runs');
  assert.ok(r.stringDelay >= 24, `a delay given as a string is kept: ran after ${r.stringDelay} ms`);
  const shape = await page.evaluate(() => [setTimeout.name, setTimeout.length, before.length, /\[native code\]/.test(String(setTimeout))]);
  assert.deepEqual(shape, ['setTimeout', 1, 1, true]);
  const click = (await app.waitFor((s) => clickOn(s, 'semantics'))).find((s) => s.attrs['waggle.target.id'] === 'semantics');
  assert.equal(click.attrs['waggle.end_reason'], 'settled');
  assert.deepEqual(app.pageErrors.map(String), [], 'the page saw no error it did not throw itself');
  await page.close();
});

test('shutdown() puts history.pushState, replaceState and setTimeout back', async () => {
  const app = await openApp();
  const { page } = app;
  const patched = await page.evaluate(() => [
    history.pushState !== before.pushState,
    history.replaceState !== before.replaceState,
    window.setTimeout !== before.setTimeout,
    history.back !== before.back,
  ]);
  assert.deepEqual(patched, [true, true, true, true], 'hooked while the agent runs');
  await page.evaluate(() => window.waggle.shutdown());
  const restored = await page.evaluate(() => [
    history.pushState === before.pushState,
    history.replaceState === before.replaceState,
    window.setTimeout === before.setTimeout,
    history.back === before.back,
    history.forward === before.forward,
    history.go === before.go,
  ]);
  assert.deepEqual(restored, [true, true, true, true, true, true]);
  // The page still works: a click handler pushes state and sets timers.
  await page.click('#push-timer');
  await page.waitForFunction(() => location.hash === '#timer');
  assert.deepEqual(app.pageErrors.map(String), []);
  await page.close();
});
