// The OpenTelemetry JS web stack as a team would ship it without zone.js:
// the web tracer provider, the four web instrumentations and the OTLP/HTTP
// exporter, behind the same small API the benchmark drives Waggle with
// (init, startSpan(name, attributes) -> span with end(), flush, shutdown).
//
// Every setting is the library's default except the service name and the
// exporter's URL, so the figures are what a page gets out of the box.
import { trace } from '@opentelemetry/api';
import { WebTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-web';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { XMLHttpRequestInstrumentation } from '@opentelemetry/instrumentation-xml-http-request';
import { UserInteractionInstrumentation } from '@opentelemetry/instrumentation-user-interaction';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

let provider = null;
let tracer = null;
let unregister = null;

/**
 * Starts tracing. `endpoint` is the OTLP/HTTP base URL, as for Waggle:
 * spans go to `${endpoint}/v1/traces`.
 */
export async function init({ serviceName, endpoint }) {
  provider = new WebTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
  });
  provider.register();
  unregister = registerInstrumentations({
    instrumentations: [
      new DocumentLoadInstrumentation(),
      new FetchInstrumentation(),
      new XMLHttpRequestInstrumentation(),
      new UserInteractionInstrumentation(),
    ],
  });
  tracer = trace.getTracer('bench-app');
}

/** Starts a span with attributes; the caller ends it. */
export function startSpan(name, attributes) {
  return tracer.startSpan(name, { attributes });
}

/** Exports what the batch processor holds. */
export function flush() {
  return provider ? provider.forceFlush() : Promise.resolve();
}

/**
 * As Waggle's shutdown(): the instrumentations' hooks come out, and what
 * the batch processor holds is exported before the provider stops.
 */
export function shutdown() {
  if (unregister) unregister();
  unregister = null;
  return provider ? provider.shutdown() : Promise.resolve();
}
