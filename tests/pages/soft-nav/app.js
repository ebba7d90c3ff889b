// A small router: a click changes the URL and paints the new view, which
// is what the browser counts as a soft navigation.
const soft = [];
new PerformanceObserver((l) => l.getEntries().forEach((e) => soft.push({ name: e.name, navigationId: String(e.navigationId), startTime: e.startTime, paintTime: e.presentationTime || e.paintTime }))).observe({ type: 'soft-navigation', buffered: true });
window.softNavigations = soft;

function show(name, words) {
  history.pushState({}, '', location.pathname.replace(/[^/]*$/, `${name}.html`) + location.search);
  const main = document.getElementById('view');
  const h = document.createElement('h1');
  h.textContent = name;
  const p = document.createElement('p');
  p.id = `text-${name}`;
  p.style.fontSize = '28px';
  p.textContent = words.repeat(40);
  main.replaceChildren(h, p);
}

document.getElementById('to-two').addEventListener('click', () => show('two', 'The second view. '));
document.getElementById('to-three').addEventListener('click', () => show('three', 'The third view. '));
document.getElementById('slow').addEventListener('click', function slowClick() {
  const end = performance.now() + 150;
  while (performance.now() < end);
  document.getElementById('view').append(' (slow)');
});
