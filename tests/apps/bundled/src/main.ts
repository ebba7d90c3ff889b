// A small app that adopts Waggle from npm, the way a team's bundled app does.
import { init, startSpan, withSpan, setUser, flush, type WaggleOptions, type Span } from 'waggle-rum';

const params = new URLSearchParams(location.search);
const options: WaggleOptions = {
  serviceName: 'bundled-example',
  serviceVersion: '1.0.0',
  endpoint: params.get('endpoint') ?? 'http://localhost:4318',
  batch: { scheduledDelayMillis: 50 },
  instrumentations: { xhr: false },
};

declare global {
  interface Window { appDone?: Promise<string> }
}

window.appDone = init(options).then(async () => {
  setUser({ id: 'bundled-user' });
  const span: Span = startSpan('bundled.work', { 'app.bundler': params.get('bundler') ?? 'unknown' });
  span.setAttribute('app.items', 2);
  span.end();
  const n: number = withSpan('bundled.compute', (s) => { s.addEvent('computed'); return 21 * 2; });
  await flush();
  return `ok ${n}`;
}, (err: Error) => `failed ${err.message}`);
