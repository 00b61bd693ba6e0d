import { createEventRegistry, createRepository, Aggregate, type EventStore, type SnapshotOptions } from '@keyvent/core';
import { forEachConcurrently } from '../concurrently.js';
import { keyventOps, type BenchEvent, type BenchTarget, type Ops } from './ops.js';

/** What the workloads run on: keyvent's store, and the raw client where there is one to compare with. */
export type WorkloadTarget = Pick<BenchTarget, 'store' | 'raw' | 'rawSeparate' | 'peers' | 'requests'>;

export interface Sizes {
  /** Single-event appends, each to a new stream. */
  singleAppends: number;
  /** Streams that each get `commitsPerStream` 10-event commits. */
  commitStreams: number;
  commitsPerStream: number;
  /** Writers racing on one stream, and the appends each must get in. */
  racingWriters: number;
  appendsPerWriter: number;
  /** Events in the stream that is loaded, and how many times it is loaded. */
  longStream: number;
  repeats: number;
  /** Streams that are listed. */
  listedStreams: number;
  /** Events in the aggregate loaded with and without snapshots. */
  aggregateEvents: number;
  /** Concurrent operations where a workload runs several at once. */
  concurrency: number;
}

export const FULL: Sizes = {
  singleAppends: 1000, commitStreams: 50, commitsPerStream: 5, racingWriters: 8, appendsPerWriter: 25,
  longStream: 10_000, repeats: 3, listedStreams: 10_000, aggregateEvents: 100_000, concurrency: 8,
};
export const QUICK: Sizes = {
  singleAppends: 50, commitStreams: 5, commitsPerStream: 2, racingWriters: 4, appendsPerWriter: 3,
  longStream: 500, repeats: 1, listedStreams: 200, aggregateEvents: 2000, concurrency: 4,
};

export interface Row {
  workload: string;
  /** `keyvent`, `raw client`, or a peer library's name. */
  by: string;
  operations: number;
  /** Events written or read (streams, for listing). */
  items: number;
  seconds: number;
  p50ms: number;
  p99ms: number;
  /** Requests to the server per operation; undefined for embedded stores. */
  roundTrips?: number;
  /** Events per second in each round of a write workload (the rounds interleave the sides). */
  roundRates?: number[];
  note?: string;
}

const event = (n: number): BenchEvent => ({ type: 'Deposited', data: { n, amount: 100, memo: 'benchmark event, about one hundred bytes of JSON' } });
const events = (count: number, from = 1) => Array.from({ length: count }, (_, i) => event(from + i));

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `jobs`, `concurrency` at a time; each job returns the latencies (ms) of the operations it timed. */
interface Measured {
  latencies: number[];
  seconds: number;
  p50ms: number;
  p99ms: number;
  operations: number;
}

async function measure(concurrency: number, jobs: (() => Promise<number[]>)[]): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  await forEachConcurrently(jobs, concurrency, async (job) => void latencies.push(...(await job())));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { latencies, seconds, p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), operations: latencies.length };
}

async function timed(work: () => Promise<unknown>): Promise<number[]> {
  const started = performance.now();
  await work();
  return [performance.now() - started];
}

/** Fills a stream with `count` events in the largest commits the driver takes. */
async function fill(store: EventStore, key: string, count: number, commitSize: number): Promise<void> {
  for (let version = 0; version < count; version += commitSize) {
    await store.append(key, events(Math.min(commitSize, count - version), version + 1), { expectedVersion: version });
  }
}

type Ledger = { type: 'Deposited'; data: { n: number; amount: number; memo: string } };
class Account extends Aggregate<Ledger> {
  balance = 0;
  protected apply(deposit: Ledger): void {
    this.balance += deposit.data.amount;
  }
}

interface WriteWorkload {
  name: string;
  /** How many units (appends, streams, writers' appends) the full workload has; a run does `units` of them. */
  units: number;
  eventsPerOperation: number;
  run(prefix: string, ops: Ops, units: number): Promise<{ latencies: number[]; seconds: number; conflicts: number }>;
}

function writeWorkloads(sizes: Sizes): WriteWorkload[] {
  const timedRun = async (concurrency: number, jobs: (() => Promise<number[]>)[]) => {
    const result = await measure(concurrency, jobs);
    return { latencies: result.latencies, seconds: result.seconds, conflicts: 0 };
  };
  return [
    {
      name: 'single-event appends, new streams',
      units: sizes.singleAppends,
      eventsPerOperation: 1,
      run: (prefix, ops, units) => timedRun(sizes.concurrency, Array.from({ length: units }, (_, i) => () => timed(() => ops.appendNew(`${prefix}:single:${i}`, [event(1)])))),
    },
    {
      name: "10-event commits at the caller's version",
      units: sizes.commitStreams,
      eventsPerOperation: 10,
      run: (prefix, ops, units) =>
        timedRun(sizes.concurrency, Array.from({ length: units }, (_, s) => async () => {
          const latencies: number[] = [];
          for (let c = 0; c < sizes.commitsPerStream; c++) {
            latencies.push(...(await timed(async () => {
              if (!(await ops.appendAt(`${prefix}:commits:${s}`, events(10, c * 10 + 1), c * 10))) throw new Error('unexpected conflict');
            })));
          }
          return latencies;
        })),
    },
    {
      name: `${sizes.racingWriters} writers racing on one stream`,
      units: sizes.appendsPerWriter,
      eventsPerOperation: 1,
      run: async (prefix, ops, units) => {
        let conflicts = 0;
        const key = `${prefix}:race`;
        const result = await timedRun(sizes.racingWriters, Array.from({ length: sizes.racingWriters }, () => async () => {
          const latencies: number[] = [];
          for (let done = 0; done < units; done++) {
            latencies.push(...(await timed(async () => {
              while (!(await ops.appendAt(key, [event(done)], await ops.head(key)))) conflicts++;
            })));
          }
          return latencies;
        }));
        return { ...result, conflicts };
      },
    },
  ];
}

/** Every workload, with the raw client (where there is one), keyvent and any peer library, on the same backend. */
export async function runWorkloads(target: WorkloadTarget, sizes: Sizes, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const run = `r${Date.now().toString(36)}`;
  const sides: [string, Ops][] = [
    ...(target.raw ? [['raw client', target.raw] as [string, Ops]] : []),
    ['keyvent', keyventOps(target.store)],
    ...(target.peers ?? []).map(({ name, ops }): [string, Ops] => [name, ops]),
  ];
  const shortName = (by: string) => (by === 'keyvent' ? 'k' : by === 'raw client' ? 'r' : by.replace(/\W+/g, '-'));
  const commitSize = Math.min(target.store.limits.maxEventsPerCommit ?? 1000, 1000);
  /** Runs a measured workload and records its row, with the requests it sent per operation. */
  const counted = async (row: Pick<Row, 'workload' | 'by' | 'items' | 'note'>, work: () => Promise<Measured>) => {
    const before = target.requests?.();
    const measured = await work();
    const after = target.requests?.();
    const { latencies: _, ...figures } = measured;
    const result: Row = { ...row, ...figures };
    if (before !== undefined && after !== undefined) result.roundTrips = (after - before) / measured.operations;
    rows.push(result);
    log(`  ${row.workload} | ${row.by}: ${Math.round(row.items / measured.seconds)}/s, p50 ${measured.p50ms.toFixed(2)} ms, p99 ${measured.p99ms.toFixed(2)} ms`);
    return result;
  };

  // Write workloads: an unrecorded warm-up pass (JIT, caches, connection pools), then ROUNDS rounds in
  // which every side runs a share of the workload, in an order that rotates, so that no side always
  // runs first or last on a server whose speed drifts.
  const ROUNDS = 3;
  for (const workload of writeWorkloads(sizes)) {
    for (const [by, ops] of sides) await workload.run(`${run}:warm:${shortName(by)}`, ops, Math.max(1, Math.ceil(workload.units / 10)));
    const totals = new Map<string, { latencies: number[]; seconds: number; requests: number; conflicts: number; roundRates: number[] }>();
    const share = Math.ceil(workload.units / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < sides.length; i++) {
        const [by, ops] = sides[(i + round) % sides.length]!;
        const before = target.requests?.() ?? 0;
        const outcome = await workload.run(`${run}:${round}:${shortName(by)}`, ops, share);
        const total = totals.get(by) ?? { latencies: [], seconds: 0, requests: 0, conflicts: 0, roundRates: [] };
        total.roundRates.push((outcome.latencies.length * workload.eventsPerOperation) / outcome.seconds);
        total.latencies.push(...outcome.latencies);
        total.seconds += outcome.seconds;
        total.requests += (target.requests?.() ?? 0) - before;
        total.conflicts += outcome.conflicts;
        totals.set(by, total);
      }
    }
    for (const [by] of sides) {
      const total = totals.get(by)!;
      const latencies = total.latencies.sort((a, b) => a - b);
      const row: Row = {
        workload: workload.name, by, operations: latencies.length, items: latencies.length * workload.eventsPerOperation, seconds: total.seconds,
        p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), roundRates: total.roundRates,
      };
      if (target.requests) row.roundTrips = total.requests / latencies.length;
      if (workload.name.includes('racing')) row.note = `${total.conflicts} conflicts, each retried after reading the head`;
      rows.push(row);
      log(`  ${row.workload} | ${by}: ${Math.round(row.items / row.seconds)}/s, p50 ${row.p50ms.toFixed(2)} ms, p99 ${row.p99ms.toFixed(2)} ms`);
    }
  }

  // Read workloads: the raw client writes the data once (twice where it keeps its own, as for LevelDB).
  const seeded = new Map<Ops, { longKey: string; listPrefix: string }>();
  for (const [by, ops] of sides) {
    const shared = target.raw && !target.rawSeparate && (by === 'keyvent' || by === 'raw client');
    const writer = shared ? target.raw! : ops;
    const existing = [...seeded.entries()].find(([seededBy]) => seededBy === writer)?.[1];
    if (existing) {
      seeded.set(ops, existing);
      continue;
    }
    const data = { longKey: `${run}:${shortName(by)}:long`, listPrefix: `${run}:${shortName(by)}:listed:` };
    for (let version = 0; version < sizes.longStream; version += commitSize) {
      await writer.appendAt(data.longKey, events(Math.min(commitSize, sizes.longStream - version), version + 1), version);
    }
    if (writer.list) {
      await measure(16, Array.from({ length: sizes.listedStreams }, (_, i) => () => timed(() => writer.appendNew(`${data.listPrefix}${String(i).padStart(6, '0')}`, [event(1)]))));
    }
    seeded.set(writer, data);
    seeded.set(ops, data);
  }
  for (const [by, ops] of sides) {
    const { longKey, listPrefix } = seeded.get(ops)!;
    await counted({ workload: `load a ${sizes.longStream.toLocaleString('en')}-event stream`, by, items: sizes.longStream * sizes.repeats }, () =>
      measure(1, Array.from({ length: sizes.repeats }, () => () => timed(async () => {
        if ((await ops.load(longKey)) !== sizes.longStream) throw new Error('short read');
      }))),
    );
    if (!ops.list) continue;
    const list = ops.list;
    await counted({ workload: `list ${sizes.listedStreams.toLocaleString('en')} streams`, by, items: sizes.listedStreams * sizes.repeats }, () =>
      measure(1, Array.from({ length: sizes.repeats }, () => () => timed(async () => {
        if ((await list(listPrefix)).length !== sizes.listedStreams) throw new Error('short listing');
      }))),
    );
  }

  rows.push(...(await aggregateLoads(target, `${run}:aggregate`, sizes, commitSize, log)));
  return rows;
}

/** Loads one long-lived aggregate through a repository: without snapshots, then with them. */
async function aggregateLoads(target: WorkloadTarget, key: string, sizes: Sizes, commitSize: number, log: (line: string) => void): Promise<Row[]> {
  await fill(target.store, key, sizes.aggregateEvents, commitSize);
  const registry = createEventRegistry<Ledger>({ Deposited: {} });
  const snapshots: SnapshotOptions<Account> = {
    every: 1000, shape: 1, take: (account) => account.balance, restore: (account, state) => void (account.balance = state as number),
  };
  const plain = createRepository({ store: target.store, registry, create: (id) => new Account(id) });
  const snapshotted = createRepository({ store: target.store, registry, create: (id) => new Account(id), snapshots });
  const expected = sizes.aggregateEvents * 100;
  const workload = `load a ${sizes.aggregateEvents.toLocaleString('en')}-event aggregate`;
  const rows: Row[] = [];
  for (const [by, repository] of [['keyvent, no snapshots', plain], ['keyvent, first load (takes the snapshot)', snapshotted], ['keyvent, from the snapshot', snapshotted]] as const) {
    const before = target.requests?.();
    const [ms] = await timed(async () => {
      if ((await repository.load(key)).balance !== expected) throw new Error('wrong balance');
    });
    const row: Row = { workload, by, operations: 1, items: sizes.aggregateEvents, seconds: ms! / 1000, p50ms: ms!, p99ms: ms! };
    if (before !== undefined) row.roundTrips = target.requests!() - before;
    rows.push(row);
    log(`  ${workload} | ${by}: ${ms!.toFixed(0)} ms`);
  }
  return rows;
}
