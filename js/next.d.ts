// waggle-rum/next: names each view's route for Waggle (setRoute) in a
// Next.js App Router app.

/**
 * A client component for the root layout: names the route of each view,
 * its path with each dynamic segment's value put back as its `[name]`
 * (`/products/[id]`, `/docs/[...slug]`). Renders nothing.
 * @example
 * <body>{children}<WaggleRoute /></body>
 */
export function WaggleRoute(): null;

/** `path` with the segments `params` came from named: `routeOf('/products/42', { id: '42' })` is `'/products/[id]'`. */
export function routeOf(path: string, params: Record<string, string | string[] | undefined>): string;
