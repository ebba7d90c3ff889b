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
  /** Attributes added to every span. @default {} */
  attributes?: Record<string, string | number | boolean>;
  /** Switch instrumentations off. @default all true */
  instrumentations?: {
    /** `documentLoad`, `documentFetch`, `resourceFetch`. @default true */
    documentLoad?: boolean;
    /** `fetch` calls. @default true */
    fetch?: boolean;
    /** `XMLHttpRequest` calls. @default true */
    xhr?: boolean;
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
  /** Logs each export to the console. @default false */
  debug?: boolean;
  /** Where to load the agent's `.wasm` from, when a bundler moves it. @default next to this module */
  wasmUrl?: string;
}

/** Thrown (as a rejection of {@link init}) for a missing or wrong option. */
export interface WaggleConfigError extends TypeError {
  name: 'WaggleConfigError';
  /** The option's path, such as `batch.maxQueueSize`. */
  option: string;
}

/**
 * Starts the agent.
 * @example
 * import { init } from 'waggle-rum';
 * await init({ serviceName: 'shop-web', endpoint: 'https://otel.example.com' });
 */
export function init(options: WaggleOptions): Promise<void>;

/** Sends every queued span now; resolves when the Collector has answered. */
export function flush(): Promise<void>;

/** Flushes, then removes every listener and hook the agent installed. */
export function shutdown(): Promise<void>;
