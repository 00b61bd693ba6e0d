import assert from 'node:assert/strict';
import { createStore, DriverError, isDriverError, type KeyValueDriver, type PutEventsOptions, type StoredEvent } from '@keyvent/core';
import { expectError, makeEvents, readAll, uniqueKey, wrapDriver, type SuiteContext } from './context.js';

type Put = (events: readonly StoredEvent[], options: PutEventsOptions | undefined, attempt: number) => Promise<void>;

/**
 * Transient failures around a real backend's writes: the core retries a retryable DriverError with
 * backoff, a bounded number of times, and a retried commit that had in fact landed is recognised by its
 * event ids: stored once, reported as a success.
 */
export function retryCases({ it, driver }: SuiteContext): void {
  function disturbed(put: (real: KeyValueDriver['putEvents']) => Put, attempts = 4) {
    const calls = { puts: 0 };
    const real = driver().putEvents.bind(driver());
    const disturb = put(real);
    const store = createStore(
      wrapDriver(driver(), { putEvents: (events, options) => disturb(events, options, ++calls.puts) }),
      { retry: { attempts, firstDelayMs: 1, maxDelayMs: 5 } },
    );
    return { store, calls };
  }
  const throttled = () => new DriverError(driver().name, 'throttled (injected)', { retryable: true });

  it('a commit whose acknowledgement is lost (a timeout after the write) is retried and stored once', async () => {
    const { store, calls } = disturbed((real) => async (events, options, attempt) => {
      await real(events, options);
      if (attempt === 1) throw new DriverError(driver().name, 'timed out waiting for the reply (injected)', { retryable: true });
    });
    const key = uniqueKey('retries');
    await store.append(key, makeEvents(2), { expectedVersion: 0 });
    const result = await store.append(key, makeEvents(3, 'Tested', 3), { expectedVersion: 2 });
    assert.equal(result.version, 5);
    assert.equal(calls.puts, 3, 'the second commit was sent twice');
    const stored = await readAll(store, key);
    assert.deepEqual(stored.map((event) => event.sequence), [1, 2, 3, 4, 5]);
    assert.deepEqual(stored.slice(2).map((event) => event.id), result.events.map((event) => event.id));
  });

  it('throttling before the write is retried with backoff until the commit goes through', async () => {
    const { store, calls } = disturbed((real) => async (events, options, attempt) => {
      if (attempt <= 2) throw throttled();
      await real(events, options);
    });
    const key = uniqueKey('retries');
    await store.append(key, makeEvents(2), { expectedVersion: 'no_stream' });
    assert.equal(calls.puts, 3);
    assert.equal((await readAll(store, key)).length, 2);
  });

  it('retries are bounded: after the last attempt the DriverError reaches the caller and nothing is written', async () => {
    const { store, calls } = disturbed(() => async () => {
      throw throttled();
    }, 3);
    const key = uniqueKey('retries');
    const error = await expectError(() => store.append(key, makeEvents(1), { expectedVersion: 0 }), isDriverError, 'a DriverError');
    // Not found when read back, but the last attempt may still land: the outcome is reported as unknown.
    assert.match(error.message, /whether it is stored is unknown/);
    assert.equal(calls.puts, 3);
    assert.equal(await store.streamVersion(key), 0);
  });

  it('a failure that is not retryable is not retried', async () => {
    const { store, calls } = disturbed(() => async () => {
      throw new DriverError(driver().name, 'access denied (injected)', { retryable: false });
    });
    await expectError(() => store.append(uniqueKey('retries'), makeEvents(1)), isDriverError, 'a DriverError');
    assert.equal(calls.puts, 1);
  });
}
