import { describe, expect, it } from '@jest/globals';
import { createMemoryDriver, createStore, DriverError, type AppendResult, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import { collect, sleep } from './helpers.js';

// Defect 2 of "Every outcome true": close() did not wait for the calls in flight. Appends in flight got
// the backend's raw "Database is not open", and commits that landed after close() resolved were still
// delivered to subscribers. Now close refuses new calls, lets those in flight finish (retries included),
// publishes, and only then closes the driver.

const event = (n: number) => ({ type: 'Tested', data: { n } });

/**
 * A memory driver whose calls each take `delayMs`, with a log of when puts settle and when it closes.
 * With `breaksOnClose` it behaves like a LevelDB handle: every call after close fails with a raw error.
 */
function slowDriver({ delayMs = 20, breaksOnClose = true, failFirstPut = false } = {}) {
  const inner = createMemoryDriver();
  const log: string[] = [];
  let closed = false;
  let puts = 0;
  let putsInFlight = 0;
  let putsInFlightAtClose: number | undefined;

  const slow =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (closed && breaksOnClose) throw new Error('Database is not open');
      await sleep(delayMs);
      if (closed && breaksOnClose) throw new Error('Database is not open');
      return call(...args);
    };

  const driver: KeyValueDriver = {
    ...inner,
    name: 'slow',
    checkSequence: slow(inner.checkSequence),
    fetchEvents: slow(inner.fetchEvents),
    lastSequence: slow(inner.lastSequence!),
    putEvents: async (events, options) => {
      puts++;
      putsInFlight++;
      try {
        if (failFirstPut && puts === 1) {
          await sleep(delayMs);
          throw new DriverError('slow', 'request timed out', { retryable: true });
        }
        await slow(inner.putEvents)(events, options);
      } finally {
        putsInFlight--;
        log.push('put settled');
      }
    },
    close: async () => {
      putsInFlightAtClose ??= putsInFlight;
      closed = true;
      log.push('close');
    },
  };
  return { driver, inner, log, puts: () => puts, putsInFlightAtClose: () => putsInFlightAtClose };
}

/** Each outcome as `ok` or the error's name and message, so a failure shows every wrong outcome at once. */
async function outcomesOf(calls: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : `${(outcome.reason as Error).name}: ${(outcome.reason as Error).message}`));
}

const idsOf = (results: readonly AppendResult[]) => results.flatMap((result) => result.events.map((stored) => stored.id)).sort();

describe('close with calls in flight', () => {
  it('lets every append in flight finish, retries included, delivers it before resolving, and closes the driver after the last put', async () => {
    const { driver, inner, log, putsInFlightAtClose } = slowDriver();
    const store = createStore(driver);
    const delivered: StoredEvent[] = [];
    store.subscribe((stored) => void delivered.push(stored));
    // Five commits to streams of their own, and five racing for one stream: those retry after close began.
    const appends = [
      ...[1, 2, 3, 4, 5].map((n) => store.append(`own-${n}`, event(n), { expectedVersion: 'no_stream' })),
      ...[6, 7, 8, 9, 10].map((n) => store.append('shared', event(n), { expectedVersion: 'any' })),
    ];

    const outcomes = outcomesOf(appends);
    await sleep(5); // the calls are inside the driver now
    await store.close();
    const deliveredAtClose = delivered.map((stored) => stored.id).sort();

    expect(await outcomes).toEqual(Array(10).fill('ok'));
    const results = await Promise.all(appends);
    expect(deliveredAtClose).toEqual(idsOf(results));
    expect(putsInFlightAtClose()).toBe(0);
    expect(log[log.length - 1]).toBe('close');
    const streams = await Promise.all(['own-1', 'own-2', 'own-3', 'own-4', 'own-5', 'shared'].map((key) => inner.fetchEvents(key, 0, 100)));
    expect(streams.flat().map((stored) => stored.id).sort()).toEqual(idsOf(results));
    expect(streams[5]!.map((stored) => stored.sequence)).toEqual([1, 2, 3, 4, 5]);
    await sleep(50);
    expect(delivered).toHaveLength(10);
  });

  it('lets an append whose put failed with a retryable error retry after close began', async () => {
    const { driver, puts } = slowDriver({ failFirstPut: true });
    const store = createStore(driver, { retry: { firstDelayMs: 10, maxDelayMs: 20 } });
    const outcome = outcomesOf([store.append('s', event(1), { expectedVersion: 0 })]);
    const closing = store.close();

    expect(await outcome).toEqual(['ok']);
    await closing;
    expect(puts()).toBe(2);
  });

  it('lets reads in flight finish', async () => {
    const { driver, inner } = slowDriver();
    await inner.putEvents([1, 2, 3].map((n): StoredEvent => ({ key: 's', sequence: n, type: 'T', data: n, id: `e${n}`, timestamp: new Date().toISOString() })));
    const store = createStore(driver);
    const read = collect(store.readStream('s'));
    const version = store.streamVersion('s');
    const outcomes = outcomesOf([read, version]);
    const closing = store.close();

    expect(await outcomes).toEqual(['ok', 'ok']);
    expect((await read).map((stored) => stored.sequence)).toEqual([1, 2, 3]);
    expect(await version).toBe(3);
    await closing;
  });

  it('delivers nothing after close resolves, even where the backend keeps working after close', async () => {
    const { driver } = slowDriver({ breaksOnClose: false });
    const store = createStore(driver);
    const delivered: number[] = [];
    store.subscribe((stored) => void delivered.push((stored.data as { n: number }).n));
    const appends = [1, 2, 3].map((n) => store.append(`s-${n}`, event(n), { expectedVersion: 0 }));

    await store.close();
    const deliveredAtClose = [...delivered].sort();
    await Promise.allSettled(appends);
    await sleep(50);

    expect(deliveredAtClose).toEqual([1, 2, 3]);
    expect(delivered.sort()).toEqual(deliveredAtClose);
  });
});

describe('calls after close', () => {
  it('refuses every call started after close began with StoreClosedError, subscribe included', async () => {
    const { driver } = slowDriver();
    const store = createStore(driver);
    const inFlight = outcomesOf([store.append('s', event(1))]);
    const closing = store.close();
    const closedError = { name: 'StoreClosedError', code: 'KEYVENT_CLOSED' };

    await expect(store.append('s', event(2))).rejects.toMatchObject(closedError);
    await expect(store.streamVersion('s')).rejects.toMatchObject(closedError);
    await expect(collect(store.readStream('s'))).rejects.toMatchObject(closedError);
    await expect(store.listStreams()).rejects.toMatchObject(closedError);
    expect(() => store.subscribe(() => {})).toThrow(expect.objectContaining(closedError));
    await closing;
    expect(await inFlight).toEqual(['ok']);
    await expect(store.append('s', event(3))).rejects.toMatchObject(closedError);
    expect(() => store.subscribe(() => {})).toThrow(expect.objectContaining(closedError));
  });
});
