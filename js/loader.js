// waggle.snippet.js: the rest of the agent, for pages that pasted the
// snippet. It adopts the snippet's recorder and module download, takes
// over window.waggle, and replays the calls queued before it arrived, in
// order, with their original times.
import * as api from './agent.js';

const w = window;
const stub = w.waggle;

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

// Through the snippet init resolves true or false and never rejects, so
// pasting it cannot add an error to a page; a bad option is written to
// the console.
// After the module failed to load, every call resolves false and nothing
// is fetched again.
let dead = false;
const start = (options) =>
  dead
    ? Promise.resolve(false)
    : api.init(options, stub.R).then(
        () => true,
        (err) => {
          console.error(err && err.message ? err.message : err);
          if (err instanceof api.WaggleLoadError) {
            dead = true;
            stub.fail();
          }
          return false;
        },
      );
const done = (f) => () => (dead ? Promise.resolve(false) : f().then(() => true));

async function replay() {
  api.adopt(stub.H);
  api.loadAgent(stub.wasm).catch(() => {});
  const queue = stub.q;
  while (queue.length) {
    const item = queue.shift();
    const [method, args, resolve] = item;
    try {
      if (method === 'init') resolve(await start(args[0]));
      else if (method === 'startSpan') replaySpan(item);
      else if (method === 'flush' || method === 'shutdown') resolve(await done(api[method])());
      else api[method](...args);
    } catch (err) {
      console.error('[waggle]', err);
      if (resolve) resolve(false);
    }
  }
  w.waggle = {
    ...api,
    init: start,
    flush: done(api.flush),
    shutdown: done(api.shutdown),
    loaded: true,
  };
}

if (stub && stub.H && !stub.loaded) replay();
