// One name per concept: the attribute keys the agent sends, as the real
// Collector receives them (resource, span, event and link attributes),
// against the table in README's "Attribute names", both ways: nothing sent
// that the table lacks, nothing in the table never sent (but the keys it
// marks Conditional). One page goes through everything the agent records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { startStack } from '../lib/stack.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

/** README's table: key -> { on: Set of resource/span/event, conditional }. */
function readTable() {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('\n## Attribute names\n');
  assert.ok(start >= 0, 'README has an "Attribute names" section');
  const section = text.slice(start + 1).split('\n## ')[0];
  const rows = section.split('\n').filter((l) => /^\| `/.test(l));
  const table = new Map();
  for (const row of rows) {
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 5, row);
    const [key, on, , status, why] = cells;
    const name = key.replace(/`/g, '');
    assert.ok(!table.has(name), `${name} listed once`);
    assert.ok(['stable', 'development', 'not in semconv', 'backend shape'].includes(status), `${name}: status ${status}`);
    // A name outside the conventions is Waggle's, or the shape a backend's
    // tool reads (Honeycomb's exception.structured_stacktrace.*), and says why.
    assert.equal(name.startsWith('waggle.'), status === 'not in semconv', `${name}: ${status}`);
    if (status === 'not in semconv' || status === 'backend shape') assert.ok(why.replace(/^\*Conditional[^*]*\*\.?/, '').trim(), `${name} says why no convention fits`);
    table.set(name, { on: new Set(on.split(',').map((s) => s.trim())), conditional: /^\*Conditional/.test(why) });
  }
  return table;
}

/** The agent's keys in what the Collector received: "where key" strings. */
function emittedKeys(requests) {
  const out = new Set();
  const add = (where, list) => {
    for (const a of list ?? []) {
      // The app's own keys (this page names them app.*).
      if (!a.key.startsWith('app.')) out.add(`${where} ${a.key}`);
    }
  };
  for (const req of requests) {
    for (const rs of req.resourceSpans ?? []) {
      if (!(rs.resource?.attributes ?? []).some((a) => a.key === 'service.name' && a.value.stringValue === 'names-test')) continue;
      add('resource', rs.resource.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          add('span', s.attributes);
          for (const e of s.events ?? []) add('event', e.attributes);
          // A page view's link to the view before it (the route change
          // follows documentLoad, the second visit the route change).
          for (const l of s.links ?? []) add('link', l.attributes);
        }
      }
    }
  }
  return out;
}

let stack, server, collector, browser;

before(async () => {
  const api = (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Server-Timing': 'traceparent;desc="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"',
      });
      res.end('{"ok":true}');
    });
  };
  const gz = zlib.gzipSync(`window.gzLoaded = true;${' '.repeat(2000)}\n`);
  ({ server, collector, browser } = stack = await startStack({
    routes: {
      '/names/api': api,
      '/names/missing': (req, res) => { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('no'); },
      '/names/gz.js': (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/javascript', 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
        res.end(gz);
      },
    },
  }));
});

after(async () => {
  await stack?.stop();
});

test('every key the agent sends is in README\'s table, and every key there is sent', async () => {
  const table = readTable();
  const url = `${server.url}/pages/names/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, context, consoleMessages, pageErrors } = await openPage(browser, null);
  // A session whose last activity was 20 minutes ago: this page renews it
  // (session.end, then session.start with session.previous_id).
  await context.addInitScript(() => {
    if (sessionStorage.getItem('seeded')) return;
    sessionStorage.setItem('seeded', '1');
    const t = Date.now() - 20 * 60_000;
    localStorage.setItem('waggle.session', `${'ab'.repeat(16)}|${t}|${t}`);
  });
  await page.goto(url);
  assert.equal(await page.evaluate(() => window.ready), true, formatConsole(consoleMessages, pageErrors));
  await page.waitForFunction(() => window.page.shifted && document.getElementById('hero')?.complete, null, { timeout: 10_000 });
  await page.evaluate(() => window.page.requests());
  await page.click('#slow');
  await page.evaluate(() => window.page.route());
  await page.evaluate(() => window.page.errors());
  await page.evaluate(() => window.page.app());
  // Let the interaction, the route change and the error burst end.
  await new Promise((r) => setTimeout(r, 1500));
  // Clicks on a quiet page: dead, rage and error clicks.
  await page.evaluate(() => window.page.frustrate());
  await new Promise((r) => setTimeout(r, 500));
  await page.evaluate(() => window.page.throwingClick());
  await new Promise((r) => setTimeout(r, 500));
  await page.evaluate(() => window.waggle.flush());
  // Leaving sends CLS and INP, in keepalive requests the unloading page
  // cannot see answered: it counts their spans as unconfirmed in storage,
  // and the next page of the origin reports them (waggle.unconfirmed_spans).
  // In about one run in eight here the count arrived only with the page
  // after that one (the page was not kept in the back-forward cache; the
  // hand-over through storage is delivery's business, not this test's), so
  // the page is left a second time when the first did not show it.
  const required = [...table].filter(([, r]) => !r.conditional).flatMap(([k, r]) => [...r.on].map((w) => `${w} ${k}`));
  let emitted = new Set();
  for (let visit = 1; visit <= 2; visit++) {
    await page.goto(`${url}&visit=${visit}`);
    assert.equal(await page.evaluate(() => window.ready), true);
    await page.evaluate(() => window.waggle.flush());
    await collector.waitForSpans(() => {
      emitted = emittedKeys(collector.requests());
      return required.every((k) => emitted.has(k));
    }, 10_000).catch(() => {});
    if (emitted.has('resource waggle.unconfirmed_spans')) break;
  }

  const unlisted = [...emitted].filter((wk) => {
    const [where, key] = wk.split(' ');
    return !table.get(key)?.on.has(where);
  });
  const missing = required.filter((k) => !emitted.has(k));
  assert.deepEqual(unlisted, [], 'sent, but not in README\'s table (or not where it says)');
  assert.deepEqual(missing, [], 'in README\'s table, but never sent');
  assert.deepEqual(pageErrors.map((e) => e.message).filter((m) => m !== 'names boom'), []);
  await page.close();
});
