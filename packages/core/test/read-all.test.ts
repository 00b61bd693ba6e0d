import { describe, expect, it } from '@jest/globals';
import {
  createMemoryDriver,
  createStore,
  isDriverError,
  NotSupportedError,
  ValidationError,
  type DriverFeed,
  type FeedEvent,
  type KeyValueDriver,
} from '@keyvent/core';
import { collect } from './helpers.js';

const events = (count: number, from = 1) => Array.from({ length: count }, (_, i) => ({ type: 'T', data: from + i }));
const numbers = (feed: readonly FeedEvent[]) => feed.map((event) => event.data);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The memory driver with its feed's `read` changed: for drivers that answer more (or less) than asked. */
function withFeedRead(change: (read: DriverFeed['read']) => DriverFeed['read']): KeyValueDriver {
  const inner = createMemoryDriver();
  return { ...inner, feed: { ...inner.feed!, read: change(inner.feed!.read.bind(inner.feed)) } };
}

describe('readAll', () => {
  it('pages through more events than one read of the index returns (500)', async () => {
    const store = createStore(createMemoryDriver());
    for (let commit = 0; commit < 3; commit++) await store.append(`s${commit}`, events(300, commit * 300 + 1));
    expect(numbers(await collect(store.readAll()))).toEqual(range(1, 900));
  });

  it('yields at most `limit` events, and resumes strictly after the last one seen: nothing twice, nothing missed', async () => {
    const store = createStore(createMemoryDriver());
    await store.append('a', events(5));
    await store.append('b', events(2, 6));
    const first = await collect(store.readAll({ limit: 2 }));
    expect(numbers(first)).toEqual([1, 2]);
    const rest = await collect(store.readAll({ after: first[1]!.position }));
    expect(numbers(rest)).toEqual([3, 4, 5, 6, 7]);
  });

  it('drops records a driver returns at or before `after`, or past where it says it reached', async () => {
    // A driver reading whole commits returns the events of `after`'s commit before it, and one that
    // overshoots returns records past the upper bound it was given.
    const driver = withFeedRead((read) => async (options) => {
      const whole = await read({ ...options, after: '', upTo: 'f'.repeat(44) });
      return { records: whole.records, reached: options.upTo };
    });
    const store = createStore(driver);
    await store.append('a', events(3));
    const all = await collect(store.readAll());
    expect(numbers(all)).toEqual([1, 2, 3]);
    const after = await collect(store.readAll({ after: all[1]!.position }));
    expect(numbers(after)).toEqual([3]);
    const upTo = all[1]!.position;
    const clamped = withFeedRead((read) => async (options) => {
      const page = await read({ ...options, upTo: 'f'.repeat(44) });
      return { records: page.records, reached: 'f'.repeat(44) };
    });
    const stamped = createStore({ ...clamped, feed: { ...clamped.feed!, settledPosition: async () => upTo } });
    await stamped.append('a', events(3));
    expect(numbers(await collect(stamped.readAll()))).toEqual([1, 2]);
  });

  it('stops below an entry whose commit may still land (`complete`), and yields nothing past it', async () => {
    let complete: string | undefined;
    const store = createStore(withFeedRead((read) => async (options) => ({ ...(await read(options)), complete })));
    await store.append('a', events(4));
    const all = await collect(store.readAll());
    complete = all[1]!.position;
    expect(numbers(await collect(store.readAll()))).toEqual([1, 2]);
  });

  it('fails with a DriverError, instead of asking forever, when the driver never reads past `after`', async () => {
    const store = createStore(withFeedRead(() => async ({ after }) => ({ records: [], reached: after })));
    await store.append('a', events(1));
    const error = await collect(store.readAll()).catch((thrown: unknown) => thrown);
    expect(isDriverError(error)).toBe(true);
  });

  it('refuses a position it did not write, and a slice range outside 0..1023', () => {
    const store = createStore(createMemoryDriver());
    for (const after of ['x', 'g'.repeat(44), '0'.repeat(43), 42]) {
      expect(() => store.readAll({ after: after as string })).toThrow(ValidationError);
    }
    for (const slices of [[-1, 5], [0, 1024], [1.5, 3], [3], [5, 4], 'all']) {
      expect(() => store.readAll({ slices: slices as unknown as [number, number] })).toThrow(ValidationError);
    }
    for (const slices of [[0, 1023], [7, 7]] as const) expect(() => store.readAll({ slices })).not.toThrow();
  });

  it('refuses at once, with NotSupportedError, on a driver without a feed', () => {
    expect(() => createStore(createMemoryDriver({ feed: false })).readAll()).toThrow(NotSupportedError);
  });
});
