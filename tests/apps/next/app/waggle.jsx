'use client';
// The agent starts in a client component, once, in the browser.
import { useEffect } from 'react';
import { init, startSpan, flush } from 'waggle-rum';

export default function Waggle() {
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    window.appDone = init({ serviceName: 'bundlers-example', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } })
      .then(async () => {
        startSpan('bundled.work', { 'app.bundler': 'next' }).end();
        await flush();
        return 'ok';
      })
      .catch((e) => `${e.name} ${e.message}`);
  }, []);
  return null;
}
