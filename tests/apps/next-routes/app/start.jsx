'use client';
// The agent starts once, in the browser.
import { useEffect } from 'react';
import { init } from 'waggle-rum';

export default function Start() {
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    init({ serviceName: 'next-routes', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } }).then(
      () => {
        window.ready = true;
      },
      (e) => {
        window.failed = String(e);
      },
    );
  }, []);
  return null;
}
