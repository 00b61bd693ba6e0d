import { describe, expect, it } from '@jest/globals';
import { createMemoryDriver, createStore, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import { deferred, eventually, sleep } from './helpers.js';

const event = (n: number) => ({ type: 'T', data: n });

/**
 * The memory driver whose put of the commit starting at a held sequence stores it, then waits for the test
 * to let its reply go (`stored: false`: waits before storing, as a put still on its way).
 */
function heldPuts(stored = true) {
  const inner = createMemoryDriver();
  const held = new Map<number, ReturnType<typeof deferred>>();
  const hold = (sequence: number) => {
    const gate = deferred();
    held.set(sequence, gate);
    return gate.resolve;
  };
  const driver: KeyValueDriver = {
    ...inner,
    putEvents: async (events, options) => {
      const gate = held.get(events[0]!.sequence);
      held.delete(events[0]!.sequence);
      if (gate && !stored) await gate.promise;
      await inner.putEvents(events, options);
      if (gate && stored) await gate.promise;
    },
  };
  return { driver, hold };
}

describe('publication order', () => {
  it('publishes three commits of a stream in order when the middle one is acknowledged last', async () => {
    const { driver, hold } = heldPuts();
    const store = createStore(driver);
    const seen: number[] = [];
    store.subscribe((stored: StoredEvent) => void seen.push(stored.sequence));
    const releaseFirst = hold(1);
    const releaseSecond = hold(2);
    const first = store.append('s', event(1), { expectedVersion: 0 });
    await sleep(5);
    const second = store.append('s', event(2), { expectedVersion: 1 });
    await sleep(5);
    releaseFirst();
    await first;
    // The first has settled; the second is still in flight, so the third must wait for it.
    await store.append('s', event(3), { expectedVersion: 2 });
    await sleep(5);
    expect(seen).toEqual([1]);
    releaseSecond();
    await second;
    await store.close();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('publishes a commit at once, without waiting for a rival commit at the same version still in flight', async () => {
    const { driver, hold } = heldPuts(false);
    const store = createStore(driver);
    const seen: unknown[] = [];
    store.subscribe((stored: StoredEvent) => void seen.push(stored.data));
    const releaseRival = hold(1);
    const rival = store.append('s', event(0), { expectedVersion: 0 }).catch((error: unknown) => error);
    await sleep(5);
    await store.append('s', event(1), { expectedVersion: 0 });
    await eventually(() => seen.length === 1);
    releaseRival();
    expect(await rival).toMatchObject({ code: 'KEYVENT_CONCURRENCY' });
    await store.close();
    expect(seen).toEqual([1]);
  });
});

describe('subscriber queues', () => {
  it('hands an idle subscriber a commit larger than its maxBacklog whole, without dropping it', async () => {
    const store = createStore(createMemoryDriver());
    const seen: number[] = [];
    const dropped: unknown[] = [];
    store.subscribe((stored) => void seen.push(stored.sequence), { maxBacklog: 2, onDropped: (info) => void dropped.push(info) });
    await store.append('s', [1, 2, 3, 4, 5].map(event));
    await store.close();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(dropped).toEqual([]);
  });

  it('delivers nothing more once unsubscribed, not even the events already queued', async () => {
    const store = createStore(createMemoryDriver());
    const gate = deferred();
    const seen: number[] = [];
    const unsubscribe = store.subscribe(async (stored) => {
      seen.push(stored.sequence);
      await gate.promise;
    });
    await store.append('s', [1, 2, 3].map(event));
    await eventually(() => seen.length === 1);
    unsubscribe();
    gate.resolve();
    await store.close();
    expect(seen).toEqual([1]);
  });
});
