// Waggle's npm entry point: `import { init } from 'waggle-rum'` is all an
// app writes. Importing it does nothing; init() starts recording at once
// and loads the agent's WebAssembly module (waggle.wasm, next to this
// file) meanwhile. If the module cannot load, init() rejects and the page
// is as it was.
export {
  init,
  flush,
  shutdown,
  startSpan,
  withSpan,
  setUser,
  setGlobalAttributes,
  loadAgent,
  WaggleConfigError,
  WaggleLoadError,
  __fault,
} from './agent.js';
