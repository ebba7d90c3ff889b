#!/usr/bin/env node
// Load test of the Honeycomb relay, on loopback only: replays OTLP/JSON
// bodies the real agent sent (tests/fixtures/agent-payloads.jsonl, made by
// scripts/capture-payloads.mjs) at rising rates against the Collector running
// collector-config/honeycomb.yaml through scripts/collector-honeycomb.sh,
// exporting over gRPC to the stand-in for Honeycomb (tests/standin/, in
// count-only mode). Reports, per step: spans/s accepted, the Collector's CPU
// (from /proc) and so spans/s per core, request latency p50/p99, the
// Collector's peak RSS and heap, and refusals. A second run sets the memory
// limiter low while the stand-in refuses everything, to show the limiter
// holding: refusals instead of an out-of-memory kill.
//
//   node scripts/load-test.mjs [--rates 1000,2000,5000,10000,20000] [--seconds 10]
//                              [--limiter-seconds 30] [--out docs/load-test.md] [--no-write]
//
// `make load` runs it. Bounded: every step stops after its seconds, the
// whole run after about two minutes with the defaults.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { startCollector } from '../tests/lib/collector.mjs';
import { startStandin } from '../tests/lib/standin.mjs';
import { REPO_ROOT } from '../tests/lib/server.mjs';

export const FIXTURE = path.join(REPO_ROOT, 'tests', 'fixtures', 'agent-payloads.jsonl');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'collector-honeycomb.sh');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100;

function countSpans(body) {
  let n = 0;
  for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += (ss.spans ?? []).length;
  return n;
}

const randomHex = (len) => {
  let s = '';
  while (s.length < len) s += Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return s.slice(0, len);
};

/**
 * The captured bodies, `copies` times each, every copy with fresh trace and
 * span ids (parents and links remapped alike, so traces stay whole) and its
 * times moved to now. Returns [{ buf, spans }].
 */
export function prepareBodies(copies = 40, file = FIXTURE) {
  const originals = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const out = [];
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (let c = 0; c < copies; c++) {
    for (const original of originals) {
      const ids = new Map();
      const remap = (id, len) => {
        if (!id) return id;
        if (!ids.has(id)) ids.set(id, randomHex(len));
        return ids.get(id);
      };
      const body = structuredClone(original);
      let first = null;
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
        const t = BigInt(s.startTimeUnixNano);
        if (first == null || t < first) first = t;
      }
      const shift = nowNs - (first ?? nowNs);
      const move = (v) => (v == null ? v : String(BigInt(v) + shift));
      for (const rs of body.resourceSpans) {
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            s.traceId = remap(s.traceId, 32);
            s.spanId = remap(s.spanId, 16);
            if (s.parentSpanId) s.parentSpanId = remap(s.parentSpanId, 16);
            s.startTimeUnixNano = move(s.startTimeUnixNano);
            s.endTimeUnixNano = move(s.endTimeUnixNano);
            for (const e of s.events ?? []) e.timeUnixNano = move(e.timeUnixNano);
            for (const l of s.links ?? []) {
              l.traceId = remap(l.traceId, 32);
              l.spanId = remap(l.spanId, 16);
            }
          }
        }
      }
      out.push({ buf: Buffer.from(JSON.stringify(body)), spans: countSpans(body) });
    }
  }
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** utime+stime of a process in seconds, and its RSS in bytes. */
function procStats(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    return { cpu, rss, alive: true };
  } catch {
    return { cpu: NaN, rss: 0, alive: false };
  }
}

/**
 * Sends bodies to `url` for `seconds`: at `spansPerSec` (open loop: requests
 * are due on a fixed schedule; when `maxInFlight` are already waiting, a due
 * request is counted as `behind` instead of sent), or with `rate: 'max'`, as
 * fast as `maxInFlight` connections allow. Samples the Collector's CPU, RSS
 * and metrics while it runs.
 */
export async function runStep({ url, bodies, spansPerSec, seconds, collector, standin, maxInFlight = 64, onSample }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const target = new URL(url);
  const avgSpans = bodies.reduce((n, b) => n + b.spans, 0) / bodies.length;
  const closedLoop = spansPerSec === 'max';
  const reqPerSec = closedLoop ? Infinity : spansPerSec / avgSpans;
  const statuses = {};
  const latencies = [];
  let inFlight = 0;
  let sentReq = 0;
  let sentSpans = 0;
  let okSpans = 0;
  let refusedSpans = 0;
  let behind = 0;
  let errors = 0;
  let next = Math.floor(Math.random() * bodies.length);

  const send = () =>
    new Promise((resolve) => {
      const body = bodies[next++ % bodies.length];
      inFlight++;
      sentReq++;
      sentSpans += body.spans;
      const t0 = process.hrtime.bigint();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': body.buf.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode === 200) okSpans += body.spans;
            else refusedSpans += body.spans;
            inFlight--;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        refusedSpans += body.spans;
        inFlight--;
        resolve();
      });
      req.end(body.buf);
    });

  const before = procStats(collector.pid);
  const standinBefore = standin?.pid ? procStats(standin.pid) : null;
  const metricsBefore = await collector.metrics();
  const genCpu0 = process.cpuUsage();
  let peakRss = before.rss;
  let peakHeap = 0;
  const samples = [];
  // RSS from /proc often; the metrics endpoint once a second, since
  // answering it costs the Collector CPU too.
  let ticks = 0;
  const sampler = setInterval(async () => {
    const s = procStats(collector.pid);
    peakRss = Math.max(peakRss, s.rss);
    if (ticks++ % 4 !== 0) return;
    try {
      const m = await collector.metrics();
      peakHeap = Math.max(peakHeap, m.otelcol_process_runtime_heap_alloc_bytes ?? 0);
      const sample = { t: Date.now(), rss: s.rss, heap: m.otelcol_process_runtime_heap_alloc_bytes, queue: m.otelcol_exporter_queue_size };
      samples.push(sample);
      onSample?.(sample);
    } catch {
      // A scrape can fail under load; the next one will do.
    }
  }, 250);

  const start = Date.now();
  const end = start + seconds * 1000;
  const pending = new Set();
  if (closedLoop) {
    const worker = async () => {
      while (Date.now() < end) await send();
    };
    await Promise.all(Array.from({ length: maxInFlight }, worker));
  } else {
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - start) / 1000) * reqPerSec) - sentReq - behind;
      for (let i = 0; i < due; i++) {
        if (inFlight >= maxInFlight) {
          behind++;
          continue;
        }
        const p = send();
        pending.add(p);
        p.then(() => pending.delete(p));
      }
      await sleep(5);
    }
    await Promise.all(pending);
  }
  const wall = (Date.now() - start) / 1000;
  clearInterval(sampler);
  const after = procStats(collector.pid);
  const standinCores = standinBefore ? (procStats(standin.pid).cpu - standinBefore.cpu) / wall : NaN;
  const genCpu = process.cpuUsage(genCpu0);
  agent.destroy();
  const metricsAfter = await collector.metrics().catch(() => ({}));
  const delta = (k) => (metricsAfter[k] ?? 0) - (metricsBefore[k] ?? 0);
  const sorted = latencies.sort((a, b) => a - b);
  const cpuSeconds = after.cpu - before.cpu;
  const accepted = delta('otelcol_receiver_accepted_spans');
  return {
    target: spansPerSec,
    seconds: wall,
    sentSpans,
    okSpans,
    refusedSpans,
    behind,
    errors,
    statuses,
    acceptedPerSec: accepted / wall,
    collectorAccepted: accepted,
    collectorRefused: delta('otelcol_receiver_refused_spans'),
    limiterRefused: delta('otelcol_processor_memory_limiter_refused_spans'),
    cores: cpuSeconds / wall,
    perCore: cpuSeconds > 0 ? accepted / cpuSeconds : NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    peakRss,
    peakHeap,
    generatorCores: (genCpu.user + genCpu.system) / 1e6 / wall,
    standinCores,
    alive: after.alive,
    samples,
  };
}

/** Waits until the relay has exported everything it accepted. */
async function drain(collector, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await collector.metrics();
    if ((m.otelcol_exporter_queue_size ?? 0) === 0) {
      await sleep(1500); // the batch processor's 1 s timeout
      const again = await collector.metrics();
      if ((again.otelcol_exporter_queue_size ?? 0) === 0) return again;
    }
    if (Date.now() > until) return m;
    await sleep(250);
  }
}

const mib = (b) => (b / 1048576).toFixed(0);
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model ?? '?';
  let collectorVersion = '?';
  try {
    const bin = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'collector.sh')], { encoding: 'utf8' }).trim().split('\n').pop();
    collectorVersion = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as '?'.
  }
  return {
    cpu,
    cores: os.cpus().length,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
    load: os.loadavg().map((l) => l.toFixed(1)).join(' '),
    node: process.version,
    collectorVersion,
  };
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const rates = opt('rates', '1000,2000,5000,10000,20000').split(',').map(Number);
  const seconds = Number(opt('seconds', 10));
  const limiterSeconds = Number(opt('limiter-seconds', 30));
  const out = path.resolve(opt('out', path.join(REPO_ROOT, 'docs', 'load-test.md')));
  const write = !args.includes('--no-write');
  const info = machine();
  const started = new Date();
  const bodies = prepareBodies(40);
  const avgSpans = bodies.reduce((n, b) => n + b.spans, 0) / bodies.length;
  const avgBytes = bodies.reduce((n, b) => n + b.buf.length, 0) / bodies.length;
  console.log(`load test: ${bodies.length} bodies (avg ${avgSpans.toFixed(1)} spans, ${(avgBytes / 1024).toFixed(1)} KiB), machine ${info.cpu}, ${info.cores} cores, load ${info.load}`);

  const relayEnv = (standin, extra = {}) => ({
    HONEYCOMB_API_KEY: 'load-test-key',
    HONEYCOMB_ENDPOINT: standin.endpoint,
    HONEYCOMB_INSECURE: 'true',
    WAGGLE_ALLOWED_ORIGINS: '["http://localhost:8080"]',
    HONEYCOMB_DATASET: '',
    ...extra,
  });

  // Run 1: the shipped settings, rising rates, then as fast as it goes.
  const standin = await startStandin({ countOnly: true });
  let collector = await startCollector({ command: ['bash', SCRIPT], env: relayEnv(standin) });
  const steps = [];
  let totals;
  try {
    for (const rate of [...rates, 'max']) {
      // Open-loop steps model many browsers: up to 256 requests at once.
      const r = await runStep({ url: collector.tracesUrl, bodies, spansPerSec: rate, seconds, collector, standin, maxInFlight: rate === 'max' ? 64 : 256 });
      const drained = await drain(collector);
      r.exported = drained.otelcol_exporter_sent_spans;
      steps.push(r);
      console.log(
        `  ${String(rate).padStart(6)} spans/s: accepted ${fmt(r.acceptedPerSec)}/s, collector ${fmt(r.cores, 2)} cores ` +
          `(${fmt(r.perCore)} spans/s per core), p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, ` +
          `RSS ${mib(r.peakRss)} MiB, refused ${r.refusedSpans}, behind ${r.behind}, generator ${fmt(r.generatorCores, 2)} cores, stand-in ${fmt(r.standinCores, 2)} cores`,
      );
    }
    const final = await collector.metrics();
    totals = {
      accepted: final.otelcol_receiver_accepted_spans ?? 0,
      sent: final.otelcol_exporter_sent_spans ?? 0,
      failed: final.otelcol_exporter_send_failed_spans ?? 0,
    };
  } finally {
    await collector.stop();
  }
  // Export attempts that failed and were retried, by reason: a retry of a
  // batch the stand-in had recorded but answered too late is a duplicate.
  const retries = {};
  for (const line of collector.logTail(1e6).split('\n')) {
    if (!line.includes('Will retry the request')) continue;
    const reason = /"error": "([^"]*)"/.exec(line)?.[1]?.replace(/\d+(\.\d+)?(ms|s)/g, 'N') ?? '?';
    retries[reason] = (retries[reason] ?? 0) + 1;
  }
  totals.arrived = standin.spanCount();
  totals.retries = retries;

  // Run 2: Honeycomb refuses everything and the limiter is set low, so the
  // queue grows until the limiter refuses.
  // As if in a 512 MiB container: the limiter's hard limit and GOMEMLIMIT
  // (the start script sets it to the limit) at 360 MiB, a 20 % spike.
  const limit = { container: 512, mib: 360, spike: 72 };
  collector = await startCollector({
    command: ['bash', SCRIPT],
    env: relayEnv(standin, {
      WAGGLE_MEMORY_LIMIT_MIB: String(limit.mib),
      WAGGLE_MEMORY_SPIKE_MIB: String(limit.spike),
      WAGGLE_RETRY_INITIAL_INTERVAL: '500ms',
      WAGGLE_RETRY_MAX_INTERVAL: '2s',
    }),
  });
  standin.refuse();
  let limiter;
  let drainSeconds = NaN;
  const points = [];
  try {
    const limiterRate = 20000;
    limiter = await runStep({
      url: collector.tracesUrl,
      bodies,
      spansPerSec: limiterRate,
      seconds: limiterSeconds,
      collector,
      onSample: (s) => points.push(s),
    });
    limiter.target = limiterRate;
    // After the limiter is past, Honeycomb is back: the queue drains.
    const arrivedBefore = standin.spanCount();
    standin.accept();
    const t0 = Date.now();
    const m = await drain(collector, 60_000);
    drainSeconds = (Date.now() - t0) / 1000;
    limiter.drainedSpans = standin.spanCount() - arrivedBefore;
    limiter.queueAfter = m.otelcol_exporter_queue_size;
    limiter.alive = procStats(collector.pid).alive;
  } finally {
    await collector.stop();
    await standin.stop();
  }
  // Heap per queued span: the slope of heap over queue length while the
  // queue grew and the limiter had not yet refused.
  const growing = points.filter((p) => p.queue > 0 && p.heap > 0);
  let bytesPerSpan = NaN;
  let baseHeap = NaN;
  if (growing.length > 3) {
    const n = growing.length;
    const mx = growing.reduce((a, p) => a + p.queue, 0) / n;
    const my = growing.reduce((a, p) => a + p.heap, 0) / n;
    const sxy = growing.reduce((a, p) => a + (p.queue - mx) * (p.heap - my), 0);
    const sxx = growing.reduce((a, p) => a + (p.queue - mx) ** 2, 0);
    bytesPerSpan = sxx > 0 ? sxy / sxx : NaN;
    baseHeap = my - bytesPerSpan * mx;
  }
  const maxQueue = Math.max(0, ...points.map((p) => p.queue ?? 0));

  const report = renderReport({ info, started, rates, seconds, steps, totals, limiter, limit, limiterSeconds, drainSeconds, bytesPerSpan, baseHeap, maxQueue, avgSpans, avgBytes, bodies: bodies.length });
  console.log('\n' + report);
  if (write) {
    fs.writeFileSync(out, report);
    console.log(`written to ${path.relative(process.cwd(), out)}`);
  }
}

function deliveryNote(t) {
  const retried = Object.entries(t.retries).map(([k, v]) => `${v} × \`${k}\``).join(', ');
  const head = `Over the run the Collector accepted ${fmt(t.accepted)} spans and reported ${fmt(t.sent)} exported, ${fmt(t.failed)} given up; the stand-in received ${fmt(t.arrived)}.`;
  if (t.arrived === t.accepted) return `${head} Every accepted span arrived once${retried ? ` (exports retried: ${retried})` : ''}.`;
  if (t.arrived > t.accepted) {
    return `${head} The ${fmt(t.arrived - t.accepted)} extra are batches delivered twice: exports retried after ${retried || 'a failure'}, whose first attempt had reached the stand-in but was answered too late. OTLP export is at-least-once; Honeycomb stores such a retry as a second copy.`;
  }
  return `${head} **${fmt(t.accepted - t.arrived)} accepted spans did not arrive**${retried ? ` (exports retried: ${retried})` : ''}.`;
}

function renderReport(r) {
  const rows = r.steps.map((s) =>
    `| ${s.target === 'max' ? 'as fast as 64 connections go' : fmt(s.target)} | ${fmt(s.acceptedPerSec)} | ${fmt(s.cores, 2)} | ${fmt(s.perCore)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${mib(s.peakRss)} | ${mib(s.peakHeap)} | ${fmt(s.refusedSpans)} | ${fmt(s.behind)} | ${fmt(s.generatorCores, 2)} | ${fmt(s.standinCores, 2)} |`,
  );
  const sustained = r.steps.filter((s) => s.target !== 'max' && s.refusedSpans === 0 && s.behind === 0);
  const best = r.steps.reduce((a, s) => (s.acceptedPerSec > (a?.acceptedPerSec ?? 0) ? s : a), null);
  const perCore = r.steps.filter((s) => s.acceptedPerSec > 2000 && Number.isFinite(s.perCore)).map((s) => s.perCore);
  const minPerCore = perCore.length ? Math.min(...perCore) : NaN;
  const maxCores = Math.max(...r.steps.map((s) => s.cores));
  const l = r.limiter;
  return `# Load test of the Honeycomb relay

Made by \`make load\` (\`node scripts/load-test.mjs\`); rerun it to replace
this file. Loopback only: the load generator, the Collector and the stand-in
for Honeycomb share one machine.

- **Date:** ${r.started.toISOString().slice(0, 16).replace('T', ' ')} UTC
- **Machine:** ${r.info.cpu}, ${r.info.cores} cores, ${r.info.memGiB} GiB; load average at start ${r.info.load} (the cores are shared with other work, so latency figures are pessimistic)
- **Collector:** ${r.info.collectorVersion}, \`collector-config/honeycomb.yaml\` as shipped, started by \`scripts/collector-honeycomb.sh\`
- **Exporting to:** the stand-in for Honeycomb (\`tests/standin/otlp_standin.py\`, OTLP/gRPC, gzip, counting spans only), so the transform, batch, gzip and gRPC export work is all in the figures
- **Load:** ${r.bodies} OTLP/JSON bodies from \`tests/fixtures/agent-payloads.jsonl\` (what the agent POSTed during visits to \`tests/pages/relay/shop.html\`: page loads with resource timings, API call, click and error spans), each replayed with fresh trace and span ids; on average ${r.avgSpans.toFixed(1)} spans and ${(r.avgBytes / 1024).toFixed(1)} KiB per body; Node ${r.info.node}, up to 256 requests in flight (64 connections in the last step), ${r.seconds} s per step

## Rising rates

| target spans/s | accepted spans/s | Collector cores | spans/s per core | p50 ms | p99 ms | peak RSS MiB | peak heap MiB | refused spans | not sent (256 already in flight) | generator cores | stand-in cores |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

"Collector cores" is the Collector's CPU time (user + system, from
\`/proc/<pid>/stat\`) over the step's wall time; "spans/s per core" is the
spans it accepted per CPU-second. ${deliveryNote(r.totals)}

- Highest step held in full (nothing refused, no request waiting for a free connection): **${sustained.length ? fmt(Math.max(...sustained.map((s) => s.acceptedPerSec))) : '-'} spans/s**; most accepted in a step: **${best ? fmt(best.acceptedPerSec) : '-'} spans/s** on this machine, where the load generator and the stand-in take CPU too.
- Cost: **at least ${fmt(minPerCore)} spans/s per Collector core** (the lowest per-core figure of the steps above 2,000 spans/s).
- The Collector never used more than ${fmt(maxCores, 2)} of the ${r.info.cores} cores. ${Number(r.info.load.split(' ')[0]) > r.info.cores ? `With the load average at ${r.info.load.split(' ')[0]} the cores were mostly busy with other work, so the highest rates here are bounded by the CPU the Collector could get, and its latency by waiting for it; size with the per-core figures.` : 'Above that the load generator and the stand-in had the rest.'}

## The memory limiter holding

Second run, sized for a ${r.limit.container} MiB container: \`WAGGLE_MEMORY_LIMIT_MIB=${r.limit.mib}\`,
\`WAGGLE_MEMORY_SPIKE_MIB=${r.limit.spike}\`, \`GOMEMLIMIT=${r.limit.mib}MiB\` (the start script's default), the
sending queue as shipped (1,000,000 spans), and the stand-in answering
UNAVAILABLE to every export (Honeycomb overloaded), while ${fmt(l.target)} spans/s
arrive for ${r.limiterSeconds} s. The queue grows until the heap reaches the limiter's
soft limit (${r.limit.mib - r.limit.spike} MiB); from then on the receiver refuses.

| sent spans | accepted (200) | refused spans (memory limiter's count) | HTTP statuses | peak queue (spans) | peak heap MiB | peak RSS MiB (container: ${r.limit.container}) | Collector alive after | drained when Honeycomb came back |
| ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |
| ${fmt(l.sentSpans)} | ${fmt(l.okSpans)} | ${fmt(l.refusedSpans)} (${fmt(l.limiterRefused)}) | ${Object.entries(l.statuses).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ')} | ${fmt(r.maxQueue)} | ${mib(l.peakHeap)} | ${mib(l.peakRss)} | ${l.alive ? 'yes' : '**no**'} | ${fmt(l.drainedSpans)} spans in ${fmt(r.drainSeconds, 1)} s, queue ${fmt(l.queueAfter)} after |

- Heap per queued span (slope of heap over queue length): **about ${fmt(r.bytesPerSpan / 1024, 1)} KiB**. With the shipped limit (1536 MiB, soft limit 1236 MiB) the limiter starts refusing when about ${fmt((1236 * 1048576 - r.baseHeap) / r.bytesPerSpan / 1000)} thousand spans are queued, before the queue's own bound (\`WAGGLE_QUEUE_SPANS\`, default 1,000,000) would drop any.
- Browsers get the refusal as an HTTP error and keep the spans in their own queue and retry (README, Delivery); nothing the relay accepted was dropped.
`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
