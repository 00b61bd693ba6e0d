import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { Aggregate, DriverError, createEventRegistry, createRepository, createStore, type EventStore } from '@keyvent/core';
import { createMongoDbDriver, createMongoDbIndexes, type CommitDocument } from '@keyvent/mongodb';
import type { RunningBackend } from '@keyvent/testing';
import { mongoDbForTests } from './backend.js';

let backend: RunningBackend<'mongodb'>;
let client: MongoClient;
let database: string;
let store: EventStore;
let counted: MongoClient;
const commands: string[] = [];

beforeAll(async () => {
  ({ backend, client, database } = await mongoDbForTests());
  // A second client that reports every command it sends to the server.
  counted = new MongoClient(backend.connection.uri, { monitorCommands: true });
  counted.on('commandStarted', (event) => commands.push(event.commandName));
  store = createStore(createMongoDbDriver({ client: counted, database }));
  await store.append('warm-up', { type: 'A', data: 1 });
}, 180_000);
afterAll(async () => {
  await store?.close();
  await counted?.close();
  await client?.close();
  await backend?.stop();
});

async function commandsFor(action: () => Promise<unknown>): Promise<string[]> {
  commands.length = 0;
  await action();
  return [...commands];
}

type TallyEvent = { type: 'Counted'; data: { n: number } };
class Tally extends Aggregate<TallyEvent> {
  count = 0;
  add(n: number) { this.raise({ type: 'Counted', data: { n } }); }
  protected apply(event: TallyEvent) { this.count += event.data.n; }
}

describe('mongodb driver', () => {
  it('appends a new stream with one insert', async () => {
    expect(await commandsFor(() => store.append('rt-1', [{ type: 'A', data: 1 }, { type: 'A', data: 2 }], { expectedVersion: 0 }))).toEqual(['insert']);
  });

  it("appends at a caller's version in two round trips: the boundary check and the insert", async () => {
    expect(await commandsFor(() => store.append('rt-1', { type: 'A', data: 3 }, { expectedVersion: 2 }))).toEqual(['find', 'insert']);
  });

  it('refuses a stale writer inside an earlier commit (not at its boundary)', async () => {
    await expect(store.append('rt-1', { type: 'A', data: 9 }, { expectedVersion: 1 })).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 3 });
  });

  it('saves a loaded aggregate with one insert', async () => {
    const tallies = createRepository({ store, registry: createEventRegistry<TallyEvent>({ Counted: {} }), create: (id) => new Tally(id) });
    const tally = tallies.create('rt-2');
    tally.add(1);
    await tallies.save(tally);
    const loaded = await tallies.load('rt-2');
    loaded.add(2);
    expect(await commandsFor(() => tallies.save(loaded))).toEqual(['insert']);
  });

  it('stores one document per commit, data as JSON text', async () => {
    await store.append('doc-1', [{ type: 'A', data: { $set: { 'a.b': 1 } } }, { type: 'B', data: null }], { expectedVersion: 0 });
    const commit = await client.db(database).collection<CommitDocument>('events').findOne({ k: 'doc-1' });
    expect(commit).toMatchObject({ k: 'doc-1', f: 1, l: 2, s: [1, 2], o: Buffer.from('doc-1').toString('hex') });
    expect(commit!.e.map((entry) => entry.d)).toEqual(['{"$set":{"a.b":1}}', 'null']);
  });

  it('creates its indexes idempotently: once they exist, it only lists them (and reads the layout version)', async () => {
    const collection = counted.db(database).collection<CommitDocument>('events');
    expect(await commandsFor(() => createMongoDbIndexes(collection))).toEqual(['listIndexes', 'find']);
    const names = (await collection.indexes()).map((index) => index.name);
    expect(names).toEqual(expect.arrayContaining(['stream_sequences', 'stream_first', 'stream_last', 'listing', 'feed']));
  });

  it('creates the indexes of a new collection, and only the missing ones', async () => {
    const collection = counted.db(database).collection<CommitDocument>('events_new');
    expect(await commandsFor(() => createMongoDbIndexes(collection))).toEqual(['listIndexes', 'createIndexes', 'find', 'insert']);
    await collection.dropIndex('listing');
    expect(await commandsFor(() => createMongoDbIndexes(collection))).toEqual(['listIndexes', 'createIndexes', 'find']);
    expect((await collection.indexes()).map((index) => index.name).sort()).toEqual(['_id_', 'feed', 'listing', 'stream_first', 'stream_last', 'stream_sequences']);
  });

  it('refuses an index of the same name with another definition instead of keeping it', async () => {
    const collection = client.db(database).collection<CommitDocument>('events_other');
    await collection.createIndex({ k: 1, l: -1 }, { name: 'stream_last' });
    await expect(createMongoDbIndexes(collection)).rejects.toThrow(
      new DriverError('mongodb', 'events_other has an index named stream_last of another definition ({"k":1,"l":-1}); keyvent needs {"k":1,"l":1}: drop it or use another collection'),
    );
  });
});
