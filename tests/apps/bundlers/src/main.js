// What a team writes to adopt Waggle in a bundled app, and nothing more:
// the same file is built by each bundler with no Waggle-specific settings.
import { init, startSpan, flush, WaggleConfigError, WaggleLoadError } from 'waggle-rum';

const params = new URLSearchParams(location.search);
const what = (e) =>
  e instanceof WaggleLoadError ? `WaggleLoadError ${e.message}` : e instanceof WaggleConfigError ? `WaggleConfigError ${e.option}` : `other ${e && e.message}`;

async function main() {
  // A wrong option rejects with the exported class.
  const bad = await init({ serviceName: '' }).then(() => 'resolved', what);
  if (!bad.startsWith('WaggleConfigError')) return bad;
  await init({
    serviceName: 'bundlers-example',
    endpoint: params.get('endpoint'),
    batch: { scheduledDelayMillis: 50 },
  });
  startSpan('bundled.work', { 'app.bundler': params.get('bundler') }).end();
  await flush();
  return `ok ${bad}`;
}

window.appDone = main().catch(what);
