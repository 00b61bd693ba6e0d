import { describe, expect, it } from '@jest/globals';
import {
  ConcurrencyError,
  createMemoryDriver,
  createStore,
  DriverError,
  isDriverError,
  isKeyventError,
  isNotSupportedError,
  runBackendRequest,
  searchLastSequence,
  ValidationError,
  type KeyValueDriver,
  type StoredEvent,
} from '@keyvent/core';
import { collect, countingDriver } from './helpers.js';

const event = (n: number) => ({ type: 'Tested', data: { n } });

describe('append round trips', () => {
  it('is one driver call for a caller-supplied version when the driver checks the prior event atomically', async () => {
    const { driver, calls } = countingDriver();
    const store = createStore(driver);
    await store.append('s', event(1), { expectedVersion: 0 });
    await store.append('s', event(2), { expectedVersion: 1 });
    expect(calls).toEqual({ putEvents: 2 });
  });

  it('is a prior check plus a put when the driver cannot check atomically', async () => {
    const { driver, calls } = countingDriver({ without: ['atomicPriorCheck'] });
    const store = createStore(driver);
    await store.append('s', event(1), { expectedVersion: 'no_stream' });
    await store.append('s', event(2), { expectedVersion: 1 });
    expect(calls).toEqual({ putEvents: 2, checkSequence: 1 });
  });

  it("reads the head once, then puts, for 'any'", async () => {
    const { driver, calls } = countingDriver();
    await createStore(driver).append('s', event(1));
    expect(calls).toEqual({ lastSequence: 1, putEvents: 1 });
  });
});

describe('limits and validation', () => {
  it('refuses a commit over the driver limit before calling the driver', async () => {
    const { driver, calls } = countingDriver({ limits: { maxEventsPerCommit: 5 } });
    const store = createStore(driver);
    const error = await store.append('s', [1, 2, 3, 4, 5, 6].map(event)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe("[keyvent] events: 6 events exceed the driver's atomic limit of 5 per commit");
    expect(calls).toEqual({});
  });

  it('refuses an event over the byte limit, naming it', async () => {
    const store = createStore(createMemoryDriver({ limits: { maxEventBytes: 100 } }));
    await expect(store.append('s', [event(1), { type: 'Big', data: 'x'.repeat(200) }])).rejects.toMatchObject({
      path: 'events[1]',
      message: expect.stringMatching(/is 2\d\d bytes; the driver's limit is 100 per event/),
    });
    expect(await store.streamVersion('s')).toBe(0);
  });

  it('names the nested field that is not JSON', async () => {
    const store = createStore(createMemoryDriver());
    await expect(store.append('s', { type: 'T', data: { order: { lines: [{ price: Number.NaN }] } } })).rejects.toMatchObject({
      path: 'events[0].data.order.lines[0].price',
    });
  });

  it('refuses data nested deeper than 256 levels', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    const store = createStore(createMemoryDriver());
    await expect(store.append('s', { type: 'T', data: deep as never })).rejects.toThrow(/nested deeper than 256 levels/);
  });

  it('refuses a commit that would pass sequence 2^53 - 1', async () => {
    const store = createStore(createMemoryDriver());
    await expect(store.append('s', [event(1), event(2)], { expectedVersion: Number.MAX_SAFE_INTEGER - 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('drivers without optional capabilities', () => {
  it('finds the head by searching with checkSequence when the driver has no lastSequence', async () => {
    const { driver, calls } = countingDriver({ without: ['lastSequence'] });
    const store = createStore(driver);
    await store.append('s', Array.from({ length: 100 }, (_, i) => event(i)), { expectedVersion: 0 });
    expect(await store.streamVersion('s')).toBe(100);
    expect(calls.checkSequence).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 2);
    expect(await store.streamVersion('empty')).toBe(0);
  });

  it('searchLastSequence finds every head from 0 to 300', async () => {
    for (let head = 0; head <= 300; head++) expect(await searchLastSequence(async (n) => n <= head)).toBe(head);
  });

  it('says NotSupportedError, naming the driver, when listing without listKeys', async () => {
    const { driver } = countingDriver({ without: ['listKeys'] });
    const error = await createStore(driver).listStreams().catch((e: unknown) => e);
    expect(isNotSupportedError(error)).toBe(true);
    expect((error as Error).message).toBe('[keyvent] [memory] the driver does not support listing streams (listKeys)');
  });
});

describe('errors from drivers', () => {
  const failing = (failure: unknown): KeyValueDriver => ({
    ...createMemoryDriver(),
    name: 'flaky',
    fetchEvents: () => Promise.reject(failure),
  });

  it('wraps an unknown driver failure in a DriverError with the cause, the driver and the operation', async () => {
    const cause = new Error('socket hang up');
    const error = await collect(createStore(failing(cause)).readStream('s')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriverError);
    expect(error).toMatchObject({ driver: 'flaky', retryable: false, cause, message: '[keyvent] [flaky] fetchEvents failed: socket hang up' });
  });

  it('passes a DriverError thrown by the driver through unchanged, retryable flag and all', async () => {
    const thrown = new DriverError('flaky', 'throttled', { retryable: true });
    const error = await collect(createStore(failing(thrown)).readStream('s')).catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect(isDriverError(error) && error.retryable).toBe(true);
  });

  it('recognises keyvent errors by code, not by class identity', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'KEYVENT_CONCURRENCY' });
    expect(isKeyventError(foreign)).toBe(true);
    expect(isKeyventError(new Error('plain'))).toBe(false);
    expect(new ConcurrencyError('k', 3, 5).message).toBe(
      '[keyvent] stream "k": expected version 3, actual version 5; reload the stream and retry the command',
    );
  });
});

describe("'any' retries", () => {
  it('gives up after maxAppendRetries lost races with the last ConcurrencyError', async () => {
    const inner = createMemoryDriver();
    let puts = 0;
    const alwaysLoses: KeyValueDriver = {
      ...inner,
      putEvents: () => {
        puts++;
        return Promise.reject(new ConcurrencyError('s', 0, 0));
      },
    };
    const error = await createStore(alwaysLoses, { maxAppendRetries: 3 }).append('s', event(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYVENT_CONCURRENCY', expectedVersion: 'any' });
    expect(puts).toBe(4);
  });

  it('keeps the same event ids across retries', async () => {
    const inner = createMemoryDriver();
    const attempts: string[][] = [];
    const losesTwice: KeyValueDriver = {
      ...inner,
      putEvents: (events, options) => {
        attempts.push(events.map((e) => e.id));
        return attempts.length <= 2 ? Promise.reject(new ConcurrencyError('s', 0)) : inner.putEvents(events, options);
      },
    };
    await createStore(losesTwice).append('s', [event(1), event(2)]);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((ids) => ids.join()))).toEqual(new Set([attempts[0]!.join()]));
  });
});

describe('subscriptions', () => {
  it('publishes in stream order even when a later commit is acknowledged first', async () => {
    const inner = createMemoryDriver();
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const slowFirstAck: KeyValueDriver = {
      ...inner,
      putEvents: async (events, options) => {
        await inner.putEvents(events, options);
        if (events[0]!.sequence === 1) await firstHeld;
      },
    };
    const store = createStore(slowFirstAck);
    const seen: number[] = [];
    store.subscribe((e: StoredEvent) => void seen.push(e.sequence));
    const first = store.append('s', event(1), { expectedVersion: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    await store.append('s', event(2), { expectedVersion: 1 });
    expect(seen).toEqual([]);
    releaseFirst();
    await first;
    await store.close();
    expect(seen).toEqual([1, 2]);
  });
});

describe('retries of transient driver failures', () => {
  const fast = { retry: { firstDelayMs: 1, maxDelayMs: 5 } };

  function flakyPut(failures: number, { writeFirst = false, retryable = true } = {}) {
    const inner = createMemoryDriver();
    let calls = 0;
    const driver: KeyValueDriver = {
      ...inner,
      putEvents: async (events, options) => {
        calls++;
        if (calls > failures) return inner.putEvents(events, options);
        if (writeFirst && calls === 1) await inner.putEvents(events, options);
        throw new DriverError('flaky', 'request timed out', { retryable });
      },
    };
    return { driver, inner, calls: () => calls };
  }

  it('retries a retryable DriverError and succeeds', async () => {
    const { driver, calls } = flakyPut(2);
    const result = await createStore(driver, fast).append('s', event(1), { expectedVersion: 0 });
    expect(result.version).toBe(1);
    expect(calls()).toBe(3);
  });

  it('does not retry a DriverError that is not retryable', async () => {
    const { driver, calls } = flakyPut(1, { retryable: false });
    await expect(createStore(driver, fast).append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ code: 'KEYVENT_DRIVER' });
    expect(calls()).toBe(1);
  });

  it('gives up after the configured number of attempts', async () => {
    const { driver, calls } = flakyPut(100);
    const store = createStore(driver, { retry: { attempts: 3, firstDelayMs: 1 } });
    // The last attempt may still land: the caller is told the outcome is unknown, not that it may simply retry.
    await expect(store.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/unknown/) });
    expect(calls()).toBe(3);
  });

  it('says a commit is not stored, and may be retried, when a final read after the last attempt finds nothing', async () => {
    const { driver, inner, calls } = flakyPut(100);
    let finalReads = 0;
    const final: KeyValueDriver = { ...driver, fetchEventsFinal: (...args) => (finalReads++, inner.fetchEvents(...args)) };
    const store = createStore(final, { retry: { attempts: 3, firstDelayMs: 1 } });
    await expect(store.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/is not stored/) });
    expect([calls(), finalReads]).toEqual([3, 1]);
  });

  it("does not call a commit not stored when an attempt's reply was lost: that attempt may still land after the final read", async () => {
    const inner = createMemoryDriver();
    let landed: Promise<void> | undefined;
    const orphaned: KeyValueDriver = {
      ...inner,
      fetchEventsFinal: (...args) => inner.fetchEvents(...args),
      // The request was sent; its connection closed; the server applies it 30 ms later.
      putEvents: async (events, options) => {
        landed ??= new Promise((resolve) => setTimeout(resolve, 30)).then(() => inner.putEvents(events, options));
        throw new DriverError('orphan', 'Socket was closed', { retryable: true, inDoubt: true });
      },
    };
    const store = createStore(orphaned, { retry: { attempts: 1 } });
    await expect(store.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/may still be running.*unknown/) });
    await landed;
    expect(await inner.lastSequence!('s')).toBe(1);
  });

  it('recognises by a final read a commit that an attempt reported as failed had stored', async () => {
    const { driver, inner } = flakyPut(100, { writeFirst: true });
    const final: KeyValueDriver = { ...driver, fetchEventsFinal: (...args) => inner.fetchEvents(...args) };
    const result = await createStore(final, { retry: { attempts: 1 } }).append('s', event(1), { expectedVersion: 0 });
    expect(result.version).toBe(1);
  });

  it('falls back to a plain read when the final read fails: a commit it finds is settled, one it does not is of unknown outcome', async () => {
    let finalReads = 0;
    const failing = () => (finalReads++, Promise.reject(new DriverError('flaky', 'read timed out', { retryable: true })));
    const landed = flakyPut(100, { writeFirst: true });
    const store = createStore({ ...landed.driver, fetchEventsFinal: failing }, { retry: { attempts: 2, firstDelayMs: 1 } });
    expect((await store.append('s', event(1), { expectedVersion: 0 })).version).toBe(1);
    const lost = flakyPut(100);
    const other = createStore({ ...lost.driver, fetchEventsFinal: failing }, { retry: { attempts: 2, firstDelayMs: 1 } });
    await expect(other.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/final read failed: .*read timed out.*unknown/) });
    // The settling read is worth more patience than a write: twice the attempts, in each of the two appends.
    expect(finalReads).toBe(8);
  });

  it('recognises by its event ids a commit that was written by an attempt reported as failed', async () => {
    const { driver, calls } = flakyPut(1, { writeFirst: true });
    const store = createStore(driver, fast);
    const result = await store.append('s', [event(1), event(2)], { expectedVersion: 0 });
    expect(calls()).toBe(2);
    expect(result.version).toBe(2);
    expect((await collect(store.readStream('s'))).map((e) => e.id)).toEqual(result.events.map((e) => e.id));
  });

  it('still reports a real conflict after a retry', async () => {
    const { driver, inner, calls } = flakyPut(1);
    const store = createStore(driver, fast);
    await inner.putEvents([{ key: 's', sequence: 1, type: 'Rival', data: null, id: 'rival', timestamp: new Date().toISOString() }]);
    await expect(store.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 1 });
    expect(calls()).toBe(2);
  });
});

describe('runBackendRequest', () => {
  const busy = Object.assign(new Error('server busy'), { name: 'Busy' });

  it('turns a transient failure into a retryable DriverError that keeps the cause', async () => {
    const error = await runBackendRequest('x', 'a read', () => Promise.reject(busy), (e) => (e as Error).name === 'Busy').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYVENT_DRIVER', retryable: true, cause: busy, message: '[keyvent] [x] a read failed: server busy' });
  });

  it('passes other failures, and results, through unchanged', async () => {
    const other = new Error('syntax error');
    await expect(runBackendRequest('x', 'a read', () => Promise.reject(other), () => false)).rejects.toBe(other);
    await expect(runBackendRequest('x', 'a read', async () => 42, () => true)).resolves.toBe(42);
  });
});

describe('a refused commit is settled on its events, not on its ids alone', () => {
  it('a caller reusing an id for other data gets a ConcurrencyError, and nothing is published twice', async () => {
    const store = createStore(createMemoryDriver());
    const seen: number[] = [];
    store.subscribe((stored) => void seen.push(stored.sequence));
    await store.append('s', { id: 'x', type: 'A', data: { v: 1 } }, { expectedVersion: 'no_stream' });
    await expect(store.append('s', { id: 'x', type: 'B', data: { v: 2 } }, { expectedVersion: 'no_stream' })).rejects.toMatchObject({
      code: 'KEYVENT_CONCURRENCY',
      actualVersion: 1,
    });
    await store.close();
    expect(seen).toEqual([1]);
  });

  it('refuses a maxBacklog or closeTimeoutMs that is not a whole number >= 1', () => {
    const store = createStore(createMemoryDriver());
    expect(() => store.subscribe(() => undefined, { maxBacklog: Number.NaN })).toThrow(/maxBacklog/);
    expect(() => createStore(createMemoryDriver(), { closeTimeoutMs: Number.NaN })).toThrow(/closeTimeoutMs/);
  });
});

describe('a put that failed', () => {
  const failing = (before: (inner: KeyValueDriver, events: readonly StoredEvent[]) => Promise<void>, error: Error) => {
    const inner = createMemoryDriver();
    return createStore({ ...inner, putEvents: async (events) => {
      await before(inner, events);
      throw error;
    } });
  };

  it("is a ConcurrencyError when its sequences hold another writer's events", async () => {
    const store = failing((inner, events) => inner.putEvents(events.map((stored) => ({ ...stored, id: `rival-${stored.id}` }))), new DriverError('x', 'connection reset'));
    await expect(store.append('s', event(1), { expectedVersion: 0 })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY' });
  });

  it('passes a failure that is not retryable on unchanged when nothing is stored', async () => {
    const failure = new DriverError('x', 'access denied');
    await expect(failing(async () => {}, failure).append('s', event(1), { expectedVersion: 0 })).rejects.toBe(failure);
  });

  it('marks a transient failure in doubt only where the driver says its request may still run', async () => {
    const busy = new Error('timeout');
    const plain = await runBackendRequest('x', 'a put', () => Promise.reject(busy), () => true).catch((e: unknown) => e);
    const sent = await runBackendRequest('x', 'a put', () => Promise.reject(busy), () => true, { inDoubt: () => true }).catch((e: unknown) => e);
    expect([(plain as DriverError).inDoubt, (sent as DriverError).inDoubt]).toEqual([false, true]);
  });
});
