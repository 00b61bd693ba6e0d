import { describe, expect, it } from '@jest/globals';
import { ConcurrencyError, createMemoryDriver, createStore, isConcurrencyError, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import { countingDriver } from './helpers.js';

// Defect 7 of "Every outcome true": a driver that refuses a commit without saying the stream's version
// made the core read the head afterwards, and a commit of another writer in between showed through:
// "expected version 13, actual version 13". ConcurrencyError.actualVersion must be the version that made
// the commit fail: the driver's, or a head read only where it agrees with why the commit failed.

const event = (n: number) => ({ type: 'Tested', data: { n } });

const rivalEvent = (key: string, sequence: number): StoredEvent => ({
  key,
  sequence,
  type: 'Rival',
  data: null,
  id: `rival-${sequence}`,
  timestamp: new Date().toISOString(),
});

/**
 * A memory driver that refuses commits with a ConcurrencyError that has no actualVersion, as drivers
 * whose backend does not return the head do. `rivalTo` lets another writer fill the stream up to that
 * version just after a refusal (or a failed prior check), before the core can read the head. `withIds`
 * makes a refusal carry the ids it met (`storedIds`), as the DynamoDB and Cassandra drivers' do.
 */
function headlessDriver({ atomicPriorCheck = true, withIds = false, rivalTo }: { atomicPriorCheck?: boolean; withIds?: boolean; rivalTo?: number } = {}) {
  const inner = createMemoryDriver();
  let raced = false;

  async function rivalCommits(key: string): Promise<void> {
    if (rivalTo === undefined || raced) return;
    raced = true;
    const head = await inner.lastSequence!(key);
    if (rivalTo > head) await inner.putEvents(Array.from({ length: rivalTo - head }, (_, i) => rivalEvent(key, head + i + 1)));
  }

  const driver: KeyValueDriver = {
    ...inner,
    name: 'headless',
    atomicPriorCheck,
    checkSequence: async (key, sequence) => {
      const exists = await inner.checkSequence(key, sequence);
      if (!exists) await rivalCommits(key);
      return exists;
    },
    putEvents: async (events, options) => {
      try {
        await inner.putEvents(events, options);
      } catch (error) {
        if (!isConcurrencyError(error)) throw error;
        const first = events[0]!;
        const met = await inner.fetchEvents(first.key, first.sequence - 1, events.length);
        await rivalCommits(first.key);
        const storedIds = withIds ? met.map((event) => event.id) : undefined;
        throw new ConcurrencyError(first.key, first.sequence - 1, undefined, { driver: 'headless', storedIds });
      }
    },
  };
  if (!atomicPriorCheck) delete (driver as { atomicPriorCheck?: boolean }).atomicPriorCheck;
  return { driver, seed: (key: string, count: number) => inner.putEvents(Array.from({ length: count }, (_, i) => rivalEvent(key, i + 1))) };
}

async function conflictOf(promise: Promise<unknown>): Promise<ConcurrencyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isConcurrencyError(error)) throw new Error(`expected a ConcurrencyError, got ${String(error)}`);
  return error;
}

describe('actualVersion when another writer commits between the refusal and the head read', () => {
  describe.each([
    { path: 'the atomic prior check in putEvents', atomicPriorCheck: true, withIds: false },
    { path: 'the atomic prior check in putEvents, with the ids it met', atomicPriorCheck: true, withIds: true },
    { path: 'the prior check by checkSequence', atomicPriorCheck: false, withIds: false },
  ])('$path', ({ atomicPriorCheck, withIds }) => {
    it('never reports the expected version as the actual one when the rival filled the stream up to it', async () => {
      const { driver } = headlessDriver({ atomicPriorCheck, withIds, rivalTo: 3 });
      const error = await conflictOf(createStore(driver).append('s', event(1), { expectedVersion: 3 }));
      expect(error.expectedVersion).toBe(3);
      expect(error.message).not.toMatch(/actual version 3/);
      expect(error.actualVersion).toBeUndefined();
    });

    it.each([0, 1, 2, 3, 4, 5])('with the rival at version %i, actualVersion is never 3, and is the head where reported', async (rivalTo) => {
      const { driver } = headlessDriver({ atomicPriorCheck, withIds, rivalTo });
      const store = createStore(driver);
      const error = await conflictOf(store.append('s', event(1), { expectedVersion: 3 }));
      expect(error.actualVersion).not.toBe(3);
      if (error.actualVersion !== undefined) expect(error.actualVersion).toBe(await store.streamVersion('s'));
    });
  });
});

describe('actualVersion from a head read that agrees with why the commit failed', () => {
  it('reports the head of a stream that is short of the expected version (prior event missing)', async () => {
    const { driver, seed } = headlessDriver();
    await seed('s', 1);
    const error = await conflictOf(createStore(driver).append('s', event(1), { expectedVersion: 3 }));
    expect(error.actualVersion).toBe(1);
    expect(error.message).toMatch(/expected version 3, actual version 1;/);
  });

  it('reports the head to a stale writer (its sequences were taken): expected 1, head 3', async () => {
    const { driver, seed } = headlessDriver();
    await seed('s', 3);
    const error = await conflictOf(createStore(driver).append('s', event(1), { expectedVersion: 1 }));
    expect(error.actualVersion).toBe(3);
    expect(error.message).toMatch(/expected version 1, actual version 3;/);
  });

  it("uses the driver's own actualVersion without reading the head", async () => {
    const { driver, calls } = countingDriver();
    const store = createStore(driver);
    await store.append('s', [event(1), event(2), event(3)]);
    for (const name of Object.keys(calls)) delete calls[name];
    const error = await conflictOf(store.append('s', event(4), { expectedVersion: 1 }));
    expect(error.actualVersion).toBe(3);
    expect(calls.lastSequence ?? 0).toBe(0);
  });
});
