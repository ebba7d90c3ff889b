// The demo's bundled app: it imports the npm package by name, as an app
// does after `npm install waggle-rum`; scripts/demo.sh bundles it with
// esbuild into www/bundled/dist/ and copies the wasm next to the bundle.
import { init, withSpan, setUser } from 'waggle-rum';

const endpoint = document.querySelector('meta[name="waggle-endpoint"]')?.content || 'http://localhost:4318';
window.waggleReady = init({ serviceName: 'waggle-demo-bundled', endpoint, batch: { scheduledDelayMillis: 500 } });
setUser({ id: 'bundled-visitor' });

document.getElementById('load').addEventListener('click', () =>
  withSpan('bundled.load_products', async (span) => {
    const r = await fetch('/api/products');
    const data = await r.json();
    span.setAttribute('app.result_count', data.products.length);
    document.getElementById('out').textContent = `${data.products.length} products`;
  }),
);
