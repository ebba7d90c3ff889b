// Where the time goes: start-up split into its steps, a CPU profile of
// the burst split into buckets, and the per-span cost with the export out
// of the loop. Informative figures; no budget is judged on them.
import fs from 'node:fs';
import path from 'node:path';

import { demangle } from './demangle.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Start-up split into its parts, on a page that does each step itself.
export async function startupParts(browser, server, kind) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.blank());
  const res = await page.evaluate(async ([kind, endpoint]) => {
    const options = { serviceName: 'bench-page', endpoint };
    const now = () => performance.now();
    const blob = async (url) => URL.createObjectURL(new Blob([await (await fetch(url)).text()], { type: 'text/javascript' }));
    if (kind === 'waggle') {
      const url = await blob('/waggle-rum/index.js');
      const bytes = await (await fetch('/waggle-rum/waggle.wasm')).arrayBuffer();
      const t0 = now();
      const w = await import(url);
      const t1 = now();
      await w.loadAgent(bytes);
      const t2 = now();
      const p = w.init(options);
      const t3 = now();
      await p;
      const t4 = now();
      return { evaluateMs: t1 - t0, loadMs: t2 - t1, initSyncMs: t3 - t2, initMs: t4 - t2 };
    }
    const url = await blob('/otel/otel.js');
    const t0 = now();
    const otel = await import(url);
    const t1 = now();
    const p = otel.init(options);
    const t2 = now();
    await p;
    const t3 = now();
    return { evaluateMs: t1 - t0, initSyncMs: t2 - t1, initMs: t3 - t1 };
  }, [kind, `${server.origin}/nowhere`]);
  await context.close();
  if (errors.length) throw new Error(`start-up split (${kind}): page error\n${errors.join('\n')}`);
  return res;
}

const frameName = (f) => {
  const n = demangle(f.functionName || '(anonymous)').replace(/\[[0-9a-f]{16}\]/g, '');
  return f.url ? `${n}@${f.url.startsWith('wasm://') ? 'wasm' : f.url.replace(/^.*\//, '')}` : n;
};

// Samples taken inside the harness loop, split into buckets by the first
// pattern (in order) that a frame on their stack matches.
function analyseProfile(profile, buckets) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inLoop = new Map();
  let loopTotal = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const leaf = nodes.get(profile.samples[i]);
    if (leaf.callFrame.functionName === '(idle)') continue;
    const frames = [];
    for (let id = leaf.id; id; id = parent.get(id)) frames.push(nodes.get(id).callFrame);
    // The harness loop lives in the page's own inline script.
    if (!frames.some((f) => f.url.includes('/page/'))) continue;
    const stack = frames.map(frameName);
    loopTotal += dt;
    const bucket = buckets.find(([, re]) => stack.some((f) => re.test(f)))?.[0] ?? 'harness loop and other';
    inLoop.set(bucket, (inLoop.get(bucket) ?? 0) + dt);
  }
  const loop = [...inLoop.entries()].map(([key, us]) => ({ key, ms: us / 1000, share: us / loopTotal })).sort((a, b) => b.ms - a.ms);
  return { loopMs: loopTotal / 1000, loop };
}

const WAGGLE_BUCKETS = [
  ['end → the module, inside the loop (a batch taken, encoded, posted)', /@wasm$|^(call|encode|decode|exec|post|compress|pull)@/],
  ['end (queue the span, session check)', /^end@/],
  ['startSpan (span object, attributes copied)', /^(Span|pairs|startSpan)@/],
  ['GC', /garbage collector/],
];
const OTEL_BUCKETS = [
  ['export inside the loop (batch processor, serialise, fetch)', /_flushOneBatch|serializeRequest|fetch|export@/],
  ['end (SpanImpl.end, processor onEnd)', /^end@|onEnd|_addToBuffer|_maybeStartTimer/],
  ['startSpan (ids, sampler, attributes, clock)', /startSpan/],
  ['GC', /garbage collector/],
];

/** A CPU profile of one burst and flush(), on the readable builds. */
export async function profileBurst({ browser, server, sink, kind, spans, spanName, outDir, open, ready }) {
  const id = `prof-${kind}`;
  const how = kind === 'waggle' ? 'waggle-dev' : 'otel-dev';
  const run = await open(browser, server.page({ how, options: { serviceName: 'bench-page', endpoint: sink.endpoint(id) } }));
  await ready(run, `profile (${kind})`);
  await sleep(1000);
  await run.cdp.send('Profiler.enable');
  await run.cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await run.cdp.send('Profiler.start');
  const { t0, t1 } = await run.page.evaluate(([n, name]) => window.__bench.burst(n, name, { flush: true }), [spans, spanName]);
  // The work the burst leaves behind is part of what it costs.
  await sleep(1000);
  const { profile } = await run.cdp.send('Profiler.stop');
  run.check(`profile (${kind})`);
  await run.context.close();
  fs.writeFileSync(path.join(outDir, `burst-${kind}.cpuprofile`), JSON.stringify(profile));
  return { burstMs: t1 - t0, ...analyseProfile(profile, kind === 'waggle' ? WAGGLE_BUCKETS : OTEL_BUCKETS) };
}

/** The per-span cost with the export out of the loop (fastest of five loops of 2,000). */
export async function perSpanParts({ browser, server, sink, kind, spanName, open, ready, spans }) {
  const id = `parts-${kind}`;
  const options = { serviceName: 'bench-page', endpoint: sink.endpoint(id), ...(kind === 'waggle' ? { batch: { maxExportBatchSize: 5000, scheduledDelayMillis: 60000 } } : {}) };
  const run = await open(browser, server.page({ how: kind === 'waggle' ? 'snippet' : 'otel', options }));
  await ready(run, `per-span split (${kind})`);
  await sleep(500);
  const n = Math.min(spans, 2000);
  const res = await run.page.evaluate(async ([n, name]) => {
    const b = window.__bench;
    const tick = () => new Promise((r) => b.setTimeout(r, 0));
    const best = { withAttrs: Infinity, bare: Infinity, flush: Infinity };
    const flush = async () => {
      const t = performance.now();
      const p = b.api.flush();
      const d = performance.now() - t;
      await p;
      await tick();
      return d;
    };
    b.loop(200, name, true);
    b.loop(200, name, false);
    await flush();
    for (let rep = 0; rep < 5; rep++) {
      best.withAttrs = Math.min(best.withAttrs, b.loop(n, name, true));
      best.flush = Math.min(best.flush, await flush());
      best.bare = Math.min(best.bare, b.loop(n, name, false));
      await flush();
    }
    const us = (x) => (x * 1000) / n;
    return { withAttrsUs: us(best.withAttrs), bareUs: us(best.bare), flushUs: us(best.flush) };
  }, [n, spanName]);
  run.check(`per-span split (${kind})`);
  await run.context.close();
  return res;
}
