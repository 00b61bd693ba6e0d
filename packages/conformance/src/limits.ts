import assert from 'node:assert/strict';
import { isValidationError, type NewEvent } from '@keyvent/core';
import { expectError, makeEvents, readAll, uniqueKey, type SuiteContext } from './context.js';

export function limitCases({ it, store, limits }: SuiteContext): void {
  async function refusedBeforeWriting(events: unknown, path: RegExp): Promise<void> {
    const key = uniqueKey('limits');
    const error = await expectError(() => store().append(key, events as NewEvent[], { expectedVersion: 0 }), isValidationError, 'a ValidationError');
    assert.match(error.path, path);
    assert.equal(await store().streamVersion(key), 0);
    assert.deepEqual(await store().listStreams({ prefix: key }), []);
  }

  it('refuses a commit over the driver limit of events, or stores a 1,000-event commit whole', async () => {
    const max = limits().maxEventsPerCommit;
    if (max !== undefined) return refusedBeforeWriting(makeEvents(max + 1), /^events$/);
    const key = uniqueKey('limits');
    await store().append(key, makeEvents(1000), { expectedVersion: 0 });
    assert.equal((await readAll(store(), key)).length, 1000);
  });

  it('stores a commit of exactly the driver limit of events (or 100)', async () => {
    const count = Math.min(limits().maxEventsPerCommit ?? 100, 100);
    const key = uniqueKey('limits');
    await store().append(key, makeEvents(count), { expectedVersion: 0 });
    assert.equal(await store().streamVersion(key), count);
  });

  it('refuses an event over the driver size limit, or stores a 256 KiB event exactly', async () => {
    const max = limits().maxEventBytes;
    if (max !== undefined) return refusedBeforeWriting([{ type: 'Big', data: 'x'.repeat(max + 1) }], /^events\[0\]$/);
    const key = uniqueKey('limits');
    const data = 'x'.repeat(256 * 1024);
    await store().append(key, { type: 'Big', data });
    assert.equal((await readAll(store(), key))[0]!.data, data);
  });

  it('refuses a commit over the driver byte limit, or stores a 2 MiB commit whole', async () => {
    const { maxCommitBytes, maxEventBytes = 64 * 1024, maxEventsPerCommit = 32 } = limits();
    const dataLength = Math.min(maxEventBytes, 64 * 1024) - 64;
    const withData = (count: number) => makeEvents(count).map((event) => ({ ...event, data: 'x'.repeat(dataLength) }));
    const overLimit = maxCommitBytes === undefined ? Infinity : Math.ceil(maxCommitBytes / dataLength) + 1;
    if (overLimit <= maxEventsPerCommit) return refusedBeforeWriting(withData(overLimit), /^events$/);
    const count = Math.min(maxEventsPerCommit, Math.floor(Math.min(maxCommitBytes ?? Infinity, 2 * 1024 * 1024) / (dataLength + 64)));
    const key = uniqueKey('limits');
    await store().append(key, withData(count), { expectedVersion: 0 });
    assert.equal(await store().streamVersion(key), count);
  });

  it('refuses an empty commit', () => refusedBeforeWriting([], /^events$/));
  it('refuses an event without a type', () => refusedBeforeWriting([{ data: 1 }], /^events\[0\]\.type$/));
  it('refuses an event with an empty type', () => refusedBeforeWriting([{ type: '', data: 1 }], /^events\[0\]\.type$/));
  it('refuses an event without data', () => refusedBeforeWriting([{ type: 'T' }], /^events\[0\]\.data$/));
  it('refuses an event with an empty id', () => refusedBeforeWriting([{ type: 'T', data: 1, id: '' }], /^events\[0\]\.id$/));
  it('refuses a whole commit when only its last event is bad', () =>
    refusedBeforeWriting([...makeEvents(3), { type: 'T', data: Number.NaN }], /^events\[3\]\.data/));
}
