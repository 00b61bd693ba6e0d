import assert from 'node:assert/strict';
import {
  createConsumer,
  createStore,
  isConsumerLeaseError,
  isConcurrencyError,
  isNotSupportedError,
  isValidationError,
  sliceOf,
  type Consumer,
  type ConsumerOptions,
  type EventStore,
  type FeedEvent,
  type KeyValueDriver,
} from '@keyvent/core';
import { closeWithin, eventually, makeEvents, readAll, uniqueKey, type SuiteContext } from './context.js';

/** The feed's timings in the suite: short, so cases take seconds; the skewed writer stays within them. */
export const FEED_TIMINGS = { settleMs: 3_000, liveLagMs: 50, restampAfterMs: 500 } as const;
/** How far behind the skewed writer's clock runs: within settleMs - restampAfterMs, with room for lag. */
const SKEW_MS = 1_500;
/**
 * How long a case waits for a delivery before it fails: a bound that tells a lost event from a slow one
 * on a busy machine (a delivery takes about settleMs), not a speed the case asserts.
 */
const DELIVERY_WAIT_MS = 30_000;

export interface FeedContext extends SuiteContext {
  /** A store on the suite's backend with the suite's feed timings. */
  feedStore: () => EventStore;
  /** A second store whose clock runs SKEW_MS behind, for a writer with a slow clock. */
  skewedStore: () => EventStore;
  /** The driver under both (left open by stores a case builds on it). */
  feedDriver: () => KeyValueDriver;
}

export const FEED_SKEW_MS = SKEW_MS;

export function feedCases(context: FeedContext): void {
  const { feedStore, skewedStore, store, driver, feedDriver } = context;
  const consumers: Consumer[] = [];
  /** A case of the feed; on a driver without one, the case checks instead that the store refuses the feed. */
  const it = (name: string, test: () => Promise<void>, timeout?: number) =>
    context.it(name, async () => {
      if (driver().feed) return test();
      assert.throws(() => store().readAll(), (error) => isNotSupportedError(error));
      assert.throws(() => createConsumer(store(), { name: 'x', handler: () => {} }), (error) => isNotSupportedError(error));
    }, timeout);

  /** A consumer that keeps the events of streams under `prefix` (the backend is shared with other cases). */
  function follow(prefix: string, options: Partial<ConsumerOptions> & { name: string }) {
    const seen: FeedEvent[] = [];
    const errors: unknown[] = [];
    const consumer = createConsumer(feedStore(), {
      from: 'end',
      pollMs: 50,
      handler: (events) => void seen.push(...events.filter((event) => event.key.startsWith(prefix))),
      onError: (error) => void errors.push(error),
      ...options,
    });
    consumers.push(consumer);
    return { seen, errors, consumer };
  }

  /** Every stored event of `keys` was delivered in `seen`, per stream in order (repeats allowed only of what came before). */
  async function assertDelivered(keys: readonly string[], seen: readonly FeedEvent[], exact: boolean) {
    for (const key of keys) {
      const stored = await readAll(feedStore(), key);
      const delivered = seen.filter((event) => event.key === key);
      let last = 0;
      for (const event of delivered) {
        if (exact || event.sequence > last) {
          assert.equal(event.sequence, last + 1, `stream ${key}: ${event.sequence} delivered after ${last}`);
          last = event.sequence;
        }
        assert.equal(event.id, stored[event.sequence - 1]?.id, `stream ${key}: event ${event.sequence} is not the stored one`);
        assert.equal(typeof event.position, 'string');
      }
      assert.equal(last, stored.length, `stream ${key}: ${stored.length} stored, ${last} delivered`);
    }
  }

  const stopAll = () => Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));

  it('delivers every acknowledged event of concurrent writers, per stream in order, and none of a refused commit', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const keys = Array.from({ length: 5 }, (_, i) => `${prefix}${i}`);
    const { seen, errors } = follow(prefix, { name: uniqueKey('consumer') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 0; i < 12; i++) {
          const key = keys[(writer + i) % keys.length]!;
          await feedStore().append(key, makeEvents(1 + (i % 3), `W${writer}`), { expectedVersion: 'any' });
          const wrong = await feedStore().append(key, { type: 'Refused', data: {} }, { expectedVersion: 0 }).catch((error: unknown) => error);
          if (isConcurrencyError(wrong)) refused.push(key);
        }
      }),
    );
    const total = (await Promise.all(keys.map(async (key) => (await readAll(feedStore(), key)).length))).reduce((a, b) => a + b, 0);
    await eventually(() => new Set(seen.map((event) => `${event.key}#${event.sequence}`)).size >= total, DELIVERY_WAIT_MS);
    await stopAll();
    assert.equal(refused.length, 8 * 12, 'every append at version 0 of an existing stream is refused');
    assert.ok(seen.every((event) => event.type !== 'Refused'), 'an event of a refused commit was delivered');
    await assertDelivered(keys, seen, false);
    assert.deepEqual(errors, []);
  }, 120_000);

  it('resumes from its checkpoint after a stop: nothing twice, nothing missed', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}s`;
    const name = uniqueKey('consumer');
    const first = follow(prefix, { name });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await feedStore().append(key, makeEvents(3), { expectedVersion: 0 });
    await eventually(() => first.seen.length === 3, DELIVERY_WAIT_MS);
    await first.consumer.stop();
    await feedStore().append(key, makeEvents(2), { expectedVersion: 3 });
    const second = follow(prefix, { name });
    await eventually(() => second.seen.length >= 2, DELIVERY_WAIT_MS);
    // Past the settled line, to be sure nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, FEED_TIMINGS.settleMs + 500));
    await stopAll();
    assert.deepEqual(first.seen.map((event) => event.sequence), [1, 2, 3]);
    assert.deepEqual(second.seen.map((event) => event.sequence), [4, 5]);
  }, 120_000);

  it(`loses nothing of a writer whose clock runs ${SKEW_MS} ms behind, and keeps each stream in order`, async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const keys = [`${prefix}a`, `${prefix}b`];
    const { seen } = follow(prefix, { name: uniqueKey('consumer') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 6; i++) {
      for (const key of keys) {
        const writer = i % 2 === 0 ? feedStore() : skewedStore();
        await writer.append(key, makeEvents(1, `T${i}`), { expectedVersion: i });
      }
    }
    await eventually(() => new Set(seen.map((event) => `${event.key}#${event.sequence}`)).size >= 12, DELIVERY_WAIT_MS);
    await stopAll();
    await assertDelivered(keys, seen, false);
  }, 120_000);

  it('delivers, in order, an event whose entry became visible after the settled position passed it, once its stream commits again', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}late`;
    const { seen, errors } = follow(prefix, { name: uniqueKey('consumer') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await feedStore().append(key, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => seen.length === 1, DELIVERY_WAIT_MS);
    // Until the settled position has passed event 1 whole (an earlier consumer forgot the stream then).
    await new Promise((resolve) => setTimeout(resolve, FEED_TIMINGS.settleMs + 1_000));
    // Event 2 is stamped twice settleMs in the past, by its writer's clock: below the settled position at once
    // (as an entry visible late: index lag, or a request that landed long after it was sent).
    const late = createStore({ ...feedDriver(), close: async () => {} }, { feed: { ...FEED_TIMINGS, clock: () => Date.now() - 2 * FEED_TIMINGS.settleMs } });
    await late.append(key, makeEvents(1, 'Late'), { expectedVersion: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await feedStore().append(key, makeEvents(1), { expectedVersion: 2 });
    await eventually(() => seen.length >= 3, DELIVERY_WAIT_MS);
    await stopAll();
    assert.deepEqual(seen.map((event) => event.sequence), [1, 2, 3]);
    assert.deepEqual(errors, []);
  }, 120_000);

  it("starts at the end with from: 'end', and at the start with from: 'start'", async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}s`;
    await feedStore().append(key, makeEvents(2), { expectedVersion: 0 });
    // 'end' on a stamped feed starts at the settled line (a slow clock's commits must not be skipped): wait past it.
    await new Promise((resolve) => setTimeout(resolve, FEED_TIMINGS.settleMs + 200));
    // Only this stream's slice, so the start consumer reads little of the shared backend.
    const slices = [sliceOf(key), sliceOf(key)] as const;
    const fromEnd = follow(prefix, { name: uniqueKey('consumer'), from: 'end', slices });
    const fromStart = follow(prefix, { name: uniqueKey('consumer'), from: 'start', slices });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await feedStore().append(key, makeEvents(1), { expectedVersion: 2 });
    await eventually(() => fromEnd.seen.length >= 1 && fromStart.seen.length >= 3, DELIVERY_WAIT_MS);
    await stopAll();
    assert.deepEqual(fromEnd.seen.map((event) => event.sequence), [3]);
    assert.deepEqual(fromStart.seen.map((event) => event.sequence), [1, 2, 3]);
  }, 120_000);

  it('readAll yields settled events in position order and resumes strictly after a position', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}s`;
    await feedStore().append(key, makeEvents(3), { expectedVersion: 0 });
    await feedStore().append(key, makeEvents(2), { expectedVersion: 3 });
    await new Promise((resolve) => setTimeout(resolve, FEED_TIMINGS.settleMs + 200));
    const slices = [sliceOf(key), sliceOf(key)] as const;
    const all: FeedEvent[] = [];
    for await (const event of feedStore().readAll({ slices })) all.push(event);
    const mine = all.filter((event) => event.key === key);
    assert.deepEqual(mine.map((event) => event.sequence), [1, 2, 3, 4, 5]);
    const positions = all.map((event) => event.position);
    assert.deepEqual(positions, [...positions].sort(), 'positions are not in order');
    assert.equal(new Set(positions).size, positions.length, 'a position repeats');
    const after: FeedEvent[] = [];
    for await (const event of feedStore().readAll({ slices, after: mine[2]!.position })) after.push(event);
    assert.deepEqual(after.filter((event) => event.key === key).map((event) => event.sequence), [4, 5]);
    const two: FeedEvent[] = [];
    for await (const event of feedStore().readAll({ slices, after: mine[0]!.position, limit: 2 })) two.push(event);
    assert.equal(two.length, 2);
  }, 120_000);

  it('delivers a narrow slice range whole when many commits of neighbouring slices come between its events', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}s`;
    const slice = sliceOf(key);
    // Streams of other slices that share its feed partition on every backend (16 slices on DynamoDB).
    const neighbours: string[] = [];
    for (let i = 0; neighbours.length < 3; i++) {
      const candidate = `${prefix}n${i}`;
      if (sliceOf(candidate) >> 4 === slice >> 4 && sliceOf(candidate) !== slice) neighbours.push(candidate);
    }
    const { seen } = follow(prefix, { name: uniqueKey('consumer'), slices: [slice, slice], batchSize: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await feedStore().append(key, makeEvents(1), { expectedVersion: 0 });
    for (const neighbour of neighbours) {
      for (let version = 0; version < 60; version += 30) await feedStore().append(neighbour, makeEvents(30), { expectedVersion: version });
    }
    await feedStore().append(key, makeEvents(1), { expectedVersion: 1 });
    await eventually(() => seen.length >= 2, DELIVERY_WAIT_MS);
    await stopAll();
    assert.deepEqual(seen.map((event) => `${event.key === key ? 's' : 'other'}#${event.sequence}`), ['s#1', 's#2']);
  }, 120_000);

  it('delivers everything with batches of one event (a page that re-reads the commit it resumes in)', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const key = `${prefix}s`;
    const { seen } = follow(prefix, { name: uniqueKey('consumer'), slices: [sliceOf(key), sliceOf(key)], batchSize: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let version = 0; version < 6; version += 2) await feedStore().append(key, makeEvents(2), { expectedVersion: version });
    await eventually(() => seen.length >= 6, DELIVERY_WAIT_MS);
    await stopAll();
    assert.deepEqual(seen.map((event) => event.sequence), [1, 2, 3, 4, 5, 6]);
  }, 120_000);

  /** A store on the feed store's backend with the feed off: a rolling upgrade's old writer, or one misconfigured process. */
  const feedOffStore = () => createStore({ ...feedDriver(), feed: undefined, close: async () => {} });

  it('delivers events written with the feed off, or before it existed, in order before the stream\'s next event: never a jump', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const keys = [`${prefix}a`, `${prefix}b`];
    const { seen, errors } = follow(prefix, { name: uniqueKey('consumer') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const off = feedOffStore();
    // a: 1-2 before the feed, 3 with it, 4-5 without, 6 with it. b: 1-2 with it, 3-5 without, 6 with it.
    for (const [writer, key, count] of [[off, 0, 2], [feedStore(), 0, 1], [off, 0, 2], [feedStore(), 0, 1], [feedStore(), 1, 2], [off, 1, 3], [feedStore(), 1, 1]] as const) {
      await writer.append(keys[key]!, makeEvents(count), { expectedVersion: 'any' });
    }
    await eventually(() => new Set(seen.map((event) => `${event.key}#${event.sequence}`)).size >= 12, DELIVERY_WAIT_MS);
    await stopAll();
    await assertDelivered(keys, seen, false);
    assert.deepEqual(errors, []);
  }, 120_000);

  it('hands over at most batchSize events, whatever the commits\' sizes, and fills a long gap over several batches', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const keys = [`${prefix}whole`, `${prefix}gap`];
    const batchSize = 4;
    const batches: number[] = [];
    const { seen, errors } = follow(prefix, { name: uniqueKey('consumer'), batchSize, handler: (events) => {
      batches.push(events.length);
      seen.push(...events.filter((event) => event.key.startsWith(prefix)));
    } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Commits of 3 events in 8 streams (a backend reading per partition or per commit returns more than asked), then a gap of 9 events without the feed.
    await Promise.all(Array.from({ length: 8 }, (_, i) => feedStore().append(`${keys[0]}/${i}`, makeEvents(3), { expectedVersion: 0 })));
    await feedOffStore().append(keys[1]!, makeEvents(9), { expectedVersion: 0 });
    await feedStore().append(keys[1]!, makeEvents(1), { expectedVersion: 9 });
    const all = [...Array.from({ length: 8 }, (_, i) => `${keys[0]}/${i}`), keys[1]!];
    await eventually(() => new Set(seen.map((event) => `${event.key}#${event.sequence}`)).size >= 8 * 3 + 10, DELIVERY_WAIT_MS);
    await stopAll();
    assert.ok(batches.every((size) => size <= batchSize), `batches of ${batches.join(', ')} events with batchSize ${batchSize}`);
    await assertDelivered(all, seen, false);
    assert.deepEqual(errors, []);
  }, 120_000);

  it('delivers none of keyvent\'s own streams (snapshots) to a consumer', async () => {
    const id = uniqueKey('feed');
    const snapshots: string[] = [];
    const { seen } = follow(id, { name: uniqueKey('consumer'), handler: (events) => {
      snapshots.push(...events.filter((event) => event.key.includes(id) && event.key.startsWith('$snapshot')).map((event) => event.key));
      seen.push(...events.filter((event) => event.key.startsWith(id)));
    } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await feedStore().append(`$snapshot/${id}`, makeEvents(2), { expectedVersion: 0 });
    await feedStore().append(`$snapshot#${id}`, makeEvents(1), { expectedVersion: 0 });
    await feedStore().append(id, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => seen.length >= 1, DELIVERY_WAIT_MS);
    // Past the settled line: a snapshot would have come by now.
    await new Promise((resolve) => setTimeout(resolve, FEED_TIMINGS.settleMs + 500));
    await stopAll();
    assert.deepEqual(snapshots, []);
  }, 120_000);

  it('splits a name between workers by slice range, and refuses an overlapping range', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const name = uniqueKey('consumer');
    const low = follow(prefix, { name, slices: [0, 511] });
    const high = follow(prefix, { name, slices: [512, 1023] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const keys = Array.from({ length: 12 }, (_, i) => `${prefix}${i}`);
    for (const key of keys) await feedStore().append(key, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => low.seen.length + high.seen.length >= keys.length, DELIVERY_WAIT_MS);
    const overlapping = follow(prefix, { name, slices: [500, 600] });
    await assert.rejects(overlapping.consumer.done, (error) => isConsumerLeaseError(error));
    await stopAll();
    assert.ok(low.seen.every((event) => sliceOf(event.key) <= 511));
    assert.ok(high.seen.every((event) => sliceOf(event.key) >= 512));
    assert.deepEqual([...low.seen, ...high.seen].map((event) => event.key).sort(), [...keys].sort());
  }, 120_000);

  it('runs exactly one of two workers of a name started together with overlapping ranges', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const pairs = Array.from({ length: 4 }, () => {
      const name = uniqueKey('consumer');
      // Started in the same tick: both find the name without ranges.
      return [follow(prefix, { name, slices: [0, 600] }), follow(prefix, { name, slices: [400, 1023] })];
    });
    const refused = pairs.map((pair) => pair.map(({ consumer }) => {
      const outcome = { refused: false };
      consumer.done.catch((error: unknown) => void (outcome.refused = isConsumerLeaseError(error)));
      return outcome;
    }));
    await eventually(() => refused.every((pair) => pair.some((outcome) => outcome.refused)), DELIVERY_WAIT_MS);
    // The other of each pair runs on: it delivers an event of a slice both ranges hold.
    let key = `${prefix}0`;
    for (let i = 1; sliceOf(key) < 400 || sliceOf(key) > 600; i++) key = `${prefix}${i}`;
    await feedStore().append(key, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => pairs.every((pair, i) => pair.some(({ seen }, j) => !refused[i]![j]!.refused && seen.length === 1)), DELIVERY_WAIT_MS);
    await stopAll();
    assert.deepEqual(refused.map((pair) => pair.filter((outcome) => outcome.refused).length), [1, 1, 1, 1]);
  }, 120_000);

  it('makes a second worker wait for the lease, and stops a worker whose lease was taken over while it could not renew it', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const name = uniqueKey('consumer');
    // The slow worker's checkpoint writes hang once its batch is in hand, as a paused process's or one
    // cut off from the backend would: its lease (renewed while its handler runs) runs out.
    const base = driver();
    let paused = false;
    let resume: () => void = () => {};
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const feed = { ...base.feed!, saveCheckpoint: async (...args: Parameters<NonNullable<typeof base.feed>['saveCheckpoint']>) => {
      if (paused) await resumed;
      return base.feed!.saveCheckpoint(...args);
    } };
    const pausable = createStore({ ...base, feed, close: async () => {} }, { feed: FEED_TIMINGS });
    // The other worker and the writer on the same driver (a memory driver's data is its own).
    const plain = createStore({ ...base, close: async () => {} }, { feed: FEED_TIMINGS });
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const errors: unknown[] = [];
    const slow = createConsumer(pausable, { name, from: 'end', pollMs: 50, leaseMs: 400, worker: 'slow', onError: (error) => void errors.push(error), handler: async (events) => {
      if (!events.some((event) => event.key.startsWith(prefix))) return;
      handled++;
      paused = true;
      await blocked;
    } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await plain.append(`${prefix}s`, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => handled === 1, DELIVERY_WAIT_MS);
    const seen: FeedEvent[] = [];
    const other = createConsumer(plain, { name, from: 'end', pollMs: 50, leaseMs: 400, worker: 'other', handler: (events) => void seen.push(...events.filter((event) => event.key.startsWith(prefix))) });
    await eventually(() => seen.length === 1, DELIVERY_WAIT_MS);
    release();
    resume();
    await assert.rejects(slow.done, (error) => isConsumerLeaseError(error));
    await other.stop();
    await Promise.all([pausable.close(), plain.close()]);
  }, 120_000);

  // Issue 21 (4): close waited for each consumer to stop, and a consumer stops only once its handler
  // returns: a hung handler held store.close() for ever, whatever closeTimeoutMs said.
  it('closes the store within closeTimeoutMs although a consumer\'s handler never returns, and tells that consumer', async () => {
    const prefix = `${uniqueKey('feed')}/`;
    const closeTimeoutMs = 500;
    // Its own store on the suite's driver (left open for the others).
    const own = createStore({ ...driver(), close: async () => {} }, { feed: FEED_TIMINGS, closeTimeoutMs });
    const errors: unknown[] = [];
    let handed = 0;
    createConsumer(own, { name: uniqueKey('consumer'), from: 'end', pollMs: 50, onError: (error) => void errors.push(error), handler: (events) => {
      if (!events.some((event) => event.key.startsWith(prefix))) return;
      handed++;
      return new Promise<void>(() => {});
    } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await own.append(`${prefix}s`, makeEvents(1), { expectedVersion: 0 });
    await eventually(() => handed === 1, DELIVERY_WAIT_MS);
    const started = Date.now();
    const outcome = await closeWithin(own, closeTimeoutMs + 20_000);
    assert.equal(outcome, 'closed');
    // Bounded, not hung: the margin is for a busy machine's timers.
    assert.ok(Date.now() - started < closeTimeoutMs + 5000, `close took ${Date.now() - started} ms`);
    assert.ok(errors.some((error) => isConsumerLeaseError(error) && /closeTimeoutMs/.test((error as Error).message)), 'the consumer was told');
  }, 120_000);

  // Issue 21 (5): a healthy worker lost its lease: a poll longer than the lease was accepted, and neither a
  // handler running longer than the lease nor the backoff after a handler's throw renewed it.
  it('refuses a poll that would let an idle worker\'s lease lapse (pollMs above a third of leaseMs)', async () => {
    assert.throws(
      () => createConsumer(feedStore(), { name: uniqueKey('consumer'), pollMs: 5_000, leaseMs: 10_000, handler: () => {} }),
      (error) => isValidationError(error) && (error as { path?: string }).path === 'pollMs',
    );
  });

  /** Long enough that a renewal (a third of it) lands in time on a busy cluster. */
  const LEASE_MS = 4_000;
  for (const [what, handler] of [
    ['a handler that runs three times the lease', (calls: number) => new Promise<void>((resolve) => setTimeout(resolve, calls === 1 ? 3 * LEASE_MS : 0))],
    ['a handler that throws for three times the lease (backing off)', async (calls: number, since: number) => {
      if (Date.now() - since < 3 * LEASE_MS) throw new Error(`attempt ${calls} fails`);
    }],
  ] as const) {
    it(`keeps its lease through ${what}: a second worker of the name waits, the first delivers`, async () => {
      const prefix = `${uniqueKey('feed')}/`;
      const name = uniqueKey('consumer');
      const leaseMs = LEASE_MS;
      let calls = 0;
      let since = 0;
      const first = follow(prefix, { name, leaseMs, pollMs: 50, worker: 'first', handler: async (events) => {
        const mine = events.filter((event) => event.key.startsWith(prefix));
        if (mine.length === 0) return;
        if (calls++ === 0) since = Date.now();
        await handler(calls, since);
        first.seen.push(...mine);
      } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await feedStore().append(`${prefix}s`, makeEvents(1), { expectedVersion: 0 });
      await eventually(() => calls >= 1, DELIVERY_WAIT_MS);
      const second = follow(prefix, { name, leaseMs, pollMs: 50, worker: 'second' });
      await eventually(() => first.seen.length === 1, DELIVERY_WAIT_MS);
      await new Promise((resolve) => setTimeout(resolve, leaseMs));
      assert.equal(second.seen.length, 0, 'the second worker took the range from a healthy first');
      assert.ok(!first.errors.some((error) => isConsumerLeaseError(error)), 'the first worker lost its lease');
      await stopAll();
      await first.consumer.done;
    }, 120_000);
  }
}
