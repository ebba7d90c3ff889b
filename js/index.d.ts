/**
 * A URL pattern: a string matches URLs that start with it; a RegExp is
 * tested against the whole absolute URL.
 */
export type UrlPattern = string | RegExp;

/** Options for {@link init}. Only `serviceName` is required. */
export interface WaggleOptions {
  /** `service.name` on every span. Required, non-empty. @example 'shop-web' */
  serviceName: string;
  /** `service.version`, such as the app's release. @example '2026.11.3' */
  serviceVersion?: string;
  /** `deployment.environment.name`. @example 'production' */
  environment?: string;
  /**
   * The Collector's OTLP/HTTP base URL (or a path on this origin); spans are
   * POSTed to `{endpoint}/v1/traces`. Never traced, never given `traceparent`.
   * @default 'http://localhost:4318'
   */
  endpoint?: string;
  /** Ratio of new traces recorded, 0 to 1; a page with a server `traceparent` follows it. @default 1 */
  sampleRate?: number;
  /**
   * Cross-origin URLs that receive `traceparent`/`tracestate` (same-origin
   * requests always do). The header forces a CORS preflight, so list only
   * backends that allow it. @default []
   */
  propagateTraceHeaderCorsUrls?: UrlPattern | UrlPattern[];
  /** Requests to these URLs are not traced. @default [] */
  ignoreUrls?: UrlPattern | UrlPattern[];
  /** Query keys whose values are replaced by `REDACTED` in recorded URLs, beyond the built-in signed-URL keys. @default [] */
  redactQueryParams?: string[];
  /** Attributes added to every span (a key whose value is `undefined` is left out). @default {} */
  attributes?: Record<string, AttributeValue | undefined>;
  /** Switch instrumentations off. @default all true */
  instrumentations?: {
    /** `documentLoad`, `documentFetch`, `resourceFetch`. @default true */
    documentLoad?: boolean;
    /** `fetch` calls. @default true */
    fetch?: boolean;
    /** `XMLHttpRequest` calls. @default true */
    xhr?: boolean;
    /** Clicks and the other `interactionEvents`. @default true */
    interactions?: boolean;
    /** SPA route changes. @default true */
    routeChanges?: boolean;
    /** LCP, CLS, INP, FCP, TTFB. @default true */
    webVitals?: boolean;
    /** Uncaught errors, unhandled rejections, resource load failures. @default true */
    errors?: boolean;
    /** `console.error` calls as exception spans. @default false */
    consoleErrors?: boolean;
    /** Frames the page was blocked in for more than 50 ms, as `longAnimationFrame` spans (at most 10 a minute); interactions and INP name the script that held them either way. @default true */
    longAnimationFrames?: boolean;
  };
  /** Export batching. */
  batch?: {
    /** Spans per request, 1 to 10000. @default 512 */
    maxExportBatchSize?: number;
    /** Longest wait before a request, in ms, 0 to 60000. @default 1000 */
    scheduledDelayMillis?: number;
    /** Spans held while requests are pending; beyond it the oldest go and are counted. @default 20000 */
    maxQueueSize?: number;
  };
  /** DOM events recorded as interaction spans. @default ['click'] */
  interactionEvents?: InteractionEvent[];
  /** Session lifetime. A session is shared by the origin's tabs and survives reloads. */
  session?: {
    /** Minutes without user activity after which a new session begins. @default 15 */
    inactivityMinutes?: number;
    /** Minutes after which a session ends however active. @default 240 */
    maxMinutes?: number;
    /** Keep the session in localStorage (all tabs, across reloads); false keeps it per tab in sessionStorage. @default true */
    persist?: boolean;
  };
  /** `'trace'` samples each trace; `'session'` keeps or drops a session's traces whole. @default 'trace' */
  sampleBy?: 'trace' | 'session';
  /**
   * What the agent may do from the start. `'pending'` records and holds
   * everything in memory, sending nothing and writing nothing to storage,
   * until {@link setConsent}; `'denied'` starts nothing and removes what
   * the agent stored. A `setConsent` call (even one made before init)
   * wins over this option. @default 'granted'
   */
  consent?: Consent;
  /**
   * Logs what the agent does to the console, at levels DevTools shows by
   * default: the resolved options at init, then a group per export with a
   * line per span (name, duration, key attributes, trace id) and the
   * export's answer. `{ traceUrl }` adds a link to each span's trace,
   * `{traceId}` standing for its id. @default false
   * @example { traceUrl: 'https://ui.honeycomb.io/my-team/environments/dev/trace?trace_id={traceId}' }
   */
  debug?: boolean | WaggleDebugOptions;
  /** Where to load the agent's `.wasm` from, when a bundler moves it. @default next to this module */
  wasmUrl?: string;
}

/** A consent state: see {@link setConsent}. */
export type Consent = 'granted' | 'pending' | 'denied';

/** `debug` as an object: debug on, with these. */
export interface WaggleDebugOptions {
  /** A link to a trace, `{traceId}` where its id goes; printed after each span's trace id. */
  traceUrl?: string;
}

/**
 * The rejection of {@link init} for a missing or wrong option; the page is
 * as it was.
 * @example
 * init({ serviceName: '' }).catch((e) => e instanceof WaggleConfigError && console.log(e.option)); // 'serviceName'
 */
export class WaggleConfigError extends TypeError {
  constructor(message: string, option: string);
  name: 'WaggleConfigError';
  /** The option's path, such as `batch.maxQueueSize`. */
  readonly option: string;
}

/**
 * The rejection of {@link init} when the agent's WebAssembly module cannot
 * be fetched or compiled (blocked, a wrong `wasmUrl`, a CSP without
 * `'wasm-unsafe-eval'`); the page is as it was.
 */
export class WaggleLoadError extends Error {
  constructor(message: string, cause?: unknown);
  name: 'WaggleLoadError';
  /** What failed underneath, such as the fetch's TypeError. */
  readonly cause?: unknown;
}

/**
 * Starts the agent: requests, clicks and errors are recorded from this
 * call on, and sent with their true times once the module runs. Resolves
 * then; rejects with a {@link WaggleConfigError} or a
 * {@link WaggleLoadError}. Outside a browser (server-side rendering) it
 * logs one line and resolves, doing nothing. A second call while the
 * agent runs is ignored with a warning.
 * @example
 * import { init } from 'waggle-rum';
 * await init({ serviceName: 'shop-web', endpoint: 'https://otel.example.com' });
 */
export function init(options: WaggleOptions): Promise<void>;

/**
 * Sends every queued span now; resolves when each has been tried (answered,
 * or waiting out a retry, or the page offline). Never rejects: a failed
 * export is retried or counted, not thrown.
 */
export function flush(): Promise<void>;

/** Flushes, then removes every listener and hook the agent installed. Never rejects. */
export function shutdown(): Promise<void>;

/**
 * An attribute value OTLP can carry: a string, number or boolean, or an
 * array of one of those. Anything else (a nested object, a mixed array) is
 * dropped with one console warning naming the key.
 */
export type AttributeValue = string | number | boolean | readonly string[] | readonly number[] | readonly boolean[];

/**
 * A DOM event name `interactionEvents` can record, such as `'click'`,
 * `'submit'` or `'keydown'`.
 */
export type InteractionEvent = keyof HTMLElementEventMap;

/** A span started by the app. */
export interface Span {
  /** Sets an attribute; later values replace earlier ones. */
  setAttribute(key: string, value: AttributeValue): void;
  /** Adds a timestamped event. */
  addEvent(name: string, attributes?: Record<string, AttributeValue>): void;
  /** Sets the status; an error carries a message. */
  setStatus(code: 'ok' | 'error' | 'unset', message?: string): void;
  /** Ends the span (later calls do nothing); `endTime` is a `performance.now()` value for a span that ended earlier. */
  end(endTime?: number): void;
  /** This span's `traceparent`, for a request the agent does not see. */
  traceparent(): string | undefined;
  /** Calls fn with this span current, so requests fn starts are its children. */
  run<T>(fn: () => T): T;
}

/**
 * Starts a span, a child of the current one if any; `startTime` is a
 * `performance.now()` value for a span that began earlier. Before init()
 * has resolved it returns a handle that does nothing.
 * @example
 * const span = startSpan('checkout.validate', { 'app.cart_items': 3 });
 * span.end();
 */
export function startSpan(name: string, attributes?: Record<string, AttributeValue>, startTime?: number): Span;

/**
 * Starts loading the WebAssembly module early, from a URL, a Response or a
 * promise of one (for example `fetch(url, { integrity })`); init() uses it.
 * Resolves to the module's exports (internal: only init() uses them);
 * rejects with a {@link WaggleLoadError}.
 */
export function loadAgent(source?: string | URL | Response | ArrayBuffer | Promise<Response>): Promise<WebAssembly.Exports>;

/**
 * Runs fn(span) inside a new span that ends when fn returns or, if fn
 * returns a promise, when it settles (error status if it rejects). Requests
 * fn starts synchronously, or in promise callbacks chained before the next
 * task, are children of the span; after an `await` on real I/O use
 * `span.run(() => fetch(...))`.
 * @example
 * await withSpan('load-cart', async (span) => { const r = await fetch('/api/cart'); span.setAttribute('app.items', 3); });
 */
export function withSpan<T>(name: string, fn: (span: Span) => T, attributes?: Record<string, AttributeValue>): T;

/**
 * Sets `user.*` attributes on every later span: `id` → `user.id`, `name`,
 * `email`, `fullName` → `user.full_name`, `roles`, `hash`, other keys as
 * `user.<key>`. `setUser(null)` clears them. Calls before init() resolves
 * are applied when it does. Anything but an object or null (such as
 * `setUser('42')`) is ignored with one console warning.
 * @example
 * setUser({ id: '42', roles: ['admin'] });
 */
export function setUser(user: Record<string, AttributeValue | null | undefined> | null): void;

/**
 * Adds attributes to every later span (merged with init's `attributes`); a
 * key set to `null` is removed, one set to `undefined` left as it was.
 */
export function setGlobalAttributes(attributes: Record<string, AttributeValue | null | undefined>): void;

/**
 * Names the route of the view now shown, as a low-cardinality template
 * such as `'/products/:id'`: `waggle.page.route` (on every span from now,
 * on the route change that led here if it is still open, and
 * `waggle.route.to`) carries it instead of the path, until the URL's path
 * changes. Routers call it right after they change the URL; the entry
 * points `waggle-rum/react-router`, `waggle-rum/vue-router` and
 * `waggle-rum/next` do. `null` takes the name back. The raw URL stays in
 * `browser.document.url.full` and `url.full`.
 * @example
 * setRoute('/products/:id');
 */
export function setRoute(route: string | null): void;

/**
 * Sets the user's consent. `'granted'`: what was recorded while pending
 * (with its original times) is sent, the session is written to storage,
 * and the agent goes on as usual. `'denied'`: the agent stops as
 * {@link shutdown} stops it, without sending; what it held is dropped and
 * every key it wrote to storage is removed; a later `'granted'` starts it
 * again from then on, with a new session. `'pending'` is a starting state
 * only (before init, or as the `consent` option): once granted or denied
 * it is ignored with a console warning, as is anything that is not one
 * of the three. Calls before init() are applied when it runs, and win
 * over its `consent` option.
 * @example
 * init({ serviceName: 'shop-web', consent: 'pending' });
 * onConsentBanner((accepted) => setConsent(accepted ? 'granted' : 'denied'));
 */
export function setConsent(consent: Consent): void;
