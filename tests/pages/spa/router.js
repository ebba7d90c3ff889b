// A small pushState router: a click on a link changes the URL, fetches the
// view's data, then renders it and sets the title, as SPA routers do.
const view = document.getElementById('view');
window.renders = [];
let current = location.pathname;

async function render(path) {
  current = path;
  view.textContent = 'Loading';
  const res = await fetch(`/api/view?path=${encodeURIComponent(path)}`);
  const data = await res.json();
  document.title = data.title;
  view.innerHTML = `<h1>${data.title}</h1><ul>${data.items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
  window.renders.push({ path, at: performance.now(), origin: performance.timeOrigin });
}

function navigate(path) {
  // The query string (the test's endpoint) stays, as app state in the URL does.
  history.pushState({ path }, '', path + location.search);
  render(path);
}

for (const a of document.querySelectorAll('nav a[href^="/"]')) {
  a.addEventListener('click', (e) => {
    e.preventDefault();
    navigate(a.getAttribute('href'));
  });
}

addEventListener('popstate', () => {
  if (location.pathname !== current) render(location.pathname);
});

// Hash changes load the section's data too, the way hash routers do.
addEventListener('hashchange', () => {
  fetch(`/api/view?path=${encodeURIComponent(location.hash)}`).then((r) => r.json()).then((d) => {
    document.getElementById('reviews').dataset.loaded = d.title;
    window.renders.push({ path: location.hash, at: performance.now(), origin: performance.timeOrigin });
  });
});

document.getElementById('back').addEventListener('click', () => history.back());

document.getElementById('buy').addEventListener('click', () => {
  fetch('/api/view?path=buy');
});

// A view with a clock that redraws every 20 ms, never letting the page
// settle.
document.getElementById('busy').addEventListener('click', () => {
  history.pushState({}, '', '/products' + location.search);
  const clock = document.createElement('p');
  document.body.append(clock);
  const started = performance.now();
  const timer = setInterval(() => {
    clock.textContent = String(Math.round(performance.now() - started));
    if (performance.now() - started > 7000) clearInterval(timer);
  }, 20);
});

render(location.pathname);
