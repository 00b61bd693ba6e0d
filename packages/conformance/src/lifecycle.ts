import assert from 'node:assert/strict';
import { createStore, type KeyValueDriver, type KeyventError, type StoredEvent } from '@keyvent/core';
import { DRIVER_SETTINGS, expectError, makeEvents, range, readAll, uniqueKey, type SuiteContext } from './context.js';

const isClosedError = (error: unknown): error is KeyventError => (error as KeyventError)?.code === 'KEYVENT_CLOSED';

/**
 * Forwards every call to `driver`, close included, and records what the close case checks: the events
 * the backend confirmed, when a put reaches it, and how many puts were still running when the store
 * closed the driver.
 */
function recordingDriver(driver: KeyValueDriver) {
  let putsInFlight = 0;
  let putsInFlightAtClose: number | undefined;
  let putStarted = () => {};
  const stored = new Set<string>();
  /** The events the backend confirmed: written by a put that succeeded, or read back (a put that failed may have landed). */
  const seen = <E extends readonly StoredEvent[]>(events: E): E => {
    for (const event of events) stored.add(event.id);
    return events;
  };
  const recording: KeyValueDriver = {
    name: driver.name,
    checkSequence: (key, sequence) => driver.checkSequence(key, sequence),
    fetchEvents: async (key, after, limit, options) => seen(await driver.fetchEvents(key, after, limit, options)),
    putEvents: async (events, options) => {
      putsInFlight++;
      putStarted();
      try {
        await driver.putEvents(events, options);
        seen(events);
      } finally {
        putsInFlight--;
      }
    },
    close: async () => {
      putsInFlightAtClose ??= putsInFlight;
      await driver.close();
    },
  };
  for (const name of DRIVER_SETTINGS) {
    if (driver[name] !== undefined) Object.assign(recording, { [name]: driver[name] });
  }
  if (driver.listKeys) recording.listKeys = (options) => driver.listKeys!(options);
  if (driver.lastSequence) recording.lastSequence = (key) => driver.lastSequence!(key);
  if (driver.fetchEventsFinal) recording.fetchEventsFinal = async (key, after, limit, options) => seen(await driver.fetchEventsFinal!(key, after, limit, options));
  return {
    driver: recording,
    /** Resolves when the next put reaches the backend. */
    nextPut: () => new Promise<void>((resolve) => (putStarted = resolve)),
    putsInFlightAtClose: () => putsInFlightAtClose,
    stored: () => stored,
  };
}

/**
 * Each outcome as `ok`, the name of an expected keyvent error, or any other error's name and message,
 * so that a failure shows every wrong outcome at once.
 */
async function outcomesOf(calls: readonly Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((outcome) => {
    if (outcome.status === 'fulfilled') return 'ok';
    const error = outcome.reason as KeyventError;
    return error.code === 'KEYVENT_CONCURRENCY' || error.code === 'KEYVENT_CLOSED' ? error.name : `${error.name}: ${error.message}`;
  });
}

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

  it('lets the appends and reads in flight at close finish, publishes them, then closes the driver', async () => {
    const recording = recordingDriver(await options.createDriver());
    const store = createStore(recording.driver);
    const [shared, contested, ...own] = range(1, 6).map(() => uniqueKey('lifecycle')) as [string, string, ...string[]];
    await store.append(shared, makeEvents(1)); // the backend is open and the streams exist
    await store.append(contested, makeEvents(1));
    const delivered: string[] = [];
    store.subscribe((event) => void delivered.push(event.id));

    const putting = recording.nextPut();
    // Commits to streams of their own; 'any' commits racing for one stream (the losers retry during close);
    // and commits racing at one version (on LevelDB they wait for the stream's lock while close begins).
    const appends = [
      ...own.map((key) => store.append(key, makeEvents(2), { expectedVersion: 'no_stream' })),
      ...range(1, 4).map(() => store.append(shared, makeEvents(1), { expectedVersion: 'any' })),
      ...range(1, 4).map(() => store.append(contested, makeEvents(1), { expectedVersion: 1 })),
    ];
    const read = readAll(store, shared);
    const outcomes = outcomesOf([...appends, read]);
    await putting;
    const closing = store.close();
    const late = outcomesOf([store.append(shared, makeEvents(1))]);
    let lateSubscribe: unknown;
    try {
      store.subscribe(() => {});
    } catch (error) {
      lateSubscribe = error;
    }
    await closing;
    const deliveredAtClose = [...delivered].sort();

    // Every call started before close succeeds, but for the three commits at version 1 that lost.
    const settled = await outcomes;
    assert.deepEqual(
      [...settled.slice(0, 8), settled[12], ...settled.slice(8, 12).sort()],
      [...Array(9).fill('ok'), 'ConcurrencyError', 'ConcurrencyError', 'ConcurrencyError', 'ok'],
    );
    assert.deepEqual(await late, ['StoreClosedError'], 'an append started after close is refused');
    assert.ok(isClosedError(lateSubscribe), 'subscribe during close is refused');
    const acknowledged = (await Promise.allSettled(appends)).flatMap((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value.events.map((event) => event.id) : [],
    );
    assert.deepEqual(deliveredAtClose, [...acknowledged].sort(), 'every acknowledged event is delivered before close resolves');
    assert.equal(recording.putsInFlightAtClose(), 0, 'the driver is closed after the last put');
    assert.deepEqual(acknowledged.filter((id) => !recording.stored().has(id)), [], 'the backend acknowledged every acknowledged event');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(delivered.length, deliveredAtClose.length, 'nothing is delivered after close resolves');
  });

  it('refuses subscribe after close with a typed error', async () => {
    const store = createStore(await options.createDriver());
    await store.close();
    assert.throws(() => store.subscribe(() => {}), isClosedError);
  });
}
