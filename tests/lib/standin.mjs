// Runs the OTLP/gRPC stand-in for Honeycomb's endpoint
// (tests/standin/otlp_standin.py, built on the official protobuf
// definitions) and reads what it recorded: each Export call's metadata and
// spans. It can be stopped and started again on the same port, and told to
// answer UNAVAILABLE, to model an ingest that goes away and comes back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';
import { flattenSpans, parseJsonLines } from './otlp.mjs';
import { summarizeSpans } from './collector.mjs';
import { sleep, spawnLogged, tailFile, venvPython } from './process.mjs';

const SCRIPT = path.join(REPO_ROOT, 'tests', 'standin', 'otlp_standin.py');

/** The Python with grpcio and opentelemetry-proto: $WAGGLE_STANDIN_PYTHON, else the setup venv. */
export function standinPython() {
  return venvPython('standin-venv', 'tests/standin/requirements.txt', { override: process.env.WAGGLE_STANDIN_PYTHON, what: "the stand-in's" });
}

/**
 * @param {object} [opts]
 * @param {number} [opts.port] default: a free one (kept across restart())
 * @param {boolean} [opts.countOnly] record span counts only (the load test)
 * @param {boolean} [opts.keep] keep the temp dir after stop()
 */
export async function startStandin({ port = 0, countOnly = false, keep = !!process.env.WAGGLE_KEEP_COLLECTOR_OUTPUT } = {}) {
  const python = standinPython();
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'waggle-standin-'));
  const file = path.join(dir, 'calls.jsonl');
  const logFile = path.join(dir, 'standin.log');
  // The running stand-in process (spawnLogged's handle), or null.
  let child = null;
  let finalText = null;

  async function launch() {
    const args = [SCRIPT, '--listen', `127.0.0.1:${port}`, '--out', file];
    if (countOnly) args.push('--count-only');
    // Its stdout says the port it listens on.
    const proc = spawnLogged(python, args, { logFile, pipeStdout: true });
    const listening = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`stand-in did not start in 15 s:\n${tail()}`)), 15_000);
      proc.child.stdout.setEncoding('utf8');
      proc.child.stdout.on('data', (d) => {
        out += d;
        const m = /listening [\d.]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.exitPromise.then((e) => {
        clearTimeout(timer);
        reject(new Error(`stand-in exited during start-up (${JSON.stringify(e)}):\n${tail()}`));
      });
    });
    port = listening;
    child = proc;
  }

  const tail = (lines = 20) => tailFile(logFile, lines, '(no stand-in log)');

  const readText = () => {
    if (finalText != null) return finalText;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') return '';
      throw err;
    }
  };

  async function halt() {
    if (!child) return;
    const proc = child;
    child = null;
    await proc.stop();
  }

  await launch();

  const standin = {
    get port() {
      return port;
    },
    /** host:port for HONEYCOMB_ENDPOINT. */
    get endpoint() {
      return `127.0.0.1:${port}`;
    },
    file,
    dir,
    logTail: tail,
    get running() {
      return child != null;
    },
    get pid() {
      return child?.child.pid;
    },
    /** One entry per Export call: { time, metadata, spans (count), request? }. */
    calls: () => parseJsonLines(readText()),
    /** Every span received, flattened as tests/lib/collector.mjs does, each with its call's metadata. */
    spans() {
      const out = [];
      for (const call of standin.calls()) {
        if (!call.request) continue;
        for (const span of flattenSpans([call.request])) out.push({ ...span, metadata: call.metadata });
      }
      return out;
    },
    /** Sum of the span counts of every call (works with countOnly). */
    spanCount: () => standin.calls().reduce((n, c) => n + c.spans, 0),

    async waitForSpans(predicate, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      let spans;
      for (;;) {
        spans = standin.spans();
        if (predicate(spans)) return spans;
        if (Date.now() > until) break;
        await sleep(100);
      }
      throw new Error(
        `stand-in: condition not met after ${timeoutMs} ms; ${standin.calls().length} call(s), ` +
          `${spans.length} span(s):\n${summarizeSpans(spans)}\n--- stand-in log ---\n${tail(10)}`,
      );
    },

    /** Answer UNAVAILABLE to every Export (nothing recorded) until accept(). */
    refuse: () => child?.child.kill('SIGUSR1'),
    accept: () => child?.child.kill('SIGUSR2'),
    /** Stops listening; up() starts it again on the same port. */
    down: halt,
    /** Starts again on the same port, appending to the same file. */
    async up() {
      if (!child) await launch();
    },
    async stop() {
      await halt();
      if (finalText == null) {
        finalText = readText();
        if (!keep) await fs.promises.rm(dir, { recursive: true, force: true });
      }
    },
  };
  return standin;
}
