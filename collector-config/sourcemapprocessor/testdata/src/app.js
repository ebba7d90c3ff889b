// What a page's build starts from: two modules, bundled and minified into
// ../site/assets/app.min.js with its map by the command in
// ../processor_test.go.
import { explode } from './explode.js';

function handleClick(event) {
  const kind = event.type;
  return explode('clicked ' + kind);
}

globalThis.handleClick = handleClick;
