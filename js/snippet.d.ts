// Types of `window.waggle` for pages that paste the snippet (snippet.html)
// instead of importing the package. Opt in from any TypeScript file:
//   /// <reference types="waggle-rum/snippet" />
// or in tsconfig.json: "types": ["waggle-rum/snippet"].
import type { AttributeValue, Consent, Span, WaggleOptions } from './index.js';

/**
 * What the snippet defines as `window.waggle` at once. Calls made before
 * the agent arrives are queued (up to 1,000, and `setConsent` always) and replayed in order, spans
 * with the times they really started and ended. Through the snippet,
 * `init`, `flush` and `shutdown` never reject: they resolve `false` when
 * the agent could not load (blocked, offline, refused by a CSP) or an
 * option was wrong (written to the console), `true` otherwise.
 */
export interface WaggleSnippet {
  /** Starts the agent; resolves `true` once it runs, `false` if it cannot. */
  init(options: WaggleOptions): Promise<boolean>;
  /** Sends every queued span now; resolves `true` when tried, `false` without an agent. */
  flush(): Promise<boolean>;
  /** Flushes, then removes every listener and hook; resolves `false` without an agent. */
  shutdown(): Promise<boolean>;
  /** Starts a span (queued with its start time until the agent arrives). */
  startSpan(name: string, attributes?: Record<string, AttributeValue>): Span;
  /** Runs fn(span) inside a new span; returns what fn returns. */
  withSpan<T>(name: string, fn: (span: Span) => T, attributes?: Record<string, AttributeValue>): T;
  /** Sets `user.*` attributes on every later span; null clears them. */
  setUser(user: Record<string, AttributeValue | null | undefined> | null): void;
  /** Adds attributes to every later span; a key set to `null` is removed. */
  setGlobalAttributes(attributes: Record<string, AttributeValue | null | undefined>): void;
  /** Names the route of the view now shown (`'/products/:id'`); null takes it back. */
  setRoute(route: string | null): void;
  /** Sets the user's consent (see `setConsent` of the package); queued before the agent arrives, never dropped. */
  setConsent(consent: Consent): void;
  /** `true` once waggle.snippet.js has arrived and replayed the queue. */
  readonly loaded?: boolean;
}

declare global {
  /** Waggle's snippet API (snippet.html); also `window.waggle`. */
  var waggle: WaggleSnippet;
}
