import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'cassandra-driver';
import { createCassandraDriver, createCassandraSchema, DIRECTORY_SHARDS } from '@keyvent/cassandra';
import { randomUUID } from 'node:crypto';
import { createStore, directoryShardOf, feedKeyOf, feedPosition, isValidationError, positionAtStamp, type EventStore, type KeyValueDriver, type StoredEvent } from '@keyvent/core';
import type { RunningBackend } from '@keyvent/testing';
import { cassandraForTests, requestTracker } from './backend.js';

let backend: RunningBackend<'cassandra'>;
let client: Client;
let keyspace: string;
let store: EventStore;
const requests: string[] = [];

beforeAll(async () => {
  // Count every request the client sends to the server (prepares included), by its CQL.
  ({ backend, client, keyspace } = await cassandraForTests({ requestTracker: requestTracker(({ query }) => void requests.push(String(query))) }));
  // The commit path alone: the feed's index entry is counted in its own case.
  store = createStore(createCassandraDriver({ client, keyspace, feed: false }));
  await store.append('warm-up', { type: 'A', data: 1 }, { expectedVersion: 0 });
  await store.append('warm-up', { type: 'A', data: 2 }, { expectedVersion: 1 });
}, 180_000);
afterAll(async () => {
  await client?.shutdown();
  await backend?.stop();
});

async function requestsFor(action: () => Promise<unknown>): Promise<number> {
  requests.length = 0;
  await action();
  return requests.length;
}

describe('cassandra driver', () => {
  it('appends a new stream in two requests: its directory entry, then the batch (and confirms the entry after, unawaited)', async () => {
    await store.append('rt-0', { type: 'A', data: 0 }, { expectedVersion: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([2, 3]).toContain(await requestsFor(() => store.append('rt-1', [{ type: 'A', data: 1 }, { type: 'A', data: 2 }], { expectedVersion: 0 })));
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  it("confirms a new stream's directory entry after its commit, and lists (and confirms) one whose confirmation was lost", async () => {
    const own = createStore(createCassandraDriver({ client, keyspace, feed: false }));
    await own.append('directory/confirmed', { type: 'A', data: 1 }, { expectedVersion: 0 });
    await own.close();
    const pending = async () =>
      (await client.execute(`SELECT pending FROM ${keyspace}.events_streams WHERE shard = ? AND key = ?`, [directoryShardOf('directory/confirmed', DIRECTORY_SHARDS), 'directory/confirmed'], { prepare: true })).first()?.get('pending');
    expect(await pending()).toBe(false);
    // As if the confirmation had been lost: pending, with the stream there.
    await client.execute(`UPDATE ${keyspace}.events_streams SET pending = true WHERE shard = ? AND key = ?`, [directoryShardOf('directory/confirmed', DIRECTORY_SHARDS), 'directory/confirmed'], { prepare: true });
    expect(await store.listStreams({ prefix: 'directory/' })).toEqual(['directory/confirmed']);
    expect(await pending()).toBe(false);
  });

  it("appends at a caller's version, with the prior check, in one request", async () => {
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 3 }, { expectedVersion: 2 }))).toBe(1);
  });

  it('refuses a stale append in one request: the refused batch itself gives the actual version', async () => {
    const error = await store.append('rt-1', { type: 'A', data: 4 }, { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 3 });
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 4 }, { expectedVersion: 1 }).catch(() => undefined))).toBe(1);
  });

  it('keeps the head in the static column, read in one request', async () => {
    expect(await requestsFor(async () => expect(await store.streamVersion('rt-1')).toBe(3))).toBe(1);
    const row = (await client.execute(`SELECT head FROM ${keyspace}.events WHERE key = ?`, ['rt-1'])).first();
    expect(row.get('head').toNumber()).toBe(3);
  });

  it('creates its schema idempotently', async () => {
    await expect(createCassandraSchema(client, { keyspace })).resolves.toBeUndefined();
  });

  it('refuses a keyspace or table name that is not a plain identifier', () => {
    expect(() => createCassandraDriver({ client, keyspace: 'app; DROP KEYSPACE x' })).toThrow(/keyspace: .* is not a CQL identifier/);
    let error: unknown;
    try {
      createCassandraDriver({ client, keyspace, table: 'events"' });
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error)).toBe(true);
  });
});

describe('cassandra change feed', () => {
  const PENDING_MS = 1_500;
  const feedDriver = () => createCassandraDriver({ client, keyspace, pendingTimeoutMs: PENDING_MS });
  const readFeed = (driver: KeyValueDriver, after: string) =>
    driver.feed!.read({ after, upTo: positionAtStamp(Date.now() * 1000 + 1_000_000), slices: [0, 1023], limit: 1000 });
  const stampFor = (key: string) => ({ stamp: Date.now() * 1000, ...feedKeyOf(key) });
  const event = (key: string, sequence: number, id: string): StoredEvent => ({ key, sequence, id, type: 'A', data: 1, timestamp: new Date().toISOString() });

  it('costs one more request per append: the index entry, written before the batch (with a new stream\'s directory entry)', async () => {
    const feedStore = createStore(feedDriver());
    const key = `feed-${randomUUID()}`;
    // The driver's first write reads the layout version.
    // The directory entry's confirmation goes after the batch, unawaited: counted if it is answered in time.
    expect([4, 5]).toContain(await requestsFor(() => feedStore.append(key, { type: 'A', data: 1 }, { expectedVersion: 0 })));
    // The stream exists: this append writes no directory entry, so one counted is the first append's late confirmation.
    const second = requests.length;
    await feedStore.append(key, { type: 'A', data: 2 }, { expectedVersion: 1 });
    expect(requests.slice(second).filter((query) => !query.includes('(shard, key, pending)'))).toHaveLength(2);
  });

  it('never delivers the entry of a refused commit: the rows at its sequences hold another id', async () => {
    const driver = feedDriver();
    const key = `feed-${randomUUID()}`;
    const after = positionAtStamp(Date.now() * 1000 - 1);
    await driver.putEvents([event(key, 1, 'kept')], { feed: stampFor(key) });
    await expect(driver.putEvents([event(key, 1, 'refused')], { feed: stampFor(key) })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY' });
    const page = await readFeed(driver, after);
    const mine = page.records.filter((record) => record.event.key === key);
    expect(mine.map((record) => record.event.id)).toEqual(['kept']);
    expect(page.complete).toBeUndefined();
  });

  it('holds an entry whose commit is not stored as pending, then settles it as dead at SERIAL after pendingTimeoutMs', async () => {
    const driver = feedDriver();
    const key = `feed-${randomUUID()}`;
    const after = positionAtStamp(Date.now() * 1000 - 1);
    // A writer that wrote its entry and died before sending the batch.
    const feed = stampFor(key);
    const position = feedPosition(feed.stamp, feed.hash, 1);
    await (driver.feed as unknown as { writeEntry: (...args: unknown[]) => Promise<void> }).writeEntry([event(key, 1, 'lost')], feed, position);
    const pending = await readFeed(driver, after);
    expect(pending.complete).toBeDefined();
    expect(pending.complete! < position).toBe(true);
    expect(pending.records.some((record) => record.event.key === key)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, PENDING_MS + 200));
    const settled = await readFeed(driver, after);
    expect(settled.records.some((record) => record.event.key === key)).toBe(false);
    expect(settled.complete === undefined || settled.complete > position).toBe(true);
  });
});
