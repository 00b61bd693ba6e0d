import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import { createStore, isConcurrencyError, type AppendResult, type EventStore } from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';

const root = mkdtempSync(join(tmpdir(), 'keyvent-level-'));
let count = 0;
const freshLocation = () => join(root, `db-${count++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts another Node process that opens `location` with classic-level and holds it until its stdin ends. */
async function holdInAnotherProcess(location: string): Promise<ChildProcess> {
  const script = `
    const { ClassicLevel } = require(${JSON.stringify(require.resolve('classic-level'))});
    const db = new ClassicLevel(${JSON.stringify(location)});
    db.open().then(() => process.stdout.write('ready\\n'));
    process.stdin.on('end', () => db.close()).resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

async function readAll(store: EventStore, key: string) {
  const events = [];
  for await (const event of store.readStream(key)) events.push(event);
  return events;
}

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

  it('upgrades a layout-2 database: each event gets its position from the feed\'s keys, and one written with the feed off stays without', async () => {
    const location = freshLocation();
    const withFeed = createStore(createLevelDriver({ location }));
    await withFeed.append('s', [{ type: 'A', data: 1 }, { type: 'B', data: 2 }]);
    await withFeed.close();
    const withoutFeed = createStore(createLevelDriver({ location, feed: false }));
    await withoutFeed.append('s', { type: 'C', data: 3 });
    await withoutFeed.close();
    // Back to what layout 2 wrote: no position in the events.
    const db = new ClassicLevel<string, string>(location);
    const stored = await db.iterator({ gte: 'e', lt: 'f' }).all();
    const positions = stored.map(([, value]) => JSON.parse(value).p);
    expect(positions).toEqual([expect.stringMatching(/^[0-9a-f]{44}$/), expect.stringMatching(/^[0-9a-f]{44}$/), undefined]);
    for (const [key, value] of stored) {
      const { p: _position, ...layout2 } = JSON.parse(value);
      await db.put(key, JSON.stringify(layout2));
    }
    await db.put('layout', '2');
    await db.close();
    const driver = createLevelDriver({ location });
    const records = await driver.feed!.fetchRecords('s', 0, 10);
    expect(records.map(({ event, position }) => [event.sequence, position])).toEqual([[1, positions[0]], [2, positions[1]], [3, '']]);
    expect(records.every(({ event }) => !('p' in event))).toBe(true);
    await driver.close();
    const upgraded = new ClassicLevel<string, string>(location);
    expect(await upgraded.get('layout')).toBe('3');
    await upgraded.close();
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

  it('lets exactly one of many concurrent same-version appends through when two stores share one caller-owned db', async () => {
    const db = new ClassicLevel<string, string>(freshLocation());
    const stores = [createStore(createLevelDriver({ db })), createStore(createLevelDriver({ db }))];
    const streams = Array.from({ length: 16 }, (_, i) => `shared-${i}`);
    const attempts = streams.flatMap((key) =>
      Array.from({ length: 8 }, (_, writer) => ({ key, attempt: stores[writer % 2]!.append(key, { type: `W${writer}`, data: writer }, { expectedVersion: 0 }) })),
    );
    const outcomes = await Promise.allSettled(attempts.map(({ attempt }) => attempt));
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled' || isConcurrencyError(outcome.reason))).toBe(true);
    const acknowledged = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value as AppendResult] : []));
    expect(acknowledged.map((result) => result.key).sort()).toEqual([...streams].sort());
    for (const { key, events } of acknowledged) {
      const stored = await readAll(stores[0]!, key);
      expect(stored.map(({ id, type, sequence }) => ({ id, type, sequence }))).toEqual(events.map(({ id, type, sequence }) => ({ id, type, sequence })));
    }
    await Promise.all(stores.map((store) => store.close()));
    await db.close();
  });

  it('says the directory is in use by another process on the first call when another process holds it', async () => {
    const location = freshLocation();
    const child = await holdInAnotherProcess(location);
    const store = createStore(createLevelDriver({ location }));
    try {
      const error = await store.append('a', { type: 'T', data: null }).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: 'KEYVENT_DRIVER', retryable: false });
      expect((error as Error).message).toContain(location);
      expect((error as Error).message).toMatch(/in use by another process/);
      expect((error as Error).message).not.toMatch(/Database is not open/);
    } finally {
      child.stdin!.end();
      await once(child, 'exit');
    }
    // Once the other process has let go, the same store opens the directory on its next call.
    await store.append('a', { type: 'T', data: null }, { expectedVersion: 0 });
    expect(await store.streamVersion('a')).toBe(1);
    await store.close();
  });

  it('refuses a second driver on a directory that is already open', async () => {
    const location = freshLocation();
    const store = createStore(createLevelDriver({ location }));
    await store.append('a', { type: 'T', data: null });
    const other = createStore(createLevelDriver({ location }));
    await expect(other.append('a', { type: 'T', data: null })).rejects.toMatchObject({
      code: 'KEYVENT_DRIVER',
      message: expect.stringContaining(`${JSON.stringify(location)}: it is already open in this process`),
    });
    await store.close();
    await other.close().catch(() => undefined);
  });
});
