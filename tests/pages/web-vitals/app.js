const params = new URLSearchParams(location.search);

// The LCP: a large image put in the page a little after it first paints.
setTimeout(() => {
  const img = new Image(640, 360);
  img.id = 'hero';
  img.className = 'hero big';
  img.alt = 'hero';
  img.src = 'hero.svg';
  document.getElementById('slot').append(img);
}, 200);

// A layout shift no input caused: a banner pushed in above the content
// once the page has loaded.
addEventListener('load', () => {
  setTimeout(() => {
    if (!params.has('noshift')) {
      const banner = document.createElement('div');
      banner.id = 'banner';
      document.body.prepend(banner);
    }
    // Two frames later the shift has been recorded.
    requestAnimationFrame(() => requestAnimationFrame(() => { window.shiftDone = true; }));
  }, 400);
});

// A click handler that keeps the main thread busy.
document.getElementById('slow').addEventListener('click', () => {
  const start = performance.now();
  while (performance.now() - start < 300) {
    // busy
  }
  document.getElementById('slow').textContent = 'Clicked';
});
