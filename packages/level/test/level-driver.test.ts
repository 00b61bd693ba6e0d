import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import { createStore, isConcurrencyError } from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';

const root = mkdtempSync(join(tmpdir(), 'keyvent-level-'));
let count = 0;
const freshLocation = () => join(root, `db-${count++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('level driver', () => {
  it('keeps events and stream listing across a close and reopen', async () => {
    const location = freshLocation();
    const first = createStore(createLevelDriver({ location }));
    await first.append('order-1', [{ type: 'Placed', data: { total: 12 } }, { type: 'Paid', data: null }]);
    await first.close();

    const second = createStore(createLevelDriver({ location }));
    const events = [];
    for await (const event of second.readStream('order-1')) events.push(event);
    expect(events.map((event) => [event.sequence, event.type])).toEqual([[1, 'Placed'], [2, 'Paid']]);
    expect(await second.listStreams()).toEqual(['order-1']);
    await expect(second.append('order-1', { type: 'Late', data: null }, { expectedVersion: 1 })).rejects.toMatchObject({
      code: 'KEYVENT_CONCURRENCY',
      actualVersion: 2,
    });
    await second.close();
  });

  it('uses a database the caller opened and leaves it open on close', async () => {
    const db = new ClassicLevel<string, string>(freshLocation());
    const store = createStore(createLevelDriver({ db }));
    await store.append('cart-1', { type: 'ItemAdded', data: { sku: 'A' } });
    await store.close();
    expect(db.status).toBe('open');
    const keys = await db.keys().all();
    expect(keys).toContain('scart-1');
    await db.close();
  });

  it('lets exactly one of 64 concurrent same-version appends through, across 8 streams at once', async () => {
    const store = createStore(createLevelDriver({ location: freshLocation() }));
    const streams = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    const outcomes = await Promise.allSettled(
      streams.flatMap((key) => Array.from({ length: 8 }, (_, writer) => store.append(key, { type: `W${writer}`, data: writer }, { expectedVersion: 0 }))),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(8);
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled' || isConcurrencyError(outcome.reason))).toBe(true);
    for (const key of streams) expect(await store.streamVersion(key)).toBe(1);
    await store.close();
  });

  it('refuses a second driver on a directory that is already open', async () => {
    const location = freshLocation();
    const store = createStore(createLevelDriver({ location }));
    await store.append('a', { type: 'T', data: null });
    const other = createStore(createLevelDriver({ location }));
    await expect(other.append('a', { type: 'T', data: null })).rejects.toMatchObject({ code: 'KEYVENT_DRIVER' });
    await store.close();
    await other.close().catch(() => undefined);
  });
});
