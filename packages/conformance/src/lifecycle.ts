import assert from 'node:assert/strict';
import { createStore, type KeyventError } from '@keyvent/core';
import { expectError, makeEvents, uniqueKey, type SuiteContext } from './context.js';

const isClosedError = (error: unknown): error is KeyventError => (error as KeyventError)?.code === 'KEYVENT_CLOSED';

export function lifecycleCases({ it, options }: SuiteContext): void {
  it('closes a store twice without error', async () => {
    const store = createStore(await options.createDriver());
    await store.append(uniqueKey('lifecycle'), makeEvents(1));
    await store.close();
    await store.close();
  });

  it("closes a driver twice without error", async () => {
    const driver = await options.createDriver();
    await driver.close();
    await driver.close();
  });

  it('refuses appends and reads after close with a typed error', async () => {
    const store = createStore(await options.createDriver());
    const key = uniqueKey('lifecycle');
    await store.append(key, makeEvents(1));
    await store.close();
    const error = await expectError(() => store.append(key, makeEvents(1)), isClosedError, 'a closed-store error');
    assert.match(error.message, /closed/);
    await expectError(() => store.streamVersion(key), isClosedError, 'a closed-store error');
  });

  it('waits for subscribers to receive published events before closing', async () => {
    const store = createStore(await options.createDriver());
    const received: number[] = [];
    store.subscribe(async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      received.push(event.sequence);
    });
    await store.append(uniqueKey('lifecycle'), makeEvents(3));
    await store.close();
    assert.deepEqual(received, [1, 2, 3]);
  });
}
