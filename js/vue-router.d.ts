// waggle-rum/vue-router: names each view's route for Waggle (setRoute)
// from Vue Router's matched record. Vue Router 4 and later.

/** What trackRouter reads of a route. */
export interface RouteLike {
  readonly matched: readonly { readonly path: string }[];
}

/** What trackRouter reads of a router. */
export interface RouterLike {
  readonly currentRoute: { readonly value: RouteLike };
  afterEach(guard: (to: RouteLike, from: RouteLike, failure?: unknown) => unknown): () => void;
}

/**
 * Names the route (the matched record's path, `/products/:id`) now and
 * after each navigation; returns the function that stops it.
 * @example
 * const router = createRouter({ history: createWebHistory(), routes });
 * trackRouter(router);
 */
export function trackRouter(router: RouterLike): () => void;
