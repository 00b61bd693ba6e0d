import { INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TracerProvider } from '@opentelemetry/api';
import { isConcurrencyError, isDriverError, isKeyventError } from './errors.js';

/**
 * OpenTelemetry spans through `@opentelemetry/api` only: a no-op unless the application registers an
 * SDK. Attributes follow the database semantic conventions (`db.system.name`, `db.operation.name`) plus
 * keyvent's own (`keyvent.stream.key`, versions, event counts); never event data, and for a failure
 * only its class (`error.type`: the keyvent error code), as messages may quote a caller's values.
 */
const TRACER_NAME = '@keyvent/core';
const tracer = trace.getTracer(TRACER_NAME);

/** What the work is handed when nothing is traced: a span whose methods do nothing. */
const UNTRACED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether an application has registered a tracer provider. Until then the global provider is the API's
 * proxy without a delegate, every span would be a no-op, and none is started; asked at each span, so a
 * provider registered later is used from then on. A provider of another kind counts as registered.
 */
function tracing(): boolean {
  const provider: TracerProvider & { getDelegateTracer?: (name: string) => unknown } = trace.getTracerProvider();
  return typeof provider.getDelegateTracer !== 'function' || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/** `db.system.name` of the semantic conventions where they name the backend; the driver's name otherwise. */
const SYSTEM_NAMES: Readonly<Record<string, string>> = { dynamodb: 'aws.dynamodb', cassandra: 'cassandra', mongodb: 'mongodb' };

/**
 * The spans of one store over one driver, each with the driver's `db.system.name` (looked up once) and
 * its operation as `db.operation.name`.
 */
export function driverSpans(driver: string) {
  const system = SYSTEM_NAMES[driver] ?? driver;
  const start = <T>(name: string, kind: SpanKind, operation: string, attributes: Attributes, run: (span: Span) => Promise<T>) =>
    tracing() ? traced(name, kind, { 'db.system.name': system, 'db.operation.name': operation, ...attributes }, run) : run(UNTRACED);
  return {
    /** One of the store's operations (`keyvent.append`…), parent of its driver calls' spans. */
    operation: <T>(operation: string, attributes: Attributes, run: (span: Span) => Promise<T>) =>
      start(`keyvent.${operation}`, SpanKind.INTERNAL, operation, attributes, run),
    /** One attempt of a driver call (`dynamodb.putEvents`), a client span. */
    request: <T>(operation: string, attributes: Attributes, run: (span: Span) => Promise<T>) =>
      start(`${driver}.${operation}`, SpanKind.CLIENT, operation, attributes, run),
  };
}

/**
 * Runs `run` inside an active span, so that the driver requests it makes are its children; ends the
 * span with the outcome. `run` may add attributes it learns (the new version, a count).
 */
function traced<T>(name: string, kind: SpanKind, attributes: Attributes, run: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await run(span);
    } catch (error) {
      const type = isKeyventError(error) ? error.code : error instanceof Error ? error.name : 'unknown';
      span.setAttribute('error.type', type);
      if (isConcurrencyError(error) && error.actualVersion !== undefined) span.setAttribute('keyvent.actual_version', error.actualVersion);
      if (isDriverError(error)) span.setAttribute('keyvent.retryable', error.retryable);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.end();
    }
  });
}

