import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createMemoryDriver, createStore, DriverError, type KeyValueDriver } from '@keyvent/core';

// The spans an application sees once it installs an OpenTelemetry SDK, taken by an in-memory exporter.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
const only = (name: string): ReadableSpan => {
  const spans = named(name);
  expect(spans).toHaveLength(1);
  return spans[0]!;
};
const SECRET = 's3cr3t-card-number';

describe('OpenTelemetry spans', () => {
  it('traces an append with the database conventions, the stream, versions and count, and its driver call as a child', async () => {
    const store = createStore(createMemoryDriver());
    await store.append('order-1', [{ type: 'Placed', data: { card: SECRET } }, { type: 'Paid', data: { card: SECRET } }], { expectedVersion: 0 });
    const append = only('keyvent.append');
    expect(append.kind).toBe(SpanKind.INTERNAL);
    expect(append.attributes).toEqual({
      'db.system.name': 'memory',
      'db.operation.name': 'append',
      'keyvent.stream.key': 'order-1',
      'keyvent.expected_version': '0',
      'keyvent.event_count': 2,
      'keyvent.version': 2,
    });
    const put = only('memory.putEvents');
    expect(put.kind).toBe(SpanKind.CLIENT);
    expect(put.attributes).toMatchObject({ 'db.system.name': 'memory', 'db.operation.name': 'putEvents', 'keyvent.attempt': 1 });
    expect(put.parentSpanContext?.spanId).toBe(append.spanContext().spanId);
  });

  it('traces reads page by page and listings, and never records event data', async () => {
    const store = createStore(createMemoryDriver());
    await store.append('order-2', [{ type: 'Placed', data: { card: SECRET }, metadata: { note: SECRET } }], { expectedVersion: 0 });
    for await (const event of store.readStream('order-2', { pageSize: 1 })) expect(event.type).toBe('Placed');
    await store.listStreams({ prefix: 'order-' });
    expect(named('keyvent.read').map((span) => span.attributes['keyvent.event_count'])).toEqual([1, 0]);
    expect(only('keyvent.list').attributes).toMatchObject({ 'db.operation.name': 'list', 'keyvent.stream_count': 1 });
    expect(JSON.stringify(exporter.getFinishedSpans().map((span) => [span.attributes, span.events, span.status]))).not.toContain(SECRET);
  });

  it('marks a conflict with its error type and the actual version', async () => {
    const store = createStore(createMemoryDriver());
    await store.append('order-3', { type: 'Placed', data: null }, { expectedVersion: 0 });
    await expect(store.append('order-3', { type: 'Placed', data: null }, { expectedVersion: 0 })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY' });
    const failed = named('keyvent.append')[1]!;
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'KEYVENT_CONCURRENCY' });
    expect(failed.attributes).toMatchObject({ 'error.type': 'KEYVENT_CONCURRENCY', 'keyvent.actual_version': 1 });
  });

  it('shows each retry of a driver call as its own span', async () => {
    const inner = createMemoryDriver();
    let calls = 0;
    const flaky: KeyValueDriver = {
      ...inner,
      name: 'flaky',
      putEvents: async (events, options) => {
        if (++calls === 1) throw new DriverError('flaky', 'throttled', { retryable: true });
        return inner.putEvents(events, options);
      },
    };
    await createStore(flaky, { retry: { firstDelayMs: 1 } }).append('order-4', { type: 'Placed', data: null }, { expectedVersion: 0 });
    const attempts = named('flaky.putEvents').map((span) => [span.attributes['keyvent.attempt'], span.attributes['error.type'] ?? 'ok', span.attributes['keyvent.retryable'] ?? '-']);
    expect(attempts).toEqual([
      [1, 'KEYVENT_DRIVER', true],
      [2, 'ok', '-'],
    ]);
  });
});

describe('OpenTelemetry context', () => {
  it('runs subscribers outside the span of the append that woke them', async () => {
    const store = createStore(createMemoryDriver());
    store.subscribe(async () => trace.getTracer('app').startActiveSpan('projection', (span) => span.end()));
    await store.append('a', { type: 'A', data: null }, { expectedVersion: 0 });
    await store.append('b', { type: 'B', data: null }, { expectedVersion: 0 });
    await store.close();
    expect(named('projection').map((span) => span.parentSpanContext?.spanId)).toEqual([undefined, undefined]);
  });

  it('rejects, never throws synchronously, whatever append is given', async () => {
    const store = createStore(createMemoryDriver());
    const calls = [
      () => store.append(Object.create(null) as string, { type: 'A', data: null }),
      () => store.append('k', { type: 'A', data: null }, null as never),
      () => store.append('k', { type: 'A', data: null }, { expectedVersion: Object.create(null) as number }),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call())).not.toThrow();
      await expect(promise).rejects.toBeDefined();
    }
  });
});
