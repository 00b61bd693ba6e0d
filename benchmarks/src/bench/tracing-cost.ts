import { SpanKind, trace } from '@opentelemetry/api';
import { createMemoryDriver, createStore } from '@keyvent/core';

/**
 * What keyvent's spans would cost when the application installs no OpenTelemetry SDK (the API is then a
 * no-op), and keyvent starts none. Measured directly: the no-op `startActiveSpan` that core would wrap
 * each operation and each driver call in, against calling the same async function bare; then set
 * against an append on the memory driver (the cheapest there is, so the largest share), which would
 * make 2 spans at an exact version and 3 with `'any'` (a head read too). Five rounds each; the median and the range.
 */
export async function tracingCost(rounds = 5, calls = 200_000): Promise<string[]> {
  const tracer = trace.getTracer('bench');
  const work = async () => undefined;
  const attributes = { 'db.system.name': 'memory', 'db.operation.name': 'putEvents', 'keyvent.attempt': 1 };
  const timed = async (run: () => Promise<unknown>, count: number) => {
    const started = performance.now();
    for (let i = 0; i < count; i++) await run();
    return ((performance.now() - started) * 1e6) / count; // ns per call
  };
  const spanned = () =>
    tracer.startActiveSpan('memory.putEvents', { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await work();
      } finally {
        span.end();
      }
    });
  const store = createStore(createMemoryDriver());
  let n = 0;
  const append = () => store.append(`s-${n++}`, { type: 'A', data: n }, { expectedVersion: 0 });
  const bare: number[] = [];
  const wrapped: number[] = [];
  const appends: number[] = [];
  for (let round = 0; round < rounds; round++) {
    bare.push(await timed(work, calls));
    wrapped.push(await timed(spanned, calls));
    appends.push(await timed(append, calls / 10));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const range = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;
  const perSpan = wrapped.map((value, i) => value - bare[i]!);
  const share = (spans: number) => ((spans * median(perSpan)) / median(appends)) * 100;
  return [
    `| measure | median | range (${rounds} rounds) |`,
    '|---|---:|---:|',
    `| a bare async call, ns | ${Math.round(median(bare))} | ${range(bare)} |`,
    `| the same inside a no-op span, ns | ${Math.round(median(wrapped))} | ${range(wrapped)} |`,
    `| cost of one no-op span, ns | ${Math.round(median(perSpan))} | ${range(perSpan)} |`,
    `| an append on the memory driver (tracing in, no SDK), ns | ${Math.round(median(appends))} | ${range(appends)} |`,
    '',
    'With no SDK registered keyvent starts no span (it asks the API, at each span, whether a tracer provider is ' +
      `registered): no-op spans would have cost ${share(2).toFixed(1)}% of a memory-driver append at an exact version ` +
      `(2 spans) and ${share(3).toFixed(1)}% with \`'any'\` (3 spans).`,
  ];
}
