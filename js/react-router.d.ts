// waggle-rum/react-router: names each view's route for Waggle
// (setRoute) from React Router's matches. React Router 6.4 and later.
import type { ReactElement, ReactNode } from 'react';

/** What trackRouter reads of a data router. */
export interface RouterLike {
  readonly state: { readonly matches: readonly { readonly route: { readonly path?: string } }[] };
  subscribe(fn: (state: RouterLike['state']) => void): () => void;
}

/**
 * For a data router (`createBrowserRouter`, `createHashRouter`): names the
 * route (`/products/:id`, the matched routes' paths joined) now and after
 * each navigation. Returns the unsubscribe function.
 * @example
 * const router = createBrowserRouter(routes);
 * trackRouter(router);
 */
export function trackRouter(router: RouterLike): () => void;

/**
 * `<Routes>` (declarative routing, inside `<BrowserRouter>`) that names
 * the route of the view it renders; takes what `<Routes>` takes.
 * @example
 * <BrowserRouter><WaggleRoutes><Route path="/products/:id" element={<Product />} /></WaggleRoutes></BrowserRouter>
 */
export function WaggleRoutes(props: { children?: ReactNode; location?: string | { pathname: string } }): ReactElement;
