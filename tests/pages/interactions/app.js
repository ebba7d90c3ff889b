// Handlers of the kinds a page really has: they start requests and change
// the URL now, in promise callbacks, in timers, and after awaiting the
// network.
const $ = (id) => document.getElementById(id);
const data = (c) => fetch(`/api/data?case=${c}`).then((r) => r.text());
const push = (hash) => history.pushState({}, '', hash);
const on = (id, f) => $(id).addEventListener('click', f);

// When the browser says each event happened, for the span's start time.
window.stamps = [];
for (const type of ['click', 'submit']) {
  addEventListener(type, (e) => window.stamps.push({ type, id: e.target.id, us: Math.round(e.timeStamp * 1000) }), true);
}

on('sync', () => { data('sync'); });
let counted = 0;
on('count', () => { $('out').textContent = `counted ${++counted}`; });
on('boom', () => { throw new Error('boom from a click'); });
on('timer', () => { setTimeout(() => data('timer'), 30); });
on('micro', () => { Promise.resolve().then(() => data('micro')); });
on('after-await', async () => {
  await data('first');
  window.afterAwait = data('after');
});
on('xhr', () => {
  const x = new XMLHttpRequest();
  x.open('GET', '/api/data?case=xhr');
  x.send();
});

on('push-sync', () => push('#sync'));
on('push-micro', () => { Promise.resolve().then(() => push('#micro')); });
on('push-async', async () => {
  await null;
  await Promise.resolve();
  push('#async');
});
on('push-timer', () => { setTimeout(() => push('#timer'), 30); });
on('push-chain', () => {
  setTimeout(() => setTimeout(() => Promise.resolve().then(() => push('#chain')), 20), 20);
});
on('push-args', () => { setTimeout((a, b) => push(`#${a}-${b}`), 10, 'args', 'ok'); });
on('push-await', async () => {
  await data('probe');
  push('#await');
});
on('toast', () => {
  $('out').textContent = 'Saved';
  setTimeout(() => { $('out').textContent = ''; }, 3000);
});
on('outer', () => { setTimeout(() => $('inner').click(), 10); });

// What setTimeout does for the page while a click is current: the same as
// without the agent.
on('semantics', () => {
  const r = (window.semantics = { errors: [] });
  const id = setTimeout(function (a, b) {
    r.args = [a, b, arguments.length];
    r.thisIsWindow = this === window;
  }, 0, 'x', 'y');
  r.idType = typeof id;
  const cancelled = setTimeout(() => { r.cancelledRan = true; }, 5);
  clearTimeout(cancelled);
  r.noArgs = setTimeout.length;
  const thrown = new TypeError('thrown from a timer');
  addEventListener('error', (e) => {
    r.errors.push({ same: e.error === thrown, message: e.message });
    e.preventDefault();
  });
  setTimeout(() => { throw thrown; }, 5);
  setTimeout('window.semantics.stringRan = true', 5);
  const t0 = performance.now();
  setTimeout(() => { r.stringDelay = performance.now() - t0; }, '25');
  setTimeout(() => { r.done = true; }, 30);
});

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  data('search');
});
