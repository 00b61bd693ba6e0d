import { afterEach, describe, expect, it } from '@jest/globals';
import {
  createConsumer,
  createMemoryDriver,
  createStore,
  NotSupportedError,
  isValidationError,
  type Consumer,
  type ConsumerOptions,
  type FeedEvent,
} from '@keyvent/core';
import { consumerFixture, deferred, eventually, settlesWithin, stopConsumers } from './helpers.js';

afterEach(stopConsumers);

const event = (n: number) => ({ type: 'T', data: n });
/** A poll of a minute (and a lease long enough to be renewed by it): a test that waits one out fails. */
const LONG_POLL = { pollMs: 60_000, leaseMs: 200_000 };

describe('consumer runs', () => {
  it('catches up a backlog batch after batch, without waiting pollMs between them', async () => {
    const { store, follow } = consumerFixture();
    await store.append('s', [1, 2, 3, 4, 5].map(event));
    const { seen } = follow({ batchSize: 1, ...LONG_POLL });
    await eventually(() => seen.length === 5);
    expect(seen.map((each) => each.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('offers a batch again after its handler throws, reports the error, and goes on', async () => {
    const { store, follow } = consumerFixture();
    const errors: unknown[] = [];
    const handled: number[][] = [];
    const failure = new Error('projection down');
    const { consumer } = follow({
      onError: (error) => void errors.push(error),
      handler: (events) => {
        handled.push(events.map((each) => each.sequence));
        if (handled.length === 1) throw failure;
      },
    });
    await store.append('s', [event(1), event(2)]);
    await eventually(() => handled.length === 2);
    await store.append('s', event(3));
    await eventually(() => handled.length === 3);
    expect(handled).toEqual([[1, 2], [1, 2], [3]]);
    expect(errors).toEqual([failure]);
    await consumer.stop();
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('stops at once while it waits out a long poll', async () => {
    const { follow, claimed } = consumerFixture();
    const { consumer } = follow(LONG_POLL);
    await eventually(claimed);
    expect(await settlesWithin(consumer.stop(), 10_000)).toBe(true);
  });

  it('stops at once after the batch in hand when stopped while its handler is busy', async () => {
    const { store, follow } = consumerFixture();
    const gate = deferred();
    let calls = 0;
    const { consumer } = follow({
      ...LONG_POLL,
      handler: async () => {
        calls++;
        await gate.promise;
      },
    });
    await store.append('s', event(1));
    await eventually(() => calls === 1);
    const stopped = consumer.stop();
    gate.resolve();
    expect(await settlesWithin(stopped, 10_000)).toBe(true);
    expect(calls).toBe(1);
  });
});

describe('consumer options', () => {
  const store = createStore(createMemoryDriver());
  const valid: ConsumerOptions = { name: 'projection', handler: () => {} };
  const refused: [string, Partial<Record<keyof ConsumerOptions, unknown>>][] = [
    ['name', { name: '' }],
    ['name', { name: 'x'.repeat(201) }],
    ['name', { name: 'a#b' }],
    ['name', { name: 'a\u0000b' }],
    ['handler', { handler: 'project' }],
    ['from', { from: 'middle' }],
    ['slices', { slices: [5, 4] }],
    ['batchSize', { batchSize: 0 }],
    ['pollMs', { pollMs: 0 }],
    ['leaseMs', { leaseMs: 1.5 }],
  ];
  it.each(refused)('refuses %s %j with a ValidationError, before anything runs', (path, options) => {
    let error: unknown;
    try {
      createConsumer(store, { ...valid, ...options } as ConsumerOptions);
    } catch (thrown) {
      error = thrown;
    }
    expect(isValidationError(error) && error.path).toBe(path);
  });

  it('takes a name of 200 characters', async () => {
    const consumer = createConsumer(store, { ...valid, name: 'x'.repeat(200), checkpoint: false });
    await consumer.stop();
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('refuses at once, with NotSupportedError, a store whose driver has no feed', () => {
    const noFeed = createStore(createMemoryDriver({ feed: false }));
    expect(() => createConsumer(noFeed, valid)).toThrow(NotSupportedError);
  });
});
