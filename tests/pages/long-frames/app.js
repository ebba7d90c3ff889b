// Work that holds the main thread, in functions with names the agent
// should report.
function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

function blockThePage() {
  spin(200);
  document.getElementById('out').textContent = 'done';
}

// Fifteen long tasks in a row, each its own frame: more than the ten a
// minute that become spans.
function chainedWork(left) {
  spin(120);
  document.getElementById('out').textContent = `left ${left}`;
  if (left > 1) setTimeout(chainedWork, 20, left - 1);
  else window.chainDone = true;
}

document.getElementById('slow').addEventListener('click', blockThePage);
window.startChain = () => setTimeout(chainedWork, 0, 15);
