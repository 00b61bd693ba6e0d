import { createConsumer, createStore, type EventStore, type FeedOptions } from '@keyvent/core';
import type { BenchTarget } from '@keyvent/cli';

export interface FeedSizes {
  /** Appends per round of the on ÷ off comparison (3 rounds each, interleaved). */
  appends: number;
  /** Seconds of steady writing while a consumer delivers. */
  deliverySeconds: number;
  /** Events in the store before the catch-up read. */
  catchUp: number;
}

export const FEED_FULL: FeedSizes = { appends: 2_000, deliverySeconds: 5, catchUp: 100_000 };
export const FEED_QUICK: FeedSizes = { appends: 200, deliverySeconds: 2, catchUp: 2_000 };

export interface FeedCostRow {
  backend: string;
  /** Appends/s with the feed ÷ without, per round. */
  ratios: number[];
  appendsPerSecond: { on: number[]; off: number[] };
  delivery: { p50: number; p99: number; count: number };
  catchUp: { events: number; seconds: number };
}

const CONCURRENCY = 8;
const DELIVERY_RATE = 400;
// Short timings so the bench does not wait: the live pass delivers what the settled pass would ~1 s later.
const TIMINGS: FeedOptions = { settleMs: 1_000, liveLagMs: 100 };

/**
 * The change feed's cost on one backend: single-event appends at exact versions on 8 streams at a time,
 * with the feed and without, three interleaved rounds (the ratio moves with the machine's noise, so it
 * is reported as a range); the time from an append's acknowledgement to its delivery to a consumer in
 * the same process, while 8 writers append at up to 400 appends/s in all; and reading the whole feed from
 * the start (`readAll`).
 */
export async function feedCost(target: BenchTarget, sizes: FeedSizes, log: (line: string) => void): Promise<FeedCostRow | undefined> {
  if (!target.feedDrivers) return undefined;
  const appendsPerSecond = { on: [] as number[], off: [] as number[] };
  for (let round = 0; round < 3; round++) {
    const { on, off } = target.feedDrivers();
    for (const [side, driver] of [['off', off], ['on', on]] as const) {
      const store = createStore(driver, { feed: TIMINGS });
      appendsPerSecond[side].push(await appendRate(store, sizes.appends, `feed-${side}-${round}-${Date.now()}`));
      await store.close();
    }
  }
  const ratios = appendsPerSecond.on.map((rate, i) => rate / appendsPerSecond.off[i]!);
  log(`  feed on ÷ off: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}`);
  const store = createStore(target.feedDrivers().on, { feed: TIMINGS });
  try {
    const delivery = await deliveryLatency(store, sizes.deliverySeconds);
    log(`  commit to delivery: p50 ${delivery.p50} ms, p99 ${delivery.p99} ms`);
    const catchUp = await catchUpRead(store, sizes.catchUp, target.store.limits.maxEventsPerCommit ?? 100);
    log(`  catch-up: ${catchUp.events} events in ${catchUp.seconds.toFixed(1)} s`);
    return { backend: target.backend, ratios, appendsPerSecond, delivery, catchUp };
  } finally {
    await store.close();
  }
}

async function appendRate(store: EventStore, appends: number, prefix: string): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, writer) => {
      for (let version = 0; version < appends / CONCURRENCY; version++) {
        await store.append(`${prefix}/${writer}`, { type: 'Measured', data: { version } }, { expectedVersion: version });
      }
    }),
  );
  return appends / ((performance.now() - started) / 1000);
}

async function deliveryLatency(store: EventStore, seconds: number) {
  const prefix = `feed-delivery-${Date.now()}`;
  const acked = new Map<string, number>();
  const lags: number[] = [];
  const consumer = createConsumer(store, {
    name: prefix,
    from: 'end',
    checkpoint: false,
    pollMs: 100,
    handler: (events) => {
      const now = performance.now();
      for (const event of events) {
        const at = acked.get(event.id);
        if (at !== undefined) lags.push(now - at);
      }
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const until = performance.now() + seconds * 1000;
  // A steady load (up to DELIVERY_RATE appends/s, fewer where the backend is slower): flat out, an
  // in-process store outruns any reader, and the figure would be the backlog, not the delivery time.
  const interval = (1000 * CONCURRENCY) / DELIVERY_RATE;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, writer) => {
      for (let version = 0; performance.now() < until; version++) {
        const started = performance.now();
        const { events } = await store.append(`${prefix}/${writer}`, { type: 'Measured', data: { version } }, { expectedVersion: version });
        acked.set(events[0]!.id, performance.now());
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - (performance.now() - started))));
      }
    }),
  );
  const deadline = performance.now() + 30_000;
  while (lags.length < acked.size && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await consumer.stop();
  lags.sort((a, b) => a - b);
  const at = (q: number) => Math.round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99), count: lags.length };
}

/** Seeds `count` events in commits of up to 100, waits for them to settle, and times `readAll` over the whole feed. */
async function catchUpRead(store: EventStore, count: number, maxCommit: number) {
  const size = Math.min(100, maxCommit);
  const commits = Math.ceil(count / size);
  const prefix = `feed-catch-up-${Date.now()}`;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let commit = next++; commit < commits; commit = next++) {
        const events = Array.from({ length: size }, (_, i) => ({ type: 'Seeded', data: { commit, i } }));
        await store.append(`${prefix}/${commit % 100}`, events);
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, (TIMINGS.settleMs ?? 0) + 500));
  const started = performance.now();
  let events = 0;
  for await (const _ of store.readAll()) events++;
  return { events, seconds: (performance.now() - started) / 1000 };
}
