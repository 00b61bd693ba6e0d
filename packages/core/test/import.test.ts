import { describe, expect, it } from '@jest/globals';
import { createStore, eventBytes, ValidationError, type StoredEvent } from '@keyvent/core';
import { collect, countingDriver } from './helpers.js';

const at = (second: number) => `2026-11-24T10:00:${String(second).padStart(2, '0')}.000Z`;
/** Events 1..n of stream `s` as another store stored them; `seconds[i]` is event i+1's commit time. */
const copied = (seconds: readonly number[], from = 1): StoredEvent[] =>
  seconds.map((second, i) => ({ key: 's', sequence: from + i, type: 'T', data: { n: from + i }, id: `id-${from + i}`, timestamp: at(second) }));

/** The store's puts: the sequences of each commit it wrote. */
function recordingStore(limits?: { maxEventsPerCommit?: number; maxCommitBytes?: number }) {
  const { driver } = countingDriver({ limits });
  const commits: number[][] = [];
  const store = createStore({
    ...driver,
    putEvents: (events, options) => {
      commits.push(events.map((event) => event.sequence));
      return driver.putEvents(events, options);
    },
  });
  return { store, commits };
}

describe('importEvents', () => {
  it('writes one commit per run of equal timestamps, and keeps every field', async () => {
    const { store, commits } = recordingStore();
    const events = copied([1, 1, 1, 2, 3, 3]);
    await expect(store.importEvents('s', events)).resolves.toBe(6);
    expect(commits).toEqual([[1, 2, 3], [4], [5, 6]]);
    expect(await collect(store.readStream('s'))).toEqual(events);
  });

  it("splits a run at the driver's limits of events and of bytes per commit", async () => {
    const byEvents = recordingStore({ maxEventsPerCommit: 2 });
    await byEvents.store.importEvents('s', copied([1, 1, 1, 1, 1]));
    expect(byEvents.commits).toEqual([[1, 2], [3, 4], [5]]);

    const size = eventBytes(copied([1])[0]!);
    const byBytes = recordingStore({ maxCommitBytes: 2 * size });
    await byBytes.store.importEvents('s', copied([1, 1, 1, 1, 1]));
    expect(byBytes.commits).toEqual([[1, 2], [3, 4], [5]]);

    const exact = recordingStore({ maxCommitBytes: size });
    await expect(exact.store.importEvents('s', copied([1, 1]))).resolves.toBe(2);
    expect(exact.commits).toEqual([[1], [2]]);
  });

  it('continues a stream from its head, and refuses a run that does not start right after it', async () => {
    const { store } = recordingStore();
    await store.importEvents('s', copied([1, 1]));
    await expect(store.importEvents('s', copied([2, 2], 3))).resolves.toBe(4);
    await expect(store.importEvents('s', copied([3], 6))).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 4 });
  });

  const refused: [string, string, StoredEvent[]][] = [
    ['a gap in the sequences', 'events[2].sequence', copied([1, 1, 1]).map((event, i) => (i === 2 ? { ...event, sequence: 4 } : event))],
    ['sequences that go down', 'events[1].sequence', copied([1, 1]).map((event, i) => (i === 1 ? { ...event, sequence: 0 } : event))],
    ["another stream's event", 'events[1].key', copied([1, 1]).map((event, i) => (i === 1 ? { ...event, key: 't' } : event))],
    ['an event without its id', 'events[0].id', copied([1]).map((event) => ({ ...event, id: undefined as unknown as string }))],
    ['a timestamp that is not a date', 'events[1].timestamp', copied([1, 1]).map((event, i) => (i === 1 ? { ...event, timestamp: 'yesterday' } : event))],
    ['an id used twice in one commit', 'events[1].id', copied([1, 1]).map((event) => ({ ...event, id: 'same' }))],
  ];
  it.each(refused)('refuses %s before writing anything (%s)', async (_, path, events) => {
    const { store, commits } = recordingStore();
    const error = await store.importEvents('s', events).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe(path);
    expect(commits).toEqual([]);
  });

  it('refuses an event larger than a whole commit may be, and a bad stream key', async () => {
    const size = eventBytes(copied([1])[0]!);
    const { store } = recordingStore({ maxCommitBytes: size - 1 });
    await expect(store.importEvents('s', copied([1]))).rejects.toMatchObject({ path: 'events[0]' });
    await expect(store.importEvents('', copied([1]).map((event) => ({ ...event, key: '' })))).rejects.toMatchObject({ path: 'key' });
  });
});
