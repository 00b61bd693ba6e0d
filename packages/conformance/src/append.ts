import assert from 'node:assert/strict';
import { makeEvents, readAll, sequencesOf, uniqueKey, type SuiteContext } from './context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function appendCases({ it, store }: SuiteContext): void {
  it('appends one event and reads it back with its envelope', async () => {
    const key = uniqueKey('append');
    const result = await store().append(key, { type: 'Opened', data: { owner: 'ada' } }, { expectedVersion: 'no_stream' });
    const [event, ...rest] = await readAll(store(), key);
    assert.equal(rest.length, 0);
    assert.deepEqual(event, result.events[0]);
    assert.equal(event!.key, key);
    assert.equal(event!.sequence, 1);
    assert.equal(event!.type, 'Opened');
    assert.deepEqual(event!.data, { owner: 'ada' });
  });

  it('returns the new version and the stored events from append', async () => {
    const key = uniqueKey('append');
    const result = await store().append(key, makeEvents(3), { expectedVersion: 0 });
    assert.equal(result.key, key);
    assert.equal(result.version, 3);
    assert.deepEqual(sequencesOf(result.events), [1, 2, 3]);
  });

  it('numbers events consecutively from 1 across commits', async () => {
    const key = uniqueKey('append');
    await store().append(key, makeEvents(2), { expectedVersion: 0 });
    await store().append(key, makeEvents(1, 'Tested', 3), { expectedVersion: 2 });
    await store().append(key, makeEvents(4, 'Tested', 4), { expectedVersion: 3 });
    const events = await readAll(store(), key);
    assert.deepEqual(sequencesOf(events), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(events.map((event) => (event.data as { n: number }).n), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('accepts a single event as well as an array', async () => {
    const key = uniqueKey('append');
    await store().append(key, { type: 'One', data: 1 });
    await store().append(key, [{ type: 'Two', data: 2 }]);
    assert.deepEqual((await readAll(store(), key)).map((event) => event.type), ['One', 'Two']);
  });

  it('keeps streams apart: the same sequence in two streams', async () => {
    const a = uniqueKey('append-a');
    const b = uniqueKey('append-b');
    await store().append(a, { type: 'A', data: 'a' }, { expectedVersion: 0 });
    await store().append(b, { type: 'B', data: 'b' }, { expectedVersion: 0 });
    assert.deepEqual((await readAll(store(), a)).map((event) => [event.sequence, event.type]), [[1, 'A']]);
    assert.deepEqual((await readAll(store(), b)).map((event) => [event.sequence, event.type]), [[1, 'B']]);
  });

  it('keeps the ids the caller supplies', async () => {
    const key = uniqueKey('append');
    await store().append(key, [{ type: 'T', data: null, id: 'my-id-1' }, { type: 'T', data: null, id: 'my-id-2' }]);
    assert.deepEqual((await readAll(store(), key)).map((event) => event.id), ['my-id-1', 'my-id-2']);
  });

  it('generates a unique UUID for each event without an id', async () => {
    const key = uniqueKey('append');
    await store().append(key, makeEvents(20));
    const ids = (await readAll(store(), key)).map((event) => event.id);
    assert.ok(ids.every((id) => UUID.test(id)), `not UUIDs: ${ids.join(', ')}`);
    assert.equal(new Set(ids).size, 20);
  });

  it('stamps a commit with one ISO 8601 UTC timestamp of the time of writing', async () => {
    const key = uniqueKey('append');
    const before = Date.now();
    await store().append(key, makeEvents(3));
    const after = Date.now();
    const stamps = (await readAll(store(), key)).map((event) => event.timestamp);
    assert.equal(new Set(stamps).size, 1);
    assert.match(stamps[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const time = Date.parse(stamps[0]!);
    assert.ok(time >= before && time <= after, `${stamps[0]} is not between the call's start and end`);
  });

  it('reports version 0 for a stream that was never written', async () => {
    assert.equal(await store().streamVersion(uniqueKey('append')), 0);
  });

  it('reports the last sequence as the stream version', async () => {
    const key = uniqueKey('append');
    await store().append(key, makeEvents(5));
    await store().append(key, makeEvents(2));
    assert.equal(await store().streamVersion(key), 7);
  });
}
