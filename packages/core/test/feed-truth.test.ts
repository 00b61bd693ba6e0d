import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createConsumer, createMemoryDriver, createStore, isValidationError, type FeedEvent, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import { countingDriver, eventually, settlesWithin, stopAfterTest, stopConsumers } from './helpers.js';

// Issue 21's hostile review: what a reader is told, and what it costs, at the edges.
afterEach(stopConsumers);

describe('readers told the truth', () => {
  it("starts a from: 'end' consumer after a stream's history written with the feed off, not at its first event", async () => {
    const driver = createMemoryDriver();
    const store = createStore(driver);
    const feedOff = createStore({ ...driver, feed: undefined, close: async () => {} });
    await feedOff.append('s', Array.from({ length: 500 }, (_, i) => ({ type: 'Old', data: i })));
    const seen: FeedEvent[] = [];
    stopAfterTest(createConsumer(store, { name: 'late', from: 'end', pollMs: 10, handler: (events) => void seen.push(...events) }));
    await eventually(async () => (await driver.feed!.listCheckpoints()).some((row) => row.name === 'late#0-1023'));
    await feedOff.append('s', { type: 'New', data: 'off' });
    await store.append('s', { type: 'New', data: 'on' });
    await eventually(() => seen.length >= 2);
    // 501 came after the consumer began (no position: by gap repair), 502 with the feed; none of the history.
    expect(seen.map((event) => [event.sequence, event.position === ''])).toEqual([[501, true], [502, false]]);
  });

  it("delivers to a from: 'end' consumer a commit made as soon as createConsumer returned", async () => {
    const store = createStore(createMemoryDriver());
    const seen: FeedEvent[] = [];
    stopAfterTest(createConsumer(store, { name: 'now', from: 'end', pollMs: 10, handler: (events) => void seen.push(...events) }));
    await store.append('s', [{ type: 'A', data: 1 }, { type: 'B', data: 2 }]);
    await eventually(() => seen.length >= 2);
    expect(seen.map((event) => event.sequence)).toEqual([1, 2]);
  });

  it('reads a page a driver returns out of position order, or with a record twice, in order and once', async () => {
    const memory = createMemoryDriver();
    const driver: KeyValueDriver = {
      ...memory,
      feed: { ...memory.feed!, read: async (options) => {
        const page = await memory.feed!.read(options);
        return { ...page, records: [...page.records, ...page.records].reverse() };
      } },
    };
    const store = createStore(driver);
    const seen: FeedEvent[] = [];
    stopAfterTest(createConsumer(store, { name: 'shuffled', pollMs: 10, handler: (events) => void seen.push(...events) }));
    for (let i = 0; i < 5; i++) await store.append(`s-${i % 2}`, [{ type: 'A', data: i }, { type: 'B', data: i }]);
    await eventually(() => seen.length >= 10);
    const positions = seen.map((event) => event.position);
    expect(positions).toEqual([...new Set(positions)].sort());
    expect(seen).toHaveLength(10);
  });

  it('lists past thousands of snapshot streams in a few reads, and the key at the end of their range', async () => {
    const { driver, calls } = countingDriver();
    const store = createStore(driver);
    for (let i = 0; i < 3000; i++) await store.append(`$snapshot/order-${i}`, { type: '$snapshot', data: i });
    await store.append('$snapshot0', { type: 'T', data: 0 });
    await store.append('order-1', { type: 'T', data: 1 });
    calls.listKeys = 0;
    expect(await store.listStreams({ limit: 1 })).toEqual(['$snapshot0']);
    expect(await store.listStreams({ limit: 2 })).toEqual(['$snapshot0', 'order-1']);
    expect(calls.listKeys).toBeLessThanOrEqual(4);
  });

  it('does not hand snapshot streams to subscribers', async () => {
    const store = createStore(createMemoryDriver());
    const seen: string[] = [];
    store.subscribe((event) => void seen.push(event.key));
    await store.append('$snapshot/order-1', { type: '$snapshot', data: 1 });
    await store.append('order-1', { type: 'Placed', data: 1 });
    await store.close();
    expect(seen).toEqual(['order-1']);
  });

  it('answers an append whose late commit cannot be stamped again, within settleMs, and warns', async () => {
    const memory = createMemoryDriver();
    let restamps = 0;
    const warned = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    // A stamped feed whose re-stamp always fails, and a put slower than restampAfterMs.
    const driver: KeyValueDriver = {
      ...memory,
      putEvents: async (events: readonly StoredEvent[], options) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return memory.putEvents(events, options);
      },
      feed: { ...memory.feed!, kind: 'stamped' },
    };
    driver.feed!.restamp = async () => {
      restamps++;
      throw new Error('refused');
    };
    const store = createStore(driver, { feed: { settleMs: 1_000, restampAfterMs: 0 }, retry: { attempts: 1 } });
    try {
      expect(await settlesWithin(store.append('s', { type: 'T', data: 1 }), 10_000)).toBe(true);
      expect(restamps).toBeGreaterThan(1);
      expect(String(warned.mock.calls[0]?.[0])).toContain('could not be stamped again within settleMs');
    } finally {
      warned.mockRestore();
      await store.close();
    }
  });

  it('refuses a record window that is not a whole number of milliseconds from 0 to a day', () => {
    const store = createStore(createMemoryDriver());
    for (const recordWindowMs of [-1, 0.5, 86_400_001, Number.NaN]) {
      expect(() => createConsumer(store, { name: 'w', recordWindowMs, handler: () => {} })).toThrow(
        expect.objectContaining({ path: 'recordWindowMs' }) as unknown as Error,
      );
    }
  });

  it('stops a consumer whose name has a ranges row it cannot read, with a ValidationError', async () => {
    for (const value of ['not json', '{"v":1,"ranges":[5]}', '{"v":1,"ranges":[[0,"x"]]}', '{"v":1,"ranges":[[9,2]]}']) {
      const driver = createMemoryDriver();
      await driver.feed!.saveCheckpoint('broken#', value, 1);
      const consumer = createConsumer(createStore(driver), { name: 'broken', handler: () => {} });
      expect(isValidationError(await consumer.done.catch((error: unknown) => error))).toBe(true);
    }
  });
});
