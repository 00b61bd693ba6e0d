import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isConcurrencyError, isValidationError, type StoredEvent } from '@keyvent/core';
import { expectError, readAll, range, uniqueKey, type SuiteContext } from './context.js';

/** Events as another store would hand them over: own ids, own timestamps (one per original commit), metadata. */
function copied(key: string, from: number, count: number, eventsPerCommit = 3): StoredEvent[] {
  return range(from, from + count - 1).map((sequence) => ({
    key,
    sequence,
    type: 'Copied',
    data: { n: sequence, nested: { list: [sequence, 'x'] } },
    id: `copied-${sequence}-${randomUUID()}`,
    timestamp: new Date(Date.UTC(2020, 0, 1) + Math.floor((sequence - 1) / eventsPerCommit) * 1000).toISOString(),
    metadata: { correlationId: `c-${sequence}` },
  }));
}

export function importCases({ it, store, commitSize }: SuiteContext): void {
  it('importEvents keeps sequences, ids, timestamps and metadata exactly', async () => {
    const key = uniqueKey('import');
    const events = copied(key, 1, 10);
    assert.equal(await store().importEvents(key, events), 10);
    assert.deepEqual(await readAll(store(), key), events);
  });

  it('importEvents continues a stream after its head, in several calls', async () => {
    const key = uniqueKey('import');
    const events = copied(key, 1, 9);
    await store().importEvents(key, events.slice(0, 4));
    await store().importEvents(key, events.slice(4));
    assert.deepEqual(await readAll(store(), key), events);
  });

  it('importEvents splits a run longer than the driver takes in one commit', async () => {
    const key = uniqueKey('import');
    const count = commitSize() * 2 + 1;
    const events = copied(key, 1, count, count);
    assert.equal(await store().importEvents(key, events), count);
    assert.deepEqual(await readAll(store(), key), events);
  });

  it('importEvents that does not start right after the head is a ConcurrencyError and writes nothing', async () => {
    const key = uniqueKey('import');
    const events = copied(key, 1, 6);
    await store().importEvents(key, events.slice(0, 3));
    await expectError(() => store().importEvents(key, events.slice(4)), isConcurrencyError, 'a ConcurrencyError (gap)');
    await expectError(() => store().importEvents(key, events.slice(1)), isConcurrencyError, 'a ConcurrencyError (overlap)');
    assert.deepEqual(await readAll(store(), key), events.slice(0, 3));
  });

  it('importEvents refuses events that are not consecutive, or of another stream, before writing', async () => {
    const key = uniqueKey('import');
    const events = copied(key, 1, 4);
    const gap = [events[0]!, events[2]!];
    const otherStream = [events[0]!, { ...events[1]!, key: `${key}-other` }];
    const noTimestamp = [{ ...events[0]!, timestamp: 'yesterday' }];
    for (const bad of [gap, otherStream, noTimestamp, []]) {
      await expectError(() => store().importEvents(key, bad), isValidationError, 'a ValidationError');
    }
    assert.equal(await store().streamVersion(key), 0);
  });
}
