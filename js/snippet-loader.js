// The script the snippet loads: the agent in one file. It takes over
// window.waggle from the snippet's stub and replays the calls queued before
// it arrived, in order, with their original times.
import * as api from './index.js';

// Filled in by scripts/build.sh: the module's SHA-384, so the one request
// this file makes is as verified as the script tag that loaded it.
const WASM_INTEGRITY = '__WAGGLE_WASM_INTEGRITY__';

const w = window;
const stub = w.waggle;
const queue = stub && Array.isArray(stub.q) ? stub.q : [];

function replaySpan(item) {
  const [, [name, attributes], , handle] = item;
  const span = api.startSpan(name, attributes, handle.t);
  for (const [method, args, t] of handle.c) {
    if (method === 'end') span.end(args[0] !== undefined ? args[0] : t);
    else span[method](...args);
  }
  // Calls made on the stub's handle after the replay go to the real span.
  for (const m of ['setAttribute', 'addEvent', 'setStatus', 'end', 'traceparent', 'run']) handle[m] = span[m].bind(span);
}

async function replay() {
  const integrity = WASM_INTEGRITY.startsWith('sha') ? WASM_INTEGRITY : undefined;
  const url = new URL('waggle_rum_bg.wasm', import.meta.url);
  api.loadAgent(fetch(url, integrity ? { integrity } : {})).catch(() => {});
  while (queue.length) {
    const item = queue.shift();
    const [method, args, resolve] = item;
    try {
      if (method === 'init') {
        // A snippet must not add errors to the page: a bad option is
        // reported on the console and init resolves false.
        const ok = await api.init(...args).then(() => true, (err) => {
          console.error(err && err.message ? err.message : err);
          return false;
        });
        resolve(ok);
      } else if (method === 'startSpan') {
        replaySpan(item);
      } else if (method === 'flush' || method === 'shutdown') {
        await api[method]();
        resolve(true);
      } else if (typeof api[method] === 'function') {
        api[method](...args);
      }
    } catch (err) {
      console.error('[waggle]', err);
      if (resolve) resolve(false);
    }
  }
  const real = {
    ...api,
    init: (options) => api.init(options).then(() => true, (err) => {
      console.error(err && err.message ? err.message : err);
      return false;
    }),
    flush: () => api.flush().then(() => true),
    shutdown: () => api.shutdown().then(() => true),
    loaded: true,
  };
  w.waggle = real;
}

replay();
