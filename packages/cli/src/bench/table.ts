import type { Row } from './workloads.js';

const fixed = (value: number, digits = 2) => value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Benchmark rows as a Markdown table: throughput, latency percentiles, round trips per operation. */
export function benchTable(rows: readonly Row[]): string[] {
  const lines = [
    '| workload | by | operations | events/s (streams/s for listing) | p50 ms | p99 ms | round trips per operation | note |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const trips = row.roundTrips === undefined ? '— (embedded)' : fixed(row.roundTrips);
    const rate = Math.round(row.items / row.seconds).toLocaleString('en');
    lines.push(`| ${row.workload} | ${row.by} | ${row.operations} | ${rate} | ${fixed(row.p50ms)} | ${fixed(row.p99ms)} | ${trips} | ${row.note ?? ''} |`);
  }
  return lines;
}
