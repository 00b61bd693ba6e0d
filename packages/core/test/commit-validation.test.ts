import { describe, expect, it } from '@jest/globals';
import { createMemoryDriver, createStore, eventBytes, ValidationError, type KeyValueDriver, type NewEvent } from '@keyvent/core';
import { collect, countingDriver } from './helpers.js';

const event = (n: number): NewEvent => ({ type: 'T', data: { n } });

/** Appends and returns the ValidationError's path, or 'stored' with what was stored, checking the driver saw nothing on refusal. */
async function outcome(append: (store: ReturnType<typeof createStore>) => Promise<unknown>, limits?: KeyValueDriver['limits']) {
  const { driver, calls } = countingDriver({ limits });
  const store = createStore(driver);
  const error = await append(store).then(() => undefined, (thrown: unknown) => thrown);
  if (error === undefined) return 'stored';
  if (!(error instanceof ValidationError)) throw error;
  expect(calls.putEvents ?? 0).toBe(0);
  return error.path;
}

describe('append refuses what a driver must never see', () => {
  const bad: [string, unknown, string][] = [
    ['an expected version below 0', -1, 'expectedVersion'],
    ['a fractional expected version', 1.5, 'expectedVersion'],
    ['an unknown sentinel', 'latest', 'expectedVersion'],
    ['an expected version past 2^53 - 1', 2 ** 53, 'expectedVersion'],
  ];
  it.each(bad)('refuses %s', async (_, expectedVersion, path) => {
    expect(await outcome((store) => store.append('s', event(1), { expectedVersion: expectedVersion as number }))).toBe(path);
  });

  const events: [string, unknown, string][] = [
    ['events that are not an array or an event', 'T', 'events[0]'],
    ['an event that is an array', [[1]], 'events[0]'],
    ['an event without data', [{ type: 'T' }], 'events[0].data'],
    ['a sparse array in the data', [{ type: 'T', data: [1, , 3] }], 'events[0].data[1]'],
    ['a cycle in the data', (() => { const data: Record<string, unknown> = {}; data.self = data; return [{ type: 'T', data }]; })(), 'events[0].data.self'],
    ['a non-string correlationId', [{ type: 'T', data: 1, metadata: { correlationId: 7 } }], 'events[0].metadata.correlationId'],
  ];
  it.each(events)('refuses %s, naming it', async (_, input, path) => {
    expect(await outcome((store) => store.append('s', input as NewEvent[]))).toBe(path);
  });

  it('names the field after a valid sibling: the path of one field is not carried into the next', async () => {
    expect(await outcome((store) => store.append('s', { type: 'T', data: { a: [1, { b: 2 }], c: Number.NaN } }))).toBe('events[0].data.c');
  });

  it('takes data nested exactly 256 levels deep, and refuses 257', async () => {
    const nested = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value as NewEvent['data'];
    };
    expect(await outcome((store) => store.append('s', { type: 'T', data: nested(256) }))).toBe('stored');
    expect(await outcome((store) => store.append('s', { type: 'T', data: nested(257) }))).not.toBe('stored');
  });
});

describe("append at the driver's limits", () => {
  const size = eventBytes(event(1));
  it('stores a commit of exactly maxEventsPerCommit events, and refuses one more', async () => {
    expect(await outcome((store) => store.append('s', [1, 2, 3].map(event)), { maxEventsPerCommit: 3 })).toBe('stored');
    expect(await outcome((store) => store.append('s', [1, 2, 3, 4].map(event)), { maxEventsPerCommit: 3 })).toBe('events');
  });

  it('stores a commit of exactly maxCommitBytes, and refuses one byte more', async () => {
    expect(await outcome((store) => store.append('s', [1, 2].map(event)), { maxCommitBytes: 2 * size })).toBe('stored');
    expect(await outcome((store) => store.append('s', [1, 2].map(event)), { maxCommitBytes: 2 * size - 1 })).toBe('events');
  });

  it('stores an event of exactly maxEventBytes, and refuses one byte more', async () => {
    expect(await outcome((store) => store.append('s', event(1)), { maxEventBytes: size })).toBe('stored');
    expect(await outcome((store) => store.append('s', event(1)), { maxEventBytes: size - 1 })).toBe('events[0]');
  });

  it('stores a commit that ends exactly at sequence 2^53 - 1', async () => {
    // A driver that cannot check the prior event atomically, and vouches for it: the head is far away.
    const inner = createMemoryDriver();
    const store = createStore({ ...inner, atomicPriorCheck: false, checkSequence: async () => true });
    const result = await store.append('s', event(1), { expectedVersion: Number.MAX_SAFE_INTEGER - 1 });
    expect(result.version).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('event ids', () => {
  it('keeps an id the caller supplies, with or without metadata, and makes one where none is given', async () => {
    const store = createStore(createMemoryDriver());
    await store.append('s', [
      { id: 'plain', type: 'T', data: 1 },
      { id: 'with-metadata', type: 'T', data: 2, metadata: { correlationId: 'c' } },
      { type: 'T', data: 3, metadata: { correlationId: 'c' } },
    ]);
    const [first, second, third] = await collect(store.readStream('s'));
    expect([first!.id, second!.id]).toEqual(['plain', 'with-metadata']);
    expect(third!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('keys and list options', () => {
  it('refuses an empty stream key on every call that takes one', async () => {
    const store = createStore(createMemoryDriver());
    expect(() => store.readStream('')).toThrow(ValidationError);
    await expect(store.streamVersion('')).rejects.toBeInstanceOf(ValidationError);
  });

  it('lists with a limit of 10,000, and refuses 10,001', async () => {
    const store = createStore(createMemoryDriver());
    await expect(store.listStreams({ limit: 10_000 })).resolves.toEqual([]);
    await expect(store.listStreams({ limit: 10_001 })).rejects.toMatchObject({ path: 'limit' });
  });
});
