import { describe, expect, it } from '@jest/globals';
import { createMemoryDriver, createStore, eventBytes, pageBudget, type KeyValueDriver, type StoredEvent } from '@keyvent/core';

/** The memory driver, recording the size of every page it returns; `passOptions: false` drops the byte bound, as an old wrapper would. */
function recorded(passOptions: boolean) {
  const driver = createMemoryDriver({ feed: false });
  const pages: number[] = [];
  const limits: number[] = [];
  const wrapped: KeyValueDriver = {
    ...driver,
    fetchEvents: async (key, after, limit, options) => {
      const page: StoredEvent[] = await driver.fetchEvents(key, after, limit, passOptions ? options : undefined);
      pages.push(page.length);
      limits.push(limit);
      return page;
    },
  };
  return { driver: wrapped, pages, limits };
}

const events = Array.from({ length: 10 }, (_, i) => ({ type: 'Big', data: `${i}`.padEnd(700, 'x') }));
const size = eventBytes(events[0]!);

describe('read pages bounded in bytes', () => {
  it('ends each page once it reaches readPageBytes, and reads the whole stream both ways', async () => {
    const { driver, pages } = recorded(true);
    const store = createStore(driver, { readPageBytes: 2 * size + 1 });
    await store.append('big', events);
    const forward: number[] = [];
    for await (const event of store.readStream('big')) forward.push(event.sequence);
    expect(forward).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(pages).toEqual([3, 3, 3, 1]);
    const backward: number[] = [];
    for await (const event of store.readStream('big', { direction: 'backward', pageSize: 5 })) backward.push(event.sequence);
    expect(backward).toEqual(Array.from({ length: 10 }, (_, i) => 10 - i));
  });

  it('ends a page at exactly readPageBytes, and reads on after it, both ways, never asking for 0 events', async () => {
    const { driver, pages, limits } = recorded(true);
    const store = createStore(driver, { readPageBytes: 2 * size });
    await store.append('big', events);
    const forward: number[] = [];
    for await (const event of store.readStream('big')) forward.push(event.sequence);
    expect(forward).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(pages).toEqual([2, 2, 2, 2, 2, 0]);
    pages.length = 0;
    const backward: number[] = [];
    for await (const event of store.readStream('big', { direction: 'backward', pageSize: 5 })) backward.push(event.sequence);
    expect(backward).toEqual(Array.from({ length: 10 }, (_, i) => 10 - i));
    // Each 5-event page of the backward read takes three driver reads: 2, 2 and the 1 left.
    expect(pages).toEqual([2, 2, 1, 2, 2, 1]);
    expect(Math.min(...limits)).toBeGreaterThan(0);
  });

  it('reads whole pages from a driver (or wrapper) that ignores the bound: unbounded, never short', async () => {
    const { driver, pages } = recorded(false);
    const store = createStore(driver, { readPageBytes: 2 * size + 1 });
    await store.append('big', events);
    let count = 0;
    for await (const event of store.readStream('big')) count += event.sequence > 0 ? 1 : 0;
    expect(count).toBe(10);
    // Its short page holds more than the bound, so the store cannot tell it from a page ended by its bytes: one more read, empty.
    expect(pages).toEqual([10, 0]);
  });

  it('refuses a readPageBytes that is not a positive integer', () => {
    expect(() => createStore(createMemoryDriver(), { readPageBytes: 0 })).toThrow(/readPageBytes/);
  });
});

describe('pageBudget', () => {
  it('is full once the measured sizes reach the bound, however many events were counted by an upper bound', () => {
    const event = { type: 'T', data: 'x'.repeat(100) };
    const size = eventBytes(event);
    const budget = pageBudget(size * 3);
    // A loose bound (10 times the size) makes it measure early, but it is full only at the real size.
    expect([budget.add(event, size * 10), budget.add(event, size * 10), budget.add(event, size * 10)]).toEqual([false, false, true]);
    const exact = pageBudget(size * 3);
    expect([exact.add(event), exact.add(event), exact.full, exact.add(event), exact.full]).toEqual([false, false, false, true, true]);
    expect(pageBudget().add(event)).toBe(false);
  });
});
