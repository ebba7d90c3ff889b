// A soak of the whole delivery path as users meet it: two tabs of one
// origin (one browser context, so they share localStorage and the session)
// moving between pages, reloading, going back and forward (through the
// back-forward cache), each page making a few app spans a second, while the
// Collector is stopped for 2 to 15 s at random and started again on the
// same ports. At the end every span made must have arrived, or its loss
// must have been counted in waggle.dropped_spans (lost for sure) or
// waggle.unconfirmed_spans (sent by a page as it unloaded, whose answer
// the browser never let it see); a few may arrive twice (see below).
//
// The run is driven by a seeded generator: SOAK_SEED=<n> repeats a run's
// choices (the timing around them is the machine's). SOAK_MS sets its
// length (default 75 s); SOAK_OUTAGES=0 runs it with the Collector always up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../lib/server.mjs';
import { startCollector } from '../lib/collector.mjs';
import { PAGE_MOUNTS } from '../lib/stack.mjs';
import { launchBrowser, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SOAK_MS = Number(process.env.SOAK_MS ?? 75_000);
// SOAK_OUTAGES=0 keeps the Collector up: a check of the test itself.
const OUTAGES = process.env.SOAK_OUTAGES !== '0';
const PAGES = ['a', 'b', 'c'];

/** mulberry32: a small seeded generator, numbers in [0, 1). */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Served without Cache-Control: no-store, which would keep them out of the
// back-forward cache.
const soakPage = (name) => (req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Soak ${name}</title>
<script type="module" src="/pages/soak/soak.js"></script>
</head><body><h1>Soak page ${name}</h1><p>${'Some text to paint. '.repeat(20)}</p></body></html>`);
};

let server, browser;
const collectors = [];

before(async () => {
  server = await startServer({
    mounts: PAGE_MOUNTS,
    routes: Object.fromEntries(PAGES.map((p) => [`/soak/${p}.html`, soakPage(p)])),
  });
  // Playwright turns the back-forward cache off unless told not to.
  browser = await launchBrowser({ ignoreDefaultArgs: ['--disable-back-forward-cache'] });
});

after(async () => {
  await browser?.close();
  for (const c of collectors) await c.stop();
  await server?.close();
});

test(`soak: two tabs navigating while the Collector comes and goes; every span arrives once or its loss is counted (seed ${SEED})`, { timeout: SOAK_MS + 180_000 }, async () => {
  console.log(`soak: seed ${SEED} (SOAK_SEED=${SEED} repeats the run's choices), ${SOAK_MS} ms`);
  const t0 = Date.now();
  const at = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const timeline = [];
  const note = (line) => timeline.push(`${at()} ${line}`);

  let collector = await startCollector({ allowedOrigins: [server.origin] });
  collectors.push(collector);
  const ports = { httpPort: collector.httpPort, healthPort: collector.healthPort, metricsPort: collector.metricsPort };
  const endpoint = collector.endpoint;

  // What the pages say they made and did, as they go.
  const reported = new Map(); // uid -> ms since start
  const events = { loaded: 0, restored: 0 };
  const context = await browser.newContext();
  await context.exposeBinding('soakReport', (source, uid) => {
    if (!reported.has(uid)) reported.set(uid, Date.now() - t0);
  });
  await context.exposeBinding('soakEvent', (source, kind) => {
    events[kind] = (events[kind] ?? 0) + 1;
  });

  const tabs = ['A', 'B'];
  const consoles = { A: [], B: [] };
  const errors = { A: [], B: [] };
  const pages = {};
  const isSoak = (u) => /\/soak\/\w\.html/.test(u);
  const url = (tab, name) => `${server.url}/soak/${name}.html?tab=${tab}&endpoint=${encodeURIComponent(endpoint)}`;
  for (const tab of tabs) {
    const page = await context.newPage();
    page.on('console', (m) => consoles[tab].push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => errors[tab].push(e));
    await page.goto(url(tab, 'a'));
    pages[tab] = page;
  }
  note('both tabs opened');

  const deadline = t0 + SOAK_MS;
  // A pause that ends at the deadline at the latest.
  const pause = (ms) => sleep(Math.max(0, Math.min(ms, deadline - Date.now())));
  const navigations = { goto: 0, reload: 0, back: 0, forward: 0, failed: 0 };

  async function drive(tab, rnd) {
    const page = pages[tab];
    let here = 'a';
    while (Date.now() < deadline) {
      await pause(2000 + rnd() * 6000);
      if (Date.now() >= deadline) break;
      const r = rnd();
      const action = r < 0.4 ? 'goto' : r < 0.6 ? 'reload' : r < 0.9 ? 'back' : 'forward';
      const target = PAGES.filter((p) => p !== here)[Math.floor(rnd() * (PAGES.length - 1))];
      try {
        if (action === 'goto') {
          await page.goto(url(tab, target), { waitUntil: 'commit' });
        } else if (action === 'reload') {
          await page.reload({ waitUntil: 'commit' });
        } else if (action === 'back') {
          await page.goBack({ waitUntil: 'commit' });
        } else {
          await page.goForward({ waitUntil: 'commit' });
        }
        navigations[action] += 1;
        if (!isSoak(page.url())) {
          // Back past the first page, to the tab's blank start.
          await page.goto(url(tab, target), { waitUntil: 'commit' });
          navigations.goto += 1;
        }
        here = new URL(page.url()).pathname.match(/\/soak\/(\w)\.html/)?.[1] ?? here;
        note(`${tab} ${action}${action === 'goto' ? ` ${target}` : ''} -> ${here}`);
      } catch (e) {
        navigations.failed += 1;
        note(`${tab} ${action} failed: ${String(e.message).split('\n')[0]}`);
      }
    }
  }

  const outages = [];
  async function outagesLoop(rnd) {
    while (OUTAGES && Date.now() < deadline) {
      await pause(3000 + rnd() * 7000);
      const downMs = 2000 + rnd() * 13_000;
      if (Date.now() + 2000 >= deadline) break;
      await collector.stop();
      const downAt = Date.now();
      note(`Collector stopped for ${(downMs / 1000).toFixed(1)} s`);
      await sleep(downMs);
      collector = await startCollector({ allowedOrigins: [server.origin], ...ports });
      collectors.push(collector);
      outages.push({ from: downAt - t0, ms: Date.now() - downAt });
      note(`Collector back after ${((Date.now() - downAt) / 1000).toFixed(1)} s`);
    }
  }

  const rnd = generator(SEED);
  const seeds = [rnd(), rnd(), rnd()].map((x) => Math.floor(x * 2 ** 31));
  await Promise.all([drive('A', generator(seeds[0])), drive('B', generator(seeds[1])), outagesLoop(generator(seeds[2]))]);
  note('soak over; the Collector is up');

  // The pages stop making spans. Then each tab opens one more page, as a
  // user going on would (it sends what earlier pages left in storage), and
  // it flushes.
  const views = {};
  const late = new Set();
  const stopPage = async (page) => {
    const got = await page.evaluate(() => window.soakStop());
    Object.assign(views, got.views);
    for (const u of got.late) late.add(u);
  };
  const flushed = {};
  const readyOf = (page) =>
    page
      .waitForFunction(() => window.ready !== undefined, null, { timeout: 15_000 })
      .then(() => page.evaluate(() => Promise.race([window.ready, new Promise((r) => setTimeout(() => r('init did not settle in 30 s'), 30_000))])))
      .catch((e) => String(e));
  for (const tab of tabs) {
    const page = pages[tab];
    // (Not waitForLoadState: a page restored from the back-forward cache
    // fires no load event.)
    if (isSoak(page.url())) {
      await page.waitForFunction(() => typeof window.soakStop === 'function', null, { timeout: 15_000 }).catch(() => {});
      await stopPage(page);
      note(`${tab}: stopped making spans`);
    }
  }
  await Promise.all(tabs.map(async (tab) => {
    const page = pages[tab];
    await page.goto(`${url(tab, 'a')}&produce=0`);
    const ready = await readyOf(page);
    flushed[tab] = await page.evaluate(() => Promise.race([
      import('/pkg/index.js').then((m) => m.flush()).then(() => 'flushed', (e) => `flush rejected: ${e}`),
      new Promise((r) => setTimeout(() => r('flush did not settle in 30 s'), 30_000)),
    ])).catch((e) => `flush failed: ${e.message}`);
    await stopPage(page);
    // What the origin still keeps for a later page to send.
    const kept = await page.evaluate(async () => {
      const keys = Object.keys(localStorage).filter((k) => k.startsWith('waggle.unsent')).map((k) => `${k}: ${localStorage.getItem(k).length} chars`);
      if (keys.length && navigator.locks) {
        const q = await navigator.locks.query();
        keys.push(`locks held ${q.held.length}, pending ${q.pending.length}`);
      }
      return keys;
    }).catch((e) => [String(e)]);
    note(`${tab}: a last page, init ${ready}, ${flushed[tab]}; kept in storage: ${kept.length ? kept.join(', ') : 'nothing'}`);
  }));

  // What a page keeps is sent by a later page of the origin. Now and then
  // (about one run in ten here) what the pages left last keeps is still in
  // storage after the pages that followed them started and flushed; a
  // later visit is then what sends it, and must.
  const keptAtEnd = await pages.A.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('waggle.unsent')).length).catch(() => 0);
  let laterVisit = null;
  if (keptAtEnd > 0) {
    await sleep(1000);
    const later = await context.newPage();
    later.on('console', (m) => consoles.A.push({ type: m.type(), text: m.text() }));
    later.on('pageerror', (e) => errors.A.push(e));
    await later.goto(`${url('C', 'a')}&produce=0`);
    const ready = await readyOf(later);
    const result = await later.evaluate(() => import('/pkg/index.js').then((m) => m.flush()).then(() => 'flushed', (e) => `flush rejected: ${e}`)).catch((e) => `flush failed: ${e.message}`);
    await sleep(1000);
    const left = await later.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('waggle.unsent')).length).catch(() => -1);
    laterVisit = { keptAtEnd, ready, result, left };
    note(`a later visit: init ${ready}, ${result}; ${left} keys left in storage`);
  }

  // What was made: each view's own count, and what the pages reported.
  const produced = new Set(reported.keys());
  for (const [view, n] of Object.entries(views)) for (let i = 0; i < n; i++) produced.add(`${view}#${i}`);

  const arrivedCounts = () => {
    const counts = new Map();
    for (const c of collectors) {
      for (const s of c.spans()) {
        if (s.name !== 'soak.tick') continue;
        const uid = s.attrs['test.uid'];
        counts.set(uid, (counts.get(uid) ?? 0) + 1);
      }
    }
    return counts;
  };
  // Until every span is in, or 45 s (the agent retries every 30 s at the
  // longest), or nothing new came for 15 s.
  const waitUntil = Date.now() + 45_000;
  let lastCount = -1;
  let lastChange = Date.now();
  while (Date.now() < waitUntil) {
    const counts = arrivedCounts();
    if ([...produced].every((u) => counts.has(u))) break;
    if (counts.size !== lastCount) {
      lastCount = counts.size;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 15_000) {
      break;
    }
    await sleep(500);
  }
  await sleep(1500);
  note('delivery wait over');
  await collector.stop();

  const counts = arrivedCounts();
  let duplicates = 0;
  const duplicated = [];
  for (const [uid, n] of counts) {
    if (n > 1) {
      duplicates += n - 1;
      duplicated.push(`${uid} x${n}`);
    }
  }
  const missing = [...produced].filter((u) => !counts.has(u));
  const unknown = [...counts.keys()].filter((u) => !produced.has(u));
  let droppedReported = 0;
  let unconfirmedReported = 0;
  const countOf = (rs, key) => {
    const kv = (rs.resource?.attributes ?? []).find((a) => a.key === key);
    return kv ? Number(kv.value.intValue ?? kv.value.doubleValue ?? kv.value.stringValue ?? 0) : 0;
  };
  for (const c of collectors) {
    for (const req of c.requests()) {
      for (const rs of req.resourceSpans ?? []) {
        droppedReported += countOf(rs, 'waggle.dropped_spans');
        unconfirmedReported += countOf(rs, 'waggle.unconfirmed_spans');
      }
    }
  }
  const missingByView = {};
  for (const u of missing) {
    const v = u.split('#')[0];
    missingByView[v] = (missingByView[v] ?? 0) + 1;
  }
  const missingTimes = missing.map((u) => reported.get(u)).filter((t) => t !== undefined).sort((a, b) => a - b);
  const summary = {
    seed: SEED,
    soakMs: SOAK_MS,
    produced: produced.size,
    delivered: produced.size - missing.length,
    duplicates,
    missing: missing.length,
    droppedReported,
    unconfirmedReported,
    unknownUids: unknown.length,
    madeWhileHidden: late.size,
    missingMadeWhileHidden: missing.filter((u) => late.has(u)).length,
    // The last span a page view made, often just before it was left.
    missingLastOfView: missing.filter((u) => Number(u.split('#')[1]) === views[u.split('#')[0]] - 1).length,
    outages: outages.map((o) => `+${(o.from / 1000).toFixed(1)}s for ${(o.ms / 1000).toFixed(1)}s`),
    navigations,
    pageEvents: events,
    views: Object.values(views).filter((n) => n > 0).length,
    // Reported by a page but not in its own count: a fault in the test.
    reportedOnly: [...reported.keys()].filter((u) => !(Number(u.split('#')[1]) < (views[u.split('#')[0]] ?? 0))).length,
    finalFlush: flushed,
    laterVisit,
  };
  const details = [
    `soak summary: ${JSON.stringify(summary)}`,
    missing.length ? `missing by page view: ${JSON.stringify(missingByView)}` : '',
    missing.length ? `missing: ${missing.slice(0, 30).join(' ')}${missing.length > 30 ? ' ...' : ''}` : '',
    missingTimes.length ? `missing spans were made at (s): ${missingTimes.slice(0, 60).map((t) => (t / 1000).toFixed(1)).join(' ')}${missingTimes.length > 60 ? ' ...' : ''}` : '',
    duplicated.length ? `duplicated: ${duplicated.slice(0, 20).join(', ')}${duplicated.length > 20 ? ' ...' : ''}` : '',
    unknown.length ? `arrived but never made: ${unknown.slice(0, 20).join(', ')}` : '',
  ].filter(Boolean).join('\n');
  console.log(`${details}\nsoak timeline:\n  ${timeline.join('\n  ')}`);
  const agentConsole = tabs.map((t) => `--- tab ${t} console (waggle lines) ---\n${formatConsole(consoles[t].filter((m) => /waggle/i.test(m.text)).slice(-40), errors[t])}`).join('\n');

  assert.ok(produced.size > 100, `too few spans were made for a soak (${produced.size}):\n${details}\n${agentConsole}`);
  assert.ok(!OUTAGES || outages.length >= 2, `the Collector went down only ${outages.length} times:\n${details}`);
  assert.equal(unknown.length, 0, `spans arrived with ids no page made (a fault in the test):\n${details}`);
  // A request the Collector took but whose answer the page never saw is
  // sent again: fetch cannot tell a request cut after it was read from one
  // never sent, and the Collector has no way to drop a copy. Such copies
  // are rare (4 spans of 476 in the worst run seen); more than 5 % would
  // mean the agent resends what was answered.
  assert.ok(duplicates <= produced.size * 0.05, `${duplicates} spans arrived more than once:\n${details}\n${agentConsole}`);
  assert.ok(
    missing.length === 0 || droppedReported + unconfirmedReported >= missing.length,
    `${missing.length} of ${produced.size} spans never arrived and only ${droppedReported} were reported dropped and ${unconfirmedReported} unconfirmed (lost silently: ${missing.length - droppedReported - unconfirmedReported}):\n${details}\n${agentConsole}`,
  );
  assert.deepEqual(tabs.flatMap((t) => errors[t].map(String)), [], 'uncaught errors in the pages');
  await context.close();
});
