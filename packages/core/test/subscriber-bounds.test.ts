import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { createMemoryDriver, createStore, type KeyValueDriver, type SubscriptionDropped } from '@keyvent/core';
import { deferred, settlesWithin, sleep } from './helpers.js';

// Defect 3 of "Every outcome true": a subscriber's backlog had no bound (a 2 ms handler behind 200,000
// appends grew the heap from 4 MB to 258 MB), and a handler that never returned kept close() pending
// forever. Now each subscriber has a bounded queue (maxBacklog) and close waits at most closeTimeoutMs.

const event = (n: number) => ({ type: 'Tested', data: { n } });

describe('maxBacklog', () => {
  it('drops a subscriber whose backlog a commit would pass, tells it once what it missed, and keeps the others', async () => {
    const store = createStore(createMemoryDriver());
    const hold = deferred();
    const slow: number[] = [];
    const drops: SubscriptionDropped[] = [];
    store.subscribe(
      async (stored) => {
        slow.push(stored.sequence);
        await hold.promise;
      },
      { maxBacklog: 10, onDropped: (dropped) => drops.push(dropped) },
    );
    const everything: number[] = [];
    store.subscribe((stored) => void everything.push(stored.sequence));

    // Commits of 3: the handler holds event 1; after three commits 2..9 wait (8); a fourth would make 11, past 10.
    for (let version = 0; version < 18; version += 3) {
      await store.append('s', [event(version + 1), event(version + 2), event(version + 3)], { expectedVersion: version });
    }

    expect(drops).toEqual([{ reason: 'overflow', undelivered: 11, firstUndelivered: { key: 's', sequence: 2 } }]);
    hold.resolve();
    await store.close();
    expect(slow).toEqual([1]);
    expect(everything).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(drops).toHaveLength(1);
  });

  it('never lets the backlog of a slow handler pass the bound, and drops it at the commit that would', async () => {
    const store = createStore(createMemoryDriver());
    const maxBacklog = 20;
    const started: number[] = [];
    const drops: SubscriptionDropped[] = [];
    store.subscribe(
      async (stored) => {
        started.push(stored.sequence);
        await sleep(2);
      },
      { maxBacklog, onDropped: (dropped) => drops.push(dropped) },
    );

    const backlogs: number[] = [];
    for (let version = 0; version < 200; version++) {
      await store.append('s', event(version + 1), { expectedVersion: version });
      if (drops.length === 0) backlogs.push(version + 1 - started.length);
    }
    await store.close();

    expect(Math.max(...backlogs)).toBe(maxBacklog);
    expect(drops).toHaveLength(1);
    const [dropped] = drops;
    expect(dropped!.reason).toBe('overflow');
    expect(dropped!.undelivered).toBe(maxBacklog + 1);
    expect(dropped!.firstUndelivered).toEqual({ key: 's', sequence: started[started.length - 1]! + 1 });
    expect(started).toEqual(Array.from({ length: started.length }, (_, i) => i + 1));
  });

  it('keeps the heap small behind a slow handler: 50,000 appends with the default bound', async () => {
    const gc = exposeGc();
    const store = createStore(acceptingDriver());
    let stopped = false;
    const drops: SubscriptionDropped[] = [];
    store.subscribe(
      async () => {
        if (!stopped) await sleep(2);
      },
      { onDropped: (dropped) => drops.push(dropped) },
    );
    gc();
    const before = process.memoryUsage().heapUsed;
    try {
      for (let i = 0; i < 50_000; i++) {
        // About 1 kB each, and every one distinct, so that a backlog holding them shows in the heap.
        await store.append('s', { type: 'Padded', data: { n: i, pad: `${i}`.padEnd(1000, '.') } }, { expectedVersion: 'no_stream' });
      }
      gc();
      const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;

      expect(grownMb).toBeLessThan(32);
      expect(drops).toEqual([expect.objectContaining({ reason: 'overflow', undelivered: 10_001 })]);
    } finally {
      stopped = true;
      await store.close();
    }
  }, 30_000);
});

describe('closeTimeoutMs', () => {
  it('resolves close within closeTimeoutMs despite a handler that never returns, and drops that subscriber', async () => {
    const closeTimeoutMs = 200;
    const store = createStore(createMemoryDriver(), { closeTimeoutMs });
    const drops: SubscriptionDropped[] = [];
    store.subscribe(() => new Promise<void>(() => {}), { onDropped: (dropped) => drops.push(dropped) });
    const healthy: number[] = [];
    const healthyDrops: SubscriptionDropped[] = [];
    store.subscribe((stored) => void healthy.push(stored.sequence), { onDropped: (dropped) => healthyDrops.push(dropped) });
    await store.append('s', [event(1), event(2), event(3)]);

    const started = Date.now();
    const closed = await settlesWithin(store.close(), closeTimeoutMs + 10_000);
    const elapsed = Date.now() - started;

    expect(closed).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(closeTimeoutMs - 5);
    // Bounded, not hung: the margin is for a busy machine's timers.
    expect(elapsed).toBeLessThan(closeTimeoutMs + 5000);
    // Event 1 is in the handler that never returns; 2 and 3 never reached it.
    expect(drops).toEqual([{ reason: 'close-timeout', undelivered: 2, firstUndelivered: { key: 's', sequence: 2 } }]);
    expect(healthy).toEqual([1, 2, 3]);
    expect(healthyDrops).toEqual([]);
  });

  it('closes the driver after dropping the busy subscriber', async () => {
    let driverClosed = false;
    const driver: KeyValueDriver = { ...createMemoryDriver(), close: async () => void (driverClosed = true) };
    const store = createStore(driver, { closeTimeoutMs: 50 });
    store.subscribe(() => new Promise<void>(() => {}), { onDropped: () => {} });
    await store.append('s', event(1));
    expect(await settlesWithin(store.close(), 10_000)).toBe(true);
    expect(driverClosed).toBe(true);
  });
});

/** A driver that takes every commit and keeps nothing, so the heap measures the store alone. */
function acceptingDriver(): KeyValueDriver {
  return {
    name: 'accepting',
    checkSequence: async () => false,
    fetchEvents: async () => [],
    lastSequence: async () => 0,
    putEvents: async () => {},
    close: async () => {},
  };
}

/** The engine's collector, for a heap measurement that counts what is reachable only. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
