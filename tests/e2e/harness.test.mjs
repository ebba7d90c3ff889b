// Proves the harness itself against a real collector, before any agent code
// is involved: a hand-written OTLP/JSON export from a page on an allowed
// origin must arrive, and the same export from any other origin must be
// refused by the browser's CORS check and never reach the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, attrsOf } from '../lib/collector.mjs';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';
import { buildTraces, formatTraces } from '../../scripts/print-trace.mjs';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>harness</title>
<script>
  window.sendSpan = async (endpoint, traceId, spanId, name) => {
    const now = BigInt(Date.now()) * 1000000n;
    const body = {
      resourceSpans: [{
        resource: { attributes: [
          { key: 'service.name', value: { stringValue: 'harness-page' } },
        ] },
        scopeSpans: [{
          scope: { name: 'harness', version: '0' },
          spans: [{
            traceId, spanId, name, kind: 1,
            startTimeUnixNano: String(now - 1500000n),
            endTimeUnixNano: String(now),
            attributes: [
              { key: 'page.origin', value: { stringValue: location.origin } },
              { key: 'harness.count', value: { intValue: '42' } },
              { key: 'harness.ratio', value: { doubleValue: 0.5 } },
              { key: 'harness.ok', value: { boolValue: true } },
              { key: 'harness.list', value: { arrayValue: { values: [
                { stringValue: 'a' }, { intValue: '2' },
              ] } } },
            ],
          }],
        }],
      }],
    };
    try {
      const res = await fetch(endpoint + '/v1/traces', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { ok: res.ok, status: res.status, text: await res.text() };
    } catch (err) {
      return { error: String(err) };
    }
  };
</script>
<p>harness</p>
`;

const hex = (bytes) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

const routes = {
  '/harness.html': (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(PAGE);
  },
};

let collector;
let allowed;
let denied;
let browser;

before(async () => {
  // Both page servers first: the allowed origin must be known (port
  // included) before the collector starts.
  [allowed, denied, browser] = await Promise.all([
    startServer({ mounts: {}, routes, host: 'localhost' }),
    startServer({ mounts: {}, routes, host: '127.0.0.1' }),
    launchBrowser(),
  ]);
  collector = await startCollector({ allowedOrigins: [allowed.origin] });
});

after(async () => {
  await Promise.allSettled([browser?.close(), allowed?.close(), denied?.close()]);
  await collector?.stop();
});

test('a span POSTed from an allowed origin arrives with its attributes', async () => {
  const { page, consoleMessages, pageErrors } = await openPage(browser, `${allowed.url}/harness.html`);
  const traceId = hex(16);
  const spanId = hex(8);
  const result = await page.evaluate(
    ([endpoint, t, s]) => window.sendSpan(endpoint, t, s, 'harness-span'),
    [collector.endpoint, traceId, spanId],
  );
  assert.equal(result.error, undefined, `fetch failed: ${result.error}\n${formatConsole(consoleMessages, pageErrors)}`);
  assert.equal(result.status, 200, result.text);

  const spans = await collector.waitForSpans((all) => all.some((s) => s.spanId === spanId));
  const span = spans.find((s) => s.spanId === spanId);
  assert.equal(span.traceId, traceId);
  assert.equal(span.name, 'harness-span');
  assert.equal(span.resource['service.name'], 'harness-page');
  assert.equal(span.scope.name, 'harness');
  assert.deepEqual(span.spanAttrs, {
    'page.origin': allowed.origin,
    'harness.count': 42,
    'harness.ratio': 0.5,
    'harness.ok': true,
    'harness.list': ['a', 2],
  });
  assert.deepEqual(attrsOf(span.attributes), span.spanAttrs);
  assert.equal(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano), 1_500_000n);

  const [trace] = buildTraces(spans.filter((s) => s.traceId === traceId));
  assert.equal(trace.spanCount, 1);
  assert.match(formatTraces([trace]), /harness-span {2}1\.5ms {2}\[harness-page\]/);
  await page.close();
});

test('a POST from an origin not in allowedOrigins is blocked by CORS', async () => {
  const { page, consoleMessages } = await openPage(browser, `${denied.url}/harness.html`);
  const before = collector.requests().length;
  const spanId = hex(8);
  const result = await page.evaluate(
    ([endpoint, t, s]) => window.sendSpan(endpoint, t, s, 'denied-span'),
    [collector.endpoint, hex(16), spanId],
  );
  assert.match(result.error ?? '', /TypeError|Failed to fetch/, `expected a CORS failure, got ${JSON.stringify(result)}`);
  assert.ok(
    consoleMessages.some((m) => /CORS/i.test(m.text)),
    `expected a CORS console error, got:\n${formatConsole(consoleMessages)}`,
  );
  // Longer than the collector's batch timeout and file flush together, so an
  // export that had got through would be on disk by now.
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(collector.requests().length, before);
  assert.ok(!collector.spans().some((s) => s.spanId === spanId));
  await page.close();
});
