import { afterEach, describe, expect, it } from '@jest/globals';
import { createConsumer, createMemoryDriver, createStore, isConsumerLeaseError, type Consumer, type ConsumerOptions, type FeedEvent } from '@keyvent/core';
import { consumerFixture, eventually, sleep, stopAfterTest, stopConsumers } from './helpers.js';

afterEach(stopConsumers);

describe('consumer leases', () => {
  it('keeps a second worker out while the lease is live, and lets it in once the first stops', async () => {
    const { store, follow, holder } = consumerFixture();
    const first = follow({ worker: 'a', leaseMs: 60_000 });
    await eventually(async () => (await holder('projection#0-1023')) === 'a');
    // The second worker looks again every 200 ms (its own leaseMs), so it sees the release at once.
    const second = follow({ worker: 'b', leaseMs: 200 });
    await store.append('s', { type: 'T', data: 1 });
    await eventually(() => first.seen.length === 1);
    await sleep(300);
    expect(second.seen).toEqual([]);
    expect(await holder('projection#0-1023')).toBe('a');

    await first.consumer.stop();
    await store.append('s', { type: 'T', data: 2 });
    await eventually(() => second.seen.length === 1);
    expect(second.seen.map((event) => event.sequence)).toEqual([2]);
    expect(first.seen.map((event) => event.sequence)).toEqual([1]);
  });

  it('lets a worker take over its own live lease at once (a restart under the same worker name)', async () => {
    const { driver, store, follow } = consumerFixture();
    const lease = { v: 1, ps: '', pl: '', r: [], worker: 'a', until: Date.now() + 60_000 };
    await driver.feed!.saveCheckpoint('projection#0-1023', JSON.stringify(lease), 1);
    const restarted = follow({ worker: 'a', leaseMs: 60_000 });
    await store.append('s', { type: 'T', data: 1 });
    await eventually(() => restarted.seen.length === 1);
  });

  it('runs workers on adjacent slice ranges, and refuses a range that shares a slice with one of them', async () => {
    const { follow, holder } = consumerFixture();
    follow({ slices: [0, 511] });
    await eventually(async () => (await holder('projection#0-511')) !== undefined);
    const high = follow({ slices: [512, 1023] });
    await eventually(async () => (await holder('projection#512-1023')) !== undefined);
    for (const slices of [[511, 511], [512, 512], [400, 600], [0, 1023]] as const) {
      const error = await follow({ slices }).consumer.done.catch((thrown: unknown) => thrown);
      expect(isConsumerLeaseError(error)).toBe(true);
    }
    // Another consumer name is another set of rows: any range.
    const other = follow({ name: 'audit', slices: [0, 1023] });
    await eventually(async () => (await holder('audit#0-1023')) !== undefined);
    await Promise.all([high.consumer.stop(), other.consumer.stop()]);
    await expect(high.consumer.done).resolves.toBeUndefined();
  });

  it('resolves done, without error, when stopped while it waits for another worker\'s lease', async () => {
    const { follow, holder } = consumerFixture();
    follow({ worker: 'a', leaseMs: 60_000 });
    await eventually(async () => (await holder('projection#0-1023')) === 'a');
    const waiting = follow({ worker: 'b', leaseMs: 60_000 });
    await sleep(50);
    await waiting.consumer.stop();
    await expect(waiting.consumer.done).resolves.toBeUndefined();
  });

  it('takes a checkpoint write whose reply was lost (the row holds exactly what it wrote) as written, and goes on', async () => {
    const driver = createMemoryDriver();
    const feed = driver.feed!;
    let lost = 0;
    const store = createStore({
      ...driver,
      feed: {
        ...feed,
        saveCheckpoint: async (name, value, version) => {
          const saved = await feed.saveCheckpoint(name, value, version);
          return saved && lost++ === 1 ? false : saved;
        },
      },
    });
    const seen: FeedEvent[] = [];
    const consumer = createConsumer(store, { name: 'projection', pollMs: 10, handler: (events) => void seen.push(...events) });
    stopAfterTest(consumer);
    for (const n of [1, 2, 3]) {
      await store.append('s', { type: 'T', data: n });
      await eventually(() => seen.length === n);
    }
    expect(lost).toBeGreaterThan(1);
    await consumer.stop();
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('stops with ConsumerLeaseError once another worker wrote its checkpoint row in between', async () => {
    const { driver, store, follow, holder } = consumerFixture();
    const first = follow({ worker: 'a', leaseMs: 60_000 });
    await eventually(async () => (await holder('projection#0-1023')) === 'a');
    const row = (await driver.feed!.loadCheckpoint('projection#0-1023'))!;
    const taken = { ...(JSON.parse(row.value) as object), worker: 'b' };
    expect(await driver.feed!.saveCheckpoint(row.name, JSON.stringify(taken), row.version + 1)).toBe(true);
    await store.append('s', { type: 'T', data: 1 });
    const error = await first.consumer.done.catch((thrown: unknown) => thrown);
    expect(isConsumerLeaseError(error)).toBe(true);
  });
});
