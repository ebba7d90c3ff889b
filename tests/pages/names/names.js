// Everything the agent records, each once: tests/e2e/names.test.mjs drives
// it and compares the attribute keys that arrive with README's table.
const page = (window.page = {});

// LCP: a large image put in a little after the first paint.
setTimeout(() => {
  const img = new Image(640, 360);
  img.id = 'hero';
  img.src = 'hero.svg';
  document.getElementById('slot').append(img);
}, 100);

// CLS: a banner pushed in above the content once the page has loaded.
addEventListener('load', () => {
  setTimeout(() => {
    const banner = document.createElement('div');
    banner.id = 'banner';
    document.body.prepend(banner);
    requestAnimationFrame(() => requestAnimationFrame(() => { page.shifted = true; }));
  }, 200);
});

// INP and an interaction: a click that keeps the main thread busy, and
// the request it makes.
document.getElementById('slow').addEventListener('click', function slowHandler() {
  const start = performance.now();
  while (performance.now() - start < 250) {
    // busy
  }
  fetch('/names/api?from=click');
});

page.requests = async () => {
  await fetch('/names/api?q=1');
  await fetch('/names/api', { method: 'POST', body: 'twelve bytes' });
  // A method outside the known set: http.request.method_original.
  await fetch('/names/api', { method: 'PURGE' });
  await fetch('/names/missing');
  await new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', '/names/api?xhr=1');
    x.onloadend = resolve;
    x.send();
  });
};

// Frustration: three clicks on a button that does nothing (a rage run of
// dead clicks, on an element the app named); later, a click that throws.
document.getElementById('throws').addEventListener('click', () => { throw new TypeError('names boom'); });
page.frustrate = () => {
  const idle = document.getElementById('idle');
  for (let i = 0; i < 3; i++) idle.click();
};
page.throwingClick = () => document.getElementById('throws').click();

page.route = () => history.pushState({}, '', `${location.pathname}${location.search}&view=2`);

page.errors = () => {
  setTimeout(() => { throw new TypeError('names boom'); });
  const img = new Image();
  img.src = 'missing.png';
  document.getElementById('broken').append(img);
};

page.app = () => {
  const { startSpan } = window.waggle;
  startSpan('app.work', { 'app.step': 1 }).end();
  // More than the queue holds: the oldest go, and are counted.
  for (let i = 0; i < 300; i++) startSpan('app.burst', { 'app.seq': i }).end();
};
