// The npm way of loading Waggle: an app that imports every export of the
// package from node_modules, bundled by esbuild (bench/run.mjs copies
// pkg/ into bench/out/app/node_modules/waggle-rum and this file beside
// it). The benchmark page hands the app its options and drives it through
// the same small API as the other pages.
import {
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
} from 'waggle-rum';

const api = { init, flush, shutdown, startSpan, withSpan, setUser, setGlobalAttributes, loadAgent, WaggleConfigError, WaggleLoadError };
window.__bench.start(api, window.__bench.options, 'bundled');
