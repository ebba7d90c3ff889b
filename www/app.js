// The demo shop's own code: plain fetch() calls to the backend's API, and
// nothing Waggle-specific (the agent sees these calls by itself).
import { demoUser, apiBase } from '/user.js';

const $ = (id) => document.getElementById(id);
const cart = new Map(); // product id -> quantity
let products = [];
let pending = 0;

// The demo driver (and a curious reader) can tell when the page is idle.
function setPending(delta) {
  pending += delta;
  document.body.dataset.pending = String(pending);
}

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

const money = (cents) => `$${(cents / 100).toFixed(2)}`;

/** fetch() to the API, as any app writes it; shows the server's trace id. */
async function api(path, { method = 'GET', body } = {}) {
  setPending(1);
  try {
    const headers = { 'X-User-Id': demoUser };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${apiBase}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Server-Timing: traceparent;desc="00-<trace>-<span>-<flags>"
    const timing = res.headers.get('Server-Timing') || '';
    const m = /traceparent;desc="?00-([0-9a-f]{32})-([0-9a-f]{16})/.exec(timing);
    if (m) $('last-trace').textContent = `${m[1]} (span ${m[2]})`;
    const data = await res.json().catch(() => ({}));
    return { ok: res.ok, status: res.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { error: String(err) } };
  } finally {
    setPending(-1);
  }
}

function renderProducts() {
  const list = $('products');
  list.replaceChildren(
    ...products.map((p) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = `${p.name} — ${money(p.price_cents)}`;
      const details = document.createElement('button');
      details.type = 'button';
      details.id = `details-${p.id}`;
      details.textContent = 'Details';
      details.addEventListener('click', () => showDetails(p.id));
      const add = document.createElement('button');
      add.type = 'button';
      add.id = `add-${p.id}`;
      add.textContent = 'Add to cart';
      add.addEventListener('click', () => addToCart(p.id));
      li.append(name, details, add);
      return li;
    }),
  );
  list.setAttribute('aria-busy', 'false');
}

function renderCart() {
  const list = $('cart');
  list.replaceChildren(
    ...[...cart].map(([id, qty]) => {
      const p = products.find((x) => x.id === id);
      const li = document.createElement('li');
      li.textContent = `${qty} × ${p ? p.name : `product ${id}`}`;
      return li;
    }),
  );
  $('checkout').disabled = cart.size === 0;
}

async function loadProducts() {
  setStatus('Loading products…');
  const r = await api('/api/products');
  if (!r.ok) {
    setStatus(`Could not load products: ${r.data.error || r.status}`, true);
    return;
  }
  products = r.data.products;
  renderProducts();
  setStatus(`${products.length} products`);
  document.body.dataset.ready = 'true';
}

async function showDetails(id) {
  const r = await api(`/api/products/${id}`);
  const panel = $('details');
  if (!r.ok) {
    panel.textContent = `Error ${r.status}: ${r.data.error}`;
    return;
  }
  const p = r.data;
  panel.textContent = `${p.name}: ${money(p.price_cents)} each, ${money(p.price_for_3_cents)} for three; ${p.stock} in stock.`;
  setStatus(`Details of ${p.name}`);
}

function addToCart(id) {
  cart.set(id, (cart.get(id) || 0) + 1);
  renderCart();
  setStatus('Added to the cart');
}

async function checkout() {
  const items = [...cart].map(([id, qty]) => ({ id, qty }));
  const r = await api('/api/checkout', { method: 'POST', body: { items } });
  if (!r.ok) {
    setStatus(`Checkout failed: ${r.data.error || r.status}`, true);
    return;
  }
  cart.clear();
  renderCart();
  setStatus(`Order ${r.data.order_id} placed: ${money(r.data.total_cents)}`);
}

async function fail() {
  const r = await api('/api/fail');
  setStatus(`The server answered ${r.status}: ${r.data.error}`, !r.ok);
}

async function slow() {
  setStatus('Waiting for the slow report…');
  const r = await api('/api/slow?ms=800');
  setStatus(r.ok ? `Report took ${r.data.delay_ms} ms` : `Report failed: ${r.status}`, !r.ok);
}

// A small pushState router: three views, data fetched on navigation.
const views = { '/': 'view-shop', '/orders': 'view-orders', '/about': 'view-about' };
async function render(route) {
  for (const [path, id] of Object.entries(views)) $(id).hidden = path !== route;
  document.title = route === '/' ? 'Waggle demo shop' : `Waggle demo shop: ${route.slice(1)}`;
  if (route === '/orders') {
    const r = await api('/api/products');
    $('orders').replaceChildren(...(r.ok ? r.data.products.slice(0, 2) : []).map((p) => {
      const li = document.createElement('li');
      li.textContent = `Ordered earlier: ${p.name}`;
      return li;
    }));
  }
  setStatus(`Showing ${route}`);
}
for (const a of document.querySelectorAll('a[data-route]')) {
  a.addEventListener('click', (e) => {
    e.preventDefault();
    history.pushState({}, '', a.dataset.route);
    render(a.dataset.route);
  });
}
window.addEventListener('popstate', () => render(location.pathname in views ? location.pathname : '/'));

$('break').addEventListener('click', () => {
  // A real bug: the agent records it as an exception span, child of the click.
  const order = undefined;
  setStatus('About to break…');
  return order.total;
});

$('user').textContent = demoUser;
$('reload-products').addEventListener('click', loadProducts);
$('checkout').addEventListener('click', checkout);
$('clear-cart').addEventListener('click', () => {
  cart.clear();
  renderCart();
});
$('fail').addEventListener('click', fail);
$('slow').addEventListener('click', slow);
setPending(0);

// The agent patches fetch when init() resolves; waiting for it lets the
// first products request be traced too. The page works without the agent.
const ready = window.waggleReady;
if (ready) {
  await ready.catch(() => {});
} else {
  const note = $('agent-status');
  note.hidden = false;
  note.textContent = 'The Waggle agent did not load (is pkg/ built? run bash scripts/build.sh); the shop works without it.';
}
await loadProducts();
if (location.pathname in views && location.pathname !== '/') render(location.pathname);
