import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { isConcurrencyError, isDriverError, isKeyventError } from './errors.js';

/**
 * OpenTelemetry spans through `@opentelemetry/api` only: a no-op unless the application registers an
 * SDK. Attributes follow the database semantic conventions (`db.system.name`, `db.operation.name`) plus
 * keyvent's own (`keyvent.stream.key`, versions, event counts); never event data, and for a failure
 * only its class (`error.type`: the keyvent error code), as messages may quote a caller's values.
 */
const tracer = trace.getTracer('@keyvent/core');

/** `db.system.name` of the semantic conventions where they name the backend; the driver's name otherwise. */
const SYSTEM_NAMES: Readonly<Record<string, string>> = { dynamodb: 'aws.dynamodb', cassandra: 'cassandra', mongodb: 'mongodb' };

export const systemName = (driver: string): string => SYSTEM_NAMES[driver] ?? driver;

/**
 * Runs `run` inside an active span, so that the driver requests it makes are its children; ends the
 * span with the outcome. `run` may add attributes it learns (the new version, a count).
 */
export function traced<T>(name: string, kind: SpanKind, attributes: Attributes, run: (span: Span) => Promise<T>): Promise<T> {
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

export { SpanKind };
