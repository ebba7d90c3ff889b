#!/usr/bin/env node
// Records the OTLP/JSON bodies the real agent POSTs during shoppers' visits
// to tests/pages/relay/shop.html (headless Chromium, the local Collector),
// one body per line, for the load test to replay:
//
//   node scripts/capture-payloads.mjs [--visits 6] [--out tests/fixtures/agent-payloads.jsonl]
//
// Needs the package built (bash scripts/build.sh). The bodies are exactly
// what went over the wire; the load test gives each replay fresh ids.
import fs from 'node:fs';
import path from 'node:path';
import { startCollector } from '../tests/lib/collector.mjs';
import { bodyText } from '../tests/lib/otlp.mjs';
import { startServer, REPO_ROOT } from '../tests/lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../tests/lib/browser.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const visits = Number(opt('visits', 6));
const out = path.resolve(opt('out', path.join(REPO_ROOT, 'tests', 'fixtures', 'agent-payloads.jsonl')));

const server = await startServer({ mounts: { '/pkg/': 'pkg', '/pages/': 'tests/pages' } });
const collector = await startCollector({ allowedOrigins: [server.origin] });
const browser = await launchBrowser();
const bodies = [];
try {
  for (let v = 0; v < visits; v++) {
    const { page, consoleMessages, pageErrors } = await openPage(browser, null);
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url() === collector.tracesUrl) bodies.push(bodyText(req.postDataBuffer(), req.headers()['content-encoding']));
    });
    await page.goto(`${server.url}/pages/relay/shop.html?endpoint=${encodeURIComponent(collector.endpoint)}&user=${v + 1}&ref=campaign-${v % 3}`);
    const ready = await page.evaluate(() => window.ready);
    if (ready !== true) throw new Error(`agent did not start: ${ready}\n${formatConsole(consoleMessages, pageErrors)}`);
    // 1 to 4 products in the cart: visits of different lengths.
    await page.evaluate((n) => window.visit(n), 1 + (v % 4));
    // Leaving the page sends what is left with keepalive, as real visits end.
    await page.close({ runBeforeUnload: true });
  }
  await new Promise((r) => setTimeout(r, 500));
} finally {
  await browser.close();
  await collector.stop();
  await server.close();
}
const spans = bodies.reduce((n, b) => n + JSON.parse(b).resourceSpans.reduce((m, rs) => m + rs.scopeSpans.reduce((k, ss) => k + ss.spans.length, 0), 0), 0);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, bodies.map((b) => b.replace(/\n/g, '') + '\n').join(''));
console.log(`${bodies.length} bodies, ${spans} spans, ${fs.statSync(out).size} bytes -> ${path.relative(process.cwd(), out)}`);
