import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEventRegistry, createRepository, createStore, Aggregate, type EventStore } from '@keyvent/core';
import { createDynamoDbDriver, createDynamoDbTable } from '@keyvent/dynamodb';
import type { RunningBackend } from '@keyvent/testing';
import { dynamoDbForTests } from './backend.js';

let backend: RunningBackend<'dynamodb'>;
let client: DynamoDBClient;
let tableName: string;
const requests: string[] = [];

beforeAll(async () => {
  ({ backend, client, tableName } = await dynamoDbForTests());
  // Count every request the SDK sends to the server, by operation.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  );
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await backend?.stop();
});

async function requestsFor(action: () => Promise<unknown>): Promise<string[]> {
  requests.length = 0;
  await action();
  return [...requests];
}

type TallyEvent = { type: 'Counted'; data: { n: number } };
class Tally extends Aggregate<TallyEvent> {
  count = 0;
  add(n: number) { this.raise({ type: 'Counted', data: { n } }); }
  protected apply(event: TallyEvent) { this.count += event.data.n; }
}

describe('dynamodb driver', () => {
  let store: EventStore;
  beforeAll(() => {
    store = createStore(createDynamoDbDriver({ client, tableName }));
  });

  it('appends a new stream in one request (after the driver\'s first write has read the layout version)', async () => {
    expect(await requestsFor(() => store.append('rt-0', { type: 'A', data: 1 }, { expectedVersion: 'no_stream' }))).toEqual(['GetItemCommand', 'PutItemCommand']);
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 1 }, { expectedVersion: 'no_stream' }))).toEqual(['PutItemCommand']);
  });

  it("appends at a caller's version, with the prior check, in one request", async () => {
    await store.append('rt-2', { type: 'A', data: 1 }, { expectedVersion: 0 });
    expect(await requestsFor(() => store.append('rt-2', { type: 'A', data: 2 }, { expectedVersion: 1 }))).toEqual(['TransactWriteItemsCommand']);
    expect(await requestsFor(() => store.append('rt-2', [{ type: 'A', data: 3 }, { type: 'A', data: 4 }], { expectedVersion: 2 }))).toEqual([
      'TransactWriteItemsCommand',
    ]);
  });

  it('refuses a stale or gapped append in one request, plus one read for the actual version', async () => {
    await store.append('rt-3', { type: 'A', data: 1 }, { expectedVersion: 0 });
    const calls = await requestsFor(() => store.append('rt-3', { type: 'A', data: 2 }, { expectedVersion: 5 }).catch(() => undefined));
    expect(calls).toEqual(['TransactWriteItemsCommand', 'QueryCommand']);
  });

  it('saves a loaded aggregate in one request', async () => {
    const tallies = createRepository({ store, registry: createEventRegistry<TallyEvent>({ Counted: {} }), create: (id) => new Tally(id) });
    const tally = tallies.create('rt-4');
    tally.add(1);
    await tallies.save(tally);
    const loaded = await tallies.load('rt-4');
    loaded.add(2);
    loaded.add(3);
    expect(await requestsFor(() => tallies.save(loaded))).toEqual(['TransactWriteItemsCommand']);
  });

  it('leaves a client it was given open on close', async () => {
    const own = createStore(createDynamoDbDriver({ client, tableName }));
    await own.close();
    await expect(store.append('rt-5', { type: 'A', data: 1 })).resolves.toMatchObject({ version: 1 });
  });

  it('creates its table idempotently', async () => {
    await expect(createDynamoDbTable(client, tableName)).resolves.toBeUndefined();
  });
});

describe('a refused commit says whose events are in its way, in the same request', () => {
  const event = (key: string, sequence: number, id: string) => ({ key, sequence, type: 'T', data: null, id, timestamp: new Date().toISOString() });

  it('a put (ALL_OLD) and a transaction (each reason\'s item) carry the stored ids', async () => {
    const driver = createDynamoDbDriver({ client, tableName });
    const key = `refused-${Date.now()}-${Math.random()}`;
    await driver.putEvents([event(key, 1, 'a'), event(key, 2, 'b'), event(key, 3, 'c')]);
    const single = await driver.putEvents([event(key, 1, 'x')]).catch((error: unknown) => error);
    expect(single).toMatchObject({ code: 'KEYVENT_CONCURRENCY', storedIds: ['a'] });
    const many = await driver.putEvents([event(key, 2, 'y'), event(key, 3, 'z')], { checkPrior: true }).catch((error: unknown) => error);
    expect(many).toMatchObject({ code: 'KEYVENT_CONCURRENCY', storedIds: ['b', 'c'] });
    const gap = await driver.putEvents([event(key, 9, 'y')], { checkPrior: true }).catch((error: unknown) => error);
    expect(gap).toMatchObject({ code: 'KEYVENT_CONCURRENCY', storedIds: [] });
  });

  it('a conflict costs the put and one head read, no read of the ids', async () => {
    const store = createStore(createDynamoDbDriver({ client, tableName }));
    const key = `refused-${Date.now()}-${Math.random()}`;
    await store.append(key, [{ type: 'T', data: null }, { type: 'T', data: null }], { expectedVersion: 0 });
    const sent = await requestsFor(() => store.append(key, { type: 'T', data: null }, { expectedVersion: 1 }).catch(() => undefined));
    expect(sent).toEqual(['TransactWriteItemsCommand', 'QueryCommand']);
  });
});
