import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'cassandra-driver';
import { createCassandraDriver, createCassandraSchema } from '@keyvent/cassandra';
import { createStore, isValidationError, type EventStore } from '@keyvent/core';
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
  store = createStore(createCassandraDriver({ client, keyspace }));
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
  it('appends a new stream in one request', async () => {
    expect(await requestsFor(() => store.append('rt-1', [{ type: 'A', data: 1 }, { type: 'A', data: 2 }], { expectedVersion: 0 }))).toBe(1);
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
