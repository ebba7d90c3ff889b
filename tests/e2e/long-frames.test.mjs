// Long animation frames through the real agent, the real browser and the
// real Collector: the script that held the page is named on the click it
// delayed, on INP and on a span of its own; frame spans are bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { openRun } from '../lib/browser.mjs';

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack());
});

after(async () => {
  await stack?.stop();
});

const openApp = (query = '') =>
  openRun(browser, collector, (run) => `${server.url}/pages/long-frames/index.html?run=${run}&endpoint=${encodeURIComponent(collector.endpoint)}${query}`);

const APP_JS = /\/pages\/long-frames\/app\.js$/;
const frames = (spans) => spans.filter((s) => s.name === 'longAnimationFrame');
const held = (s) => s.attrs['waggle.loaf.script.function'];

test('a click that blocks the page names the function that held it, on the click, on its frame span and on INP', async () => {
  const app = await openApp();
  const { page } = app;
  await page.click('#slow');
  let spans = await app.waitFor((s) => s.some((x) => x.name === 'click') && frames(s).some((f) => held(f) === 'blockThePage'));

  const click = spans.find((s) => s.name === 'click');
  assert.equal(held(click), 'blockThePage', app.context());
  assert.match(click.attrs['waggle.loaf.script.url'], APP_JS);
  assert.equal(click.attrs['waggle.loaf.script.invoker'], 'BUTTON#slow.onclick');
  assert.equal(click.attrs['waggle.loaf.script.invoker_type'], 'event-listener');
  assert.ok(click.attrs['waggle.loaf.script.duration'] >= 195, `the handler spins 200 ms: ${click.attrs['waggle.loaf.script.duration']}`);
  assert.equal(typeof click.attrs['waggle.loaf.script.forced_style_and_layout_duration'], 'number');

  // The frame is a span of its own, a child of the click it delayed,
  // covering the handler, with the frame's render and its scripts as events.
  const frame = frames(spans).find((f) => held(f) === 'blockThePage');
  assert.equal(frame.parentSpanId, click.spanId);
  assert.equal(frame.traceId, click.traceId);
  assert.ok(frame.attrs['waggle.loaf.blocking_duration'] > 50);
  assert.ok(BigInt(frame.startTimeUnixNano) <= BigInt(click.endTimeUnixNano) && BigInt(frame.endTimeUnixNano) >= BigInt(click.startTimeUnixNano), 'the frame overlaps the click');
  assert.ok(BigInt(frame.endTimeUnixNano) - BigInt(frame.startTimeUnixNano) >= 200_000_000n, 'the frame lasts at least the 200 ms spin');
  const script = frame.events.find((e) => e.name === 'waggle.loaf.script');
  assert.ok(script, JSON.stringify(frame.events));
  assert.equal(script.attrs['waggle.loaf.script.function'], 'blockThePage');
  assert.match(script.attrs['waggle.loaf.script.url'], APP_JS);
  const render = frame.events.find((e) => e.name === 'renderStart');
  assert.ok(render && BigInt(render.timeUnixNano) > BigInt(script.timeUnixNano), 'the frame rendered after the script');

  // INP, reported when the page is hidden, names the same function.
  await page.goto('about:blank');
  spans = await app.waitFor((s) => s.some((x) => x.name === 'INP'));
  const inp = spans.find((s) => s.name === 'INP');
  assert.ok(inp.attrs['browser.web_vital.value'] >= 200);
  assert.equal(held(inp), 'blockThePage');
  assert.equal(inp.attrs['waggle.loaf.script.invoker'], 'BUTTON#slow.onclick');
});

test('at most ten frame spans a minute: fifteen long tasks in a row make ten', async () => {
  const app = await openApp();
  const { page } = app;
  // Started outside any interaction: a timer set while a click is open is
  // one the agent follows, and its callback runs inside the agent's
  // wrapper, which is what the browser then names (README says so).
  await page.evaluate(() => window.startChain());
  await page.waitForFunction(() => window.chainDone, null, { timeout: 20_000 });
  // Give the last frames time to be reported and sent.
  await page.waitForTimeout(500);
  await page.evaluate(() => window.waggle.flush());
  const spans = await app.waitFor((s) => frames(s).filter((f) => held(f) === 'chainedWork').length >= 9);
  await page.waitForTimeout(500);
  const all = frames(app.spans());
  const chained = all.filter((f) => held(f) === 'chainedWork');
  assert.ok(all.length <= 10, `frame spans: ${all.map((f) => held(f) ?? '(no script)').join(', ')}`);
  assert.ok(chained.length >= 9, `the chain's frames fill the bound: ${chained.length} of ${all.length}`);
  for (const f of chained) {
    assert.equal(f.attrs['waggle.loaf.script.invoker'], 'TimerHandler:setTimeout');
    assert.match(f.attrs['waggle.loaf.script.url'], APP_JS);
    assert.equal(f.parentSpanId ?? '', '', 'no interaction was open');
    assert.ok(f.attrs['waggle.loaf.blocking_duration'] > 50);
  }
  assert.ok(spans.length > 0);
});

test('with longAnimationFrames off there are no frame spans, and the click still names what held it', async () => {
  const app = await openApp('&loaf=off');
  const { page } = app;
  await page.click('#slow');
  const spans = await app.waitFor((s) => s.some((x) => x.name === 'click'));
  const click = spans.find((s) => s.name === 'click');
  assert.equal(held(click), 'blockThePage', app.context());
  await page.evaluate(() => window.waggle.flush());
  await page.waitForTimeout(500);
  assert.deepEqual(frames(app.spans()), []);
});
