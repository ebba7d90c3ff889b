// Starts the agent as every router app here does; window.ready or
// window.failed says how it went.
import { init } from 'waggle-rum';

export function start(serviceName) {
  const params = new URLSearchParams(location.search);
  init({ serviceName, endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } }).then(
    () => {
      window.ready = true;
    },
    (e) => {
      window.failed = String(e);
    },
  );
}
