// Runs the demo backend (www/backend/app.py, Flask with the OpenTelemetry
// Python SDK) for a test, on a free port, sending its spans to the test's
// own collector.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';
import { freePorts } from './collector.mjs';
import { spawnLogged, tailFile, venvPython, waitHealthy } from './process.mjs';

const APP = path.join(REPO_ROOT, 'www', 'backend', 'app.py');

/**
 * The Python that runs the backend: $WAGGLE_PYTHON, else the virtualenv that
 * scripts/setup.sh builds from www/backend/requirements.txt.
 */
export function backendPython() {
  return venvPython('venv', 'www/backend/requirements.txt', { override: process.env.WAGGLE_PYTHON, what: "the backend's" });
}

const tail = (file, lines = 40) => tailFile(file, lines, '(no backend log)');

/**
 * @param {object} opts
 * @param {string} opts.collectorEndpoint OTLP/HTTP base URL for the backend's spans and the page's agent
 * @param {string[]} [opts.corsOrigins] origins allowed to call /api/ cross-origin
 * @param {number} [opts.port] default: a free one
 * @param {string} [opts.serviceName] default: the app's own (waggle-demo-backend)
 * @param {number} [opts.scheduleDelayMs] span export interval (default 100)
 * @param {Record<string,string>} [opts.env] extra environment
 * @param {number} [opts.startTimeoutMs]
 * @returns {Promise<{url: string, origin: string, altOrigin: string, port: number, pid: number,
 *   logFile: string, logTail: (n?: number) => string, stop: () => Promise<object>, kill: (signal?: string) => void}>}
 *   `url`/`origin` name the backend as http://localhost:PORT, `altOrigin` as
 *   http://127.0.0.1:PORT: the same server under a second origin, for
 *   cross-origin requests.
 */
export async function startBackend({
  collectorEndpoint,
  corsOrigins = [],
  port,
  serviceName,
  scheduleDelayMs = 100,
  env: extraEnv = {},
  startTimeoutMs = 20_000,
} = {}) {
  if (!collectorEndpoint) throw new Error('startBackend: collectorEndpoint is required');
  const python = backendPython();
  port ??= (await freePorts(1))[0];
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'waggle-backend-'));
  const logFile = path.join(dir, 'backend.log');
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorEndpoint,
    WAGGLE_BROWSER_OTLP_ENDPOINT: collectorEndpoint,
    WAGGLE_BACKEND_CORS_ORIGINS: corsOrigins.join(','),
    OTEL_BSP_SCHEDULE_DELAY: String(scheduleDelayMs),
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...(serviceName ? { OTEL_SERVICE_NAME: serviceName } : {}),
    ...extraEnv,
  };
  // A developer's own OTEL_* settings must not leak into a test's backend.
  for (const k of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_TRACES_SAMPLER', 'OTEL_PYTHON_FLASK_EXCLUDED_URLS']) {
    if (!(k in extraEnv)) delete env[k];
  }
  if (!serviceName && !('OTEL_SERVICE_NAME' in extraEnv)) delete env.OTEL_SERVICE_NAME;

  const proc = spawnLogged(python, [APP], { cwd: REPO_ROOT, env, logFile });
  const { child } = proc;
  const failure = (msg) => new Error(`${msg}\n--- backend log (${logFile}) ---\n${tail(logFile)}\n---`);

  const healthUrl = `http://127.0.0.1:${port}/healthz`;
  await waitHealthy(proc, healthUrl, { what: 'backend', timeoutMs: startTimeoutMs, failure });

  return {
    url: `http://localhost:${port}`,
    origin: `http://localhost:${port}`,
    altOrigin: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    logFile,
    logTail: (lines = 40) => tail(logFile, lines),
    /** Sends a signal without waiting, for tests of shutdown behaviour. */
    kill: (signal = 'SIGTERM') => child.kill(signal),
    /** Whether the process has exited (and how), or null. */
    exited: proc.exited,
    /** SIGTERM (the backend flushes its spans), then SIGKILL after 5 s. */
    async stop() {
      const exited = await proc.stop();
      if (!process.env.WAGGLE_KEEP_BACKEND_LOG) await fs.promises.rm(dir, { recursive: true, force: true });
      return exited;
    },
    waitForExit: () => proc.exitPromise,
  };
}
