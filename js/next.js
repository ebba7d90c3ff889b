'use client';
// waggle-rum/next: names each view's route for Waggle in a Next.js App
// Router app (setRoute('/products/[id]')): the path with each dynamic
// segment's value put back as its [name].
import { useEffect } from 'react';
import { useParams, usePathname } from 'next/navigation';
import { setRoute } from './index.js';

/** `path` with the segments `params` came from named: '/products/[id]', '/docs/[...slug]'. */
export function routeOf(path, params) {
  const parts = path.split('/');
  for (const k in params) {
    const v = params[k];
    if (v == null) continue;
    const many = Array.isArray(v);
    const vs = many ? v : [v];
    for (let i = 1; i + vs.length <= parts.length; i++) {
      if (vs.every((x, j) => parts[i + j] === x || parts[i + j] === encodeURIComponent(x))) {
        parts.splice(i, vs.length, many ? `[...${k}]` : `[${k}]`);
        break;
      }
    }
  }
  return parts.join('/');
}

/** Put it in the root layout: `<WaggleRoute />`. Renders nothing. */
export function WaggleRoute() {
  const path = usePathname();
  const params = useParams();
  const name = path && routeOf(path, params || {});
  useEffect(() => setRoute(name), [name, path]);
  return null;
}
