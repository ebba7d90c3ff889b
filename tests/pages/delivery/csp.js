// The agent under a strict Content-Security-Policy: no inline script, so
// this file starts it.
import * as waggle from '/pkg/index.js';

const params = new URLSearchParams(location.search);
window.waggle = waggle;
window.ready = waggle.init({ serviceName: 'delivery-csp', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } }).then(
  () => 'ok',
  (err) => ({ name: err.name, message: err.message }),
);
window.ready.then(() => {
  waggle.startSpan('fault.csp', { 'test.run': params.get('run') }).end();
});
