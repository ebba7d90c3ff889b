// Waggle's npm entry point: `import { init } from 'waggle-rum'` is all an
// app writes. Importing it does nothing; init() starts recording at once
// and loads the agent's WebAssembly module (waggle.wasm, next to this
// file) meanwhile. If the module cannot load, init() rejects and the page
// is as it was.
import { record } from './recorder.js';
import { init as start } from './agent.js';

/** Starts the agent; see index.d.ts. */
export const init = (options) => start(options, record);

export {
  flush,
  shutdown,
  startSpan,
  withSpan,
  setUser,
  setGlobalAttributes,
  setRoute,
  setConsent,
  loadAgent,
  WaggleConfigError,
  WaggleLoadError,
  __fault,
} from './agent.js';
