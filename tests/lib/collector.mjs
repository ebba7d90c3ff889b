// Runs a real OpenTelemetry Collector (the one scripts/collector.sh builds)
// for a test, on its own ports and with its own output file, so tests can run
// side by side and never see each other's spans.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';
import { flattenSpans, parseJsonLines } from './otlp.mjs';
import { sleep, spawnLogged, tailFile, tailText, waitHealthy } from './process.mjs';

export { attrsOf, flattenSpans, parseJsonLines, plainValue } from './otlp.mjs';

const DEFAULT_CONFIG = path.join(REPO_ROOT, 'collector-config', 'local.yaml');
// Never a real origin: keeps the config's built-in defaults (which name
// ports a developer's demo may be using) out of a test's allow-list.
const NO_ORIGIN = 'http://no-origin.invalid';

let binaryPromise;

/**
 * Path of the collector binary. scripts/collector.sh may build it (minutes on
 * the first run), so it runs once per process and its progress messages go
 * straight to our stderr.
 */
export function collectorBinary() {
  binaryPromise ??= new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(REPO_ROOT, 'scripts', 'collector.sh')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const bin = out.trim().split('\n').filter(Boolean).pop();
      if (code !== 0 || !bin) {
        reject(new Error(`scripts/collector.sh failed (exit ${code}); see its messages above`));
      } else {
        resolve(bin);
      }
    });
  });
  // A failed build should be retried by the next caller, not cached.
  binaryPromise.catch(() => (binaryPromise = undefined));
  return binaryPromise;
}

/** Free TCP ports on loopback, all distinct. */
export async function freePorts(n, host = '127.0.0.1') {
  // Hold every socket open until all are chosen so the OS cannot hand out the
  // same port twice.
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One line per span, for failure messages. */
export function summarizeSpans(spans, limit = 40) {
  if (spans.length === 0) return '  (no spans)';
  const lines = spans.slice(0, limit).map((s) => {
    const svc = s.resource?.['service.name'] ?? '?';
    const keys = Object.entries(s.attrs ?? {})
      .slice(0, 6)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    return `  [${svc}] ${s.name} trace=${s.traceId?.slice(0, 8)} span=${s.spanId?.slice(0, 8)} parent=${(s.parentSpanId || '-').slice(0, 8)} ${keys}`;
  });
  if (spans.length > limit) lines.push(`  ... and ${spans.length - limit} more`);
  return lines.join('\n');
}

const tail = (file, lines = 40) => tailFile(file, lines, '(no collector log)');

/**
 * Prometheus text format -> { name: total over every label set }, enough
 * for counters and gauges; histogram series keep their _bucket/_sum/_count
 * names.
 */
export function parsePrometheus(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[m[1]] = (out[m[1]] ?? 0) + v;
  }
  return out;
}

/**
 * @param {object} [opts]
 * @param {string[]} [opts.allowedOrigins] CORS origins (at most 2), e.g. ['http://localhost:1234']
 * @param {number} [opts.httpPort] OTLP/HTTP receiver port (default: a free one)
 * @param {number} [opts.healthPort] health_check port (default: a free one)
 * @param {string|string[]} [opts.config] collector config(s), merged in order (default collector-config/local.yaml)
 * @param {string[]} [opts.command] run this instead of the binary with --config, e.g.
 *   ['bash', path.join(REPO_ROOT, 'scripts/collector-honeycomb.sh')] (absolute: it runs in a temp
 *   dir; it must exec the collector so that stop() reaches it)
 * @param {number} [opts.metricsPort] the collector's own Prometheus metrics port, for configs that
 *   read WAGGLE_METRICS_PORT (default: a free one)
 * @param {string} [opts.debugVerbosity] debug exporter verbosity: basic|normal|detailed
 * @param {string} [opts.logLevel] collector log level
 * @param {{folder?: string, url?: string}} [opts.sourceMaps] where the sourcemap processor looks
 *   for maps: a folder laid out as the site serves its scripts, a URL prefix (default: neither, so
 *   it passes spans through)
 * @param {Record<string,string>} [opts.env] extra environment
 * @param {number} [opts.startTimeoutMs]
 * @param {boolean} [opts.keep] keep the temp dir after stop() (also WAGGLE_KEEP_COLLECTOR_OUTPUT=1)
 */
export async function startCollector(opts = {}) {
  const {
    allowedOrigins = [],
    config = DEFAULT_CONFIG,
    debugVerbosity = 'basic',
    logLevel = 'info',
    env: extraEnv = {},
    startTimeoutMs = 30_000,
    keep = !!process.env.WAGGLE_KEEP_COLLECTOR_OUTPUT,
  } = opts;
  if (allowedOrigins.length > 2) {
    throw new Error('collector-config/local.yaml has room for 2 allowed origins');
  }
  const bin = await collectorBinary();

  let { httpPort, healthPort, metricsPort } = opts;
  if (httpPort == null || healthPort == null || metricsPort == null) {
    const free = (await freePorts(3)).filter((p) => ![httpPort, healthPort, metricsPort].includes(p));
    httpPort ??= free.shift();
    healthPort ??= free.shift();
    metricsPort ??= free.shift();
  }

  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'waggle-collector-'));
  const file = path.join(dir, 'spans.jsonl');
  const logFile = path.join(dir, 'collector.log');
  const env = {
    ...process.env,
    // 127.0.0.1 rather than localhost: Go would pick one family for
    // "localhost" and the free-port probe above was made on IPv4.
    WAGGLE_OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
    // The same address under the name collector-config/honeycomb.yaml reads.
    WAGGLE_LISTEN: `127.0.0.1:${httpPort}`,
    WAGGLE_METRICS_HOST: '127.0.0.1',
    WAGGLE_METRICS_PORT: String(metricsPort),
    WAGGLE_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
    WAGGLE_ALLOWED_ORIGIN: allowedOrigins[0] ?? NO_ORIGIN,
    WAGGLE_ALLOWED_ORIGIN_2: allowedOrigins[1] ?? allowedOrigins[0] ?? NO_ORIGIN,
    WAGGLE_OTLP_FILE: file,
    WAGGLE_DEBUG_VERBOSITY: debugVerbosity,
    WAGGLE_COLLECTOR_LOG_LEVEL: logLevel,
    // Never the developer's own, so a test sees only the maps it names.
    WAGGLE_SOURCE_MAPS_DIR: opts.sourceMaps?.folder ?? '',
    WAGGLE_SOURCE_MAPS_URL: opts.sourceMaps?.url ?? '',
    ...extraEnv,
  };

  const configs = Array.isArray(config) ? config : [config];
  const [file0, ...args] = opts.command ?? [bin, ...configs.flatMap((c) => ['--config', c])];
  const proc = spawnLogged(file0, args, { cwd: dir, env, logFile });
  const { child, exited: exitedNow } = proc;

  const failure = (msg) =>
    new Error(`${msg}\n--- collector log (${logFile}) ---\n${tail(logFile)}\n---`);

  const healthUrl = `http://127.0.0.1:${healthPort}/`;
  await waitHealthy(proc, healthUrl, { what: 'collector', timeoutMs: startTimeoutMs, failure });

  // After stop() the temp dir may be gone; the last contents stay readable.
  let finalText = null;
  let finalLog = null;
  const readText = () => {
    if (finalText != null) return finalText;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') return '';
      throw err;
    }
  };

  const collector = {
    endpoint: `http://localhost:${httpPort}`,
    tracesUrl: `http://localhost:${httpPort}/v1/traces`,
    httpPort,
    healthPort,
    metricsPort,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    file,
    dir,
    logFile,
    pid: child.pid,
    requests: () => parseJsonLines(readText()),
    spans: () => flattenSpans(collector.requests()),
    /**
     * The collector's own metrics, from configs that serve them (such as
     * honeycomb.yaml): { otelcol_receiver_accepted_spans: 12, ... }, each
     * summed over its label sets.
     */
    async metrics() {
      const res = await fetch(collector.metricsUrl, { signal: AbortSignal.timeout(5000) });
      return parsePrometheus(await res.text());
    },
    logTail: (lines = 40) => (finalLog != null ? tailText(finalLog, lines) : tail(logFile, lines)),

    async waitForSpans(predicate, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      let spans = [];
      for (;;) {
        spans = collector.spans();
        if (predicate(spans)) return spans;
        const exited = exitedNow();
        if (exited && finalText == null) {
          throw failure(`collector exited (code ${exited.code}, signal ${exited.signal}) while waiting for spans`);
        }
        if (Date.now() > until) break;
        await sleep(100);
      }
      throw new Error(
        `waitForSpans: condition not met after ${timeoutMs} ms; ` +
          `${collector.requests().length} export(s), ${spans.length} span(s) arrived:\n` +
          summarizeSpans(spans) +
          `\n--- collector log tail ---\n${collector.logTail(15)}`,
      );
    },

    async stop() {
      const exited = await proc.stop();
      if (finalText == null) {
        finalText = '';
        try {
          finalText = fs.readFileSync(file, 'utf8');
        } catch {
          // Nothing was ever exported.
        }
        try {
          finalLog = fs.readFileSync(logFile, 'utf8');
        } catch {
          finalLog = '';
        }
        if (!keep) await fs.promises.rm(dir, { recursive: true, force: true });
      }
      return exited;
    },
  };
  return collector;
}
