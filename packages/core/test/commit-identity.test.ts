import { describe, expect, it } from '@jest/globals';
import { ConcurrencyError, createMemoryDriver, createStore, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import { collect } from './helpers.js';

// A put refused by a conflict counts as stored only when the events at its sequences are this very commit
// (a resend meeting its first copy): every event the same, field by field. Anything else is a rival's.

/**
 * The memory driver whose first put stores `rival(events)` in its place, then refuses the put as if it
 * had met that commit: what a backend shows when another writer, or the SDK's first copy, got there first.
 */
function rivalFirst(rival: (events: readonly StoredEvent[]) => StoredEvent[]): KeyValueDriver {
  const inner = createMemoryDriver();
  let first = true;
  return {
    ...inner,
    putEvents: async (events, options) => {
      if (!first) return inner.putEvents(events, options);
      first = false;
      await inner.putEvents(rival(events), options);
      throw new ConcurrencyError(events[0]!.key, events[0]!.sequence - 1, undefined, { driver: 'memory' });
    },
  };
}

const commit = [
  { id: 'e1', type: 'Opened', data: { n: 1 }, metadata: { correlationId: 'c' } },
  { id: 'e2', type: 'Deposited', data: { n: 2 }, metadata: { correlationId: 'c' } },
];

describe('a refused commit is its own resend only if every event matches', () => {
  it('is stored (once) when the events at its sequences are the same commit', async () => {
    const store = createStore(rivalFirst((events) => events.map((event) => ({ ...event }))));
    await expect(store.append('s', commit, { expectedVersion: 0 })).resolves.toMatchObject({ version: 2 });
    expect((await collect(store.readStream('s'))).map((event) => event.id)).toEqual(['e1', 'e2']);
  });

  const changes: [string, (event: StoredEvent, i: number) => StoredEvent][] = [
    ['the type', (event) => ({ ...event, type: 'Other' })],
    ['the data', (event) => ({ ...event, data: { n: 99 } })],
    ['the metadata', (event) => ({ ...event, metadata: { correlationId: 'other' } })],
    ['the timestamp', (event) => ({ ...event, timestamp: '2001-01-01T00:00:00.000Z' })],
    ['the id of its second event only', (event, i) => (i === 1 ? { ...event, id: 'rival' } : event)],
    ['the data of its second event only', (event, i) => (i === 1 ? { ...event, data: null } : event)],
  ];
  it.each(changes)('is a ConcurrencyError when a rival commit with the same ids differs in %s', async (_, change) => {
    const store = createStore(rivalFirst((events) => events.map(change)));
    await expect(store.append('s', commit, { expectedVersion: 0 })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY' });
  });
});
