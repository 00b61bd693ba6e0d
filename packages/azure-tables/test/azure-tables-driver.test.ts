import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import {
  compareKeys,
  createStore,
  FEED_START,
  feedKeyOf,
  feedPosition,
  isConcurrencyError,
  isDriverError,
  isNotSupportedError,
  isValidationError,
  positionAtStamp,
  positionInCommit,
  sliceOf,
  type DriverFeed,
  type EventStore,
  type FeedRecord,
  type KeyValueDriver,
  type StoredEvent,
} from '@keyvent/core';
import { createAzureTablesDriver, createAzureTablesTable, decodeKey, directoryEntity, encodeKey } from '@keyvent/azure-tables';
import { createTableClient } from '../src/client.js';
import { toEntity } from '../src/entities.js';
import { PENDING_MS } from '../src/feed.js';
import { indexEntity, type IndexEntity } from '../src/feed-table.js';
import { partitionKeyOf, prefixUpperBound, rowKey } from '../src/keys.js';
import { transactionBytes } from '../src/limits.js';
import type { RunningBackend } from '@keyvent/testing';
import { azureTablesForTests } from './backend.js';

let backend: RunningBackend<'azure-tables'>;
let client: TableClient;
let driver: KeyValueDriver;
let store: EventStore;
let requests = 0;
/** UTF-8 bytes of the last request body sent. */
let sentBytes = 0;
/** Hands query results back in reverse, as Cosmos DB may (it keeps no key order). */
let reverseQueries = false;
/** Holds each transaction (`$batch`) this long before sending it, as a slow network would. */
let delayBatchesMs = 0;
/** While set, entity-group transactions wait for it (a commit in flight for as long as a case needs). */
let holdBatches: Promise<void> | undefined;

beforeAll(async () => {
  ({ backend, client } = await azureTablesForTests());
  client.pipeline.addPolicy({
    name: 'countRequests',
    sendRequest: (request, next) => {
      requests++;
      // The last transaction's body (a new stream's directory entry is confirmed after it, in the background).
      if (request.url.endsWith('$batch')) sentBytes = typeof request.body === 'string' ? Buffer.byteLength(request.body) : 0;
      return next(request);
    },
  });
  // After the retry phase, so the reversed body is what the SDK deserializes.
  client.pipeline.addPolicy(
    {
      name: 'reverseQueries',
      sendRequest: async (request, next) => {
        const response = await next(request);
        if (reverseQueries && request.method === 'GET' && response.status === 200 && response.bodyAsText) {
          const body = JSON.parse(response.bodyAsText) as { value?: unknown[] };
          body.value?.reverse();
          response.bodyAsText = JSON.stringify(body);
        }
        return response;
      },
    },
    { afterPhase: 'Retry' },
  );
  client.pipeline.addPolicy({
    name: 'delayBatches',
    sendRequest: async (request, next) => {
      if (delayBatchesMs > 0 && request.url.includes('$batch')) await new Promise((resolve) => setTimeout(resolve, delayBatchesMs));
      if (holdBatches && request.url.includes('$batch')) await holdBatches;
      return next(request);
    },
  });
  driver = createAzureTablesDriver({ client });
  store = createStore(driver);
}, 120_000);
afterAll(async () => {
  await backend?.stop();
});

async function requestsFor(action: () => Promise<unknown>): Promise<number> {
  requests = 0;
  await action();
  return requests;
}

async function rawEntities(): Promise<{ partitionKey: string; rowKey: string; [name: string]: unknown }[]> {
  const all = [];
  for await (const entity of client.listEntities()) all.push(entity as { partitionKey: string; rowKey: string });
  return all;
}

const entitiesOf = async (key: string) => (await rawEntities()).filter((entity) => entity.partitionKey === encodeKey(key));

/** The outcome of a call: 'ok', or the error's class by its code. */
const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) =>
      isValidationError(error) ? 'ValidationError' : isConcurrencyError(error) ? 'ConcurrencyError' : isDriverError(error) ? 'DriverError' : error,
  );

/** What a synchronous call throws. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Events of U+2028 text as stored events, for calls to the driver that bypass the core's limits. */
const storedEvents = (key: string, count: number, characters: number): StoredEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    key,
    sequence: i + 1,
    type: 'Text',
    data: '\u2028'.repeat(characters),
    id: `id-${i}`,
    timestamp: new Date().toISOString(),
  }));

const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe('azure-tables driver', () => {
  it('appends in two requests with the feed (its entry, then the commit), with or without the prior check, and in one without; a new stream adds its directory entry, and its confirmation after the commit', async () => {
    // Any version: the head's read first. And a driver's first write reads the store's layout version.
    expect(await requestsFor(() => store.append('rt-0', { type: 'A', data: 1 }))).toBe(6);
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 1 }, { expectedVersion: 0 }))).toBe(4);
    expect(await requestsFor(() => store.append('rt-1', [{ type: 'A', data: 2 }, { type: 'A', data: 3 }], { expectedVersion: 1 }))).toBe(2);
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 4 }))).toBe(3);
    const plain = createStore(createAzureTablesDriver({ client, feed: false }));
    await plain.append('rt-plain-0', { type: 'A', data: 1 });
    expect(await requestsFor(() => plain.append('rt-plain', { type: 'A', data: 1 }, { expectedVersion: 0 }))).toBe(3);
    expect(await requestsFor(() => plain.append('rt-plain', { type: 'A', data: 2 }, { expectedVersion: 1 }))).toBe(1);
    expect(isNotSupportedError(thrownBy(() => plain.readAll()))).toBe(true);
  });

  it('reads a stream version in one request', async () => {
    expect(await requestsFor(() => store.streamVersion('rt-1'))).toBe(1);
  });

  it('bounds a prefix scan above by the least string after every key with that prefix', () => {
    expect(prefixUpperBound('orders/')).toBe('orders0');
    expect(prefixUpperBound('a\uffff\uffff')).toBe('b');
    expect(prefixUpperBound('\uffff')).toBeUndefined();
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('k\u{10FFFF}')).toBeUndefined();
    expect(prefixUpperBound('k😀')).toBe('k\ud83d\ude01');
    for (const key of ['orders/', 'orders/\uffff', 'orders/\uffff\uffffz', 'orders/😀']) expect(key < prefixUpperBound('orders/')!).toBe(true);
  });

  it('stores every character Azure forbids escaped, and gives the keys back unchanged', async () => {
    const keys = ['az/slash', 'az\\backslash', 'az#hash', 'az?question', 'az%percent', 'az\u0000nul\u0001\u001f\u007f\u0080\u009f', 'az/\\#?%\t\n'];
    for (const key of keys) await store.append(key, { type: 'T', data: key }, { expectedVersion: 0 });
    const partitionKeys = (await rawEntities()).map((entity) => entity.partitionKey);
    expect(partitionKeys.filter((partitionKey) => FORBIDDEN.test(partitionKey))).toEqual([]);
    for (const key of keys) expect(partitionKeys).toContain(encodeKey(key));
    expect(await store.listStreams({ prefix: 'az' })).toEqual([...keys].sort());
    for (const key of keys) {
      for await (const event of store.readStream(key)) expect([event.key, event.data]).toEqual([key, key]);
    }
  });

  it('encodes keys reversibly, and a prefix to a prefix', () => {
    for (const key of ['plain', '%2F', '/%/', '\u0000', 'ü/😀#']) expect(decodeKey(encodeKey(key))).toBe(key);
    expect(encodeKey('a/b/c').startsWith(encodeKey('a/b'))).toBe(true);
  });

  it('keeps a key too long for a PartitionKey under its hash, and lists it back whole', async () => {
    const key = `long/${'ü/'.repeat(300)}`;
    await store.append(key, { type: 'T', data: 1 }, { expectedVersion: 0 });
    await store.append(key, { type: 'T', data: 2 }, { expectedVersion: 1 });
    const partitionKey = (await rawEntities()).find((entity) => entity.partitionKey.startsWith('long'))!.partitionKey;
    expect(partitionKey.length).toBeLessThanOrEqual(512);
    expect(partitionKey).toContain('%~');
    expect(await store.listStreams({ prefix: 'long/' })).toEqual([key]);
    expect(await store.listStreams({ prefix: key })).toEqual([key]);
    expect(await store.streamVersion(key)).toBe(2);
  });

  it('splits data over 64 KiB across properties and joins it back exactly', async () => {
    const data = { text: '😀é'.repeat(43_000) }; // 258,024 bytes counted, 129,000 UTF-16 units
    await store.append('big-1', { type: 'Big', data }, { expectedVersion: 0 });
    const entity = (await rawEntities()).find((row) => row.partitionKey === 'big-1' && row.rowKey !== '~head')!;
    expect(entity.pn).toBeGreaterThan(4);
    for (let i = 0; i < (entity.pn as number); i++) expect((entity[`p${i}`] as string).length).toBeLessThanOrEqual(32_000);
    for await (const event of store.readStream('big-1')) expect(event.data).toEqual(data);
  });
});

describe('azure-tables driver: sizes as the service counts them', () => {
  it('stores, or refuses with ValidationError and writes nothing, four events of U+2028 text that pass the declared limits', async () => {
    const key = 'u2028-commit';
    const { maxEventBytes = Infinity, maxCommitBytes = Infinity } = store.limits;
    // U+2028 counts 3 bytes in the core's check; the driver stores it as `\u2028`, which the SDK escapes again.
    // With the limits of old (500 KiB, 1.9 MB) this was 4 × 474,995 bytes counted, 4,436,784 sent: HTTP 413.
    const characters = Math.floor((Math.min(maxEventBytes, maxCommitBytes / 4) - 20) / 3);
    const events = Array.from({ length: 4 }, (_, i) => ({ type: 'Text', data: `${i}${'\u2028'.repeat(characters)}` }));
    const outcome = await store.append(key, events, { expectedVersion: 0 }).then(
      () => 'stored',
      (error: unknown) => error,
    );
    if (outcome === 'stored') {
      const stored = [];
      for await (const event of store.readStream(key)) stored.push(event.data);
      expect(stored).toEqual(events.map((event) => event.data));
    } else {
      expect(isValidationError(outcome) ? 'ValidationError' : outcome).toBe('ValidationError');
      expect(await entitiesOf(key)).toEqual([]);
    }
  });

  it('refuses, writing nothing, the four events of U+2028 text that were sent as 4.4 MB (1.9 MB counted)', async () => {
    const key = 'u2028-old-limits';
    const events = Array.from({ length: 4 }, () => ({ type: 'Text', data: '\u2028'.repeat(158_326) }));
    expect(await outcomeOf(store.append(key, events, { expectedVersion: 0 }))).toBe('ValidationError');
    expect(await entitiesOf(key)).toEqual([]);
  });

  it('stores a commit of U+2028 text at the declared limits, and the request stays under 4 MiB', async () => {
    const key = 'u2028-at-limit';
    const { maxEventBytes, maxCommitBytes } = store.limits as Required<typeof store.limits>;
    const count = Math.ceil(maxCommitBytes / maxEventBytes);
    // ["Text","…",null] is 16 bytes besides the text; U+2028 counts 3.
    const characters = Math.floor((Math.min(maxEventBytes, Math.floor(maxCommitBytes / count)) - 16) / 3);
    const events = Array.from({ length: count }, () => ({ type: 'Text', data: '\u2028'.repeat(characters) }));
    await store.append(key, events, { expectedVersion: 0 });
    expect(sentBytes).toBeGreaterThan(3_500_000);
    expect(sentBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    let read = 0;
    for await (const event of store.readStream(key)) expect(event.data).toBe(events[read++]!.data);
    expect(read).toBe(count);
  });

  it('refuses before sending an entity over 1 MiB, or a request over 4 MiB, that bypass the declared limits', async () => {
    // 100,000 U+2028 are 600,000 UTF-16 units once escaped: a 1.2 MB entity.
    const large = storedEvents('entity-too-large', 1, 100_000);
    const refused = await driver.putEvents(large).catch((error: unknown) => error);
    expect(isValidationError(refused) && refused.path).toBe('events[0]');
    expect((refused as Error).message).toMatch(/events\[0\]: is 1200\d{3} bytes as an Azure Tables entity .* at most 1048576/);
    // Entities of 1.03 MB each (under the limit), sent as 602 KB each: the seventh passes 4 MiB.
    const many = storedEvents('request-too-large', 7, 86_000);
    requests = 0;
    const tooMany = await driver.putEvents(many).catch((error: unknown) => error);
    expect(requests).toBe(0);
    expect(isValidationError(tooMany) && tooMany.path).toBe('events');
    expect((tooMany as Error).message).toMatch(/the commit would send \d+\+ bytes, over the Table Storage limit of 4194304 per transaction, passed at events\[6\]/);
    expect(await entitiesOf('entity-too-large')).toEqual([]);
    expect(await entitiesOf('request-too-large')).toEqual([]);
    await driver.putEvents(many.slice(0, 6));
    expect(await entitiesOf('request-too-large')).toHaveLength(7); // six events and the head
  });

  it('bounds what the SDK sends from above, within the framing', async () => {
    const key = `measured/${'€/'.repeat(250)}`; // a long key, percent-encoded in the URLs of the prior check and the head
    await store.append(key, { type: 'T', data: { text: 'a"b\\c\u2028\n' } }, { expectedVersion: 0 });
    const events = [1, 2, 3].map((i) => ({ type: 'T', data: { i, text: `"quoted" \\ ${'\u2028é😀'.repeat(1000 * i)}` } }));
    const { events: stored } = await store.append(key, events, { expectedVersion: 1 });
    const sent = sentBytes;
    const partitionKey = partitionKeyOf(key);
    const positions = (await driver.feed!.fetchRecords!(key, 1, 3)).map((record) => record.position);
    const actions: TransactionAction[] = [
      ...stored.map((event, i): TransactionAction => ['create', toEntity(event, positions[i])]),
      ['update', { partitionKey, rowKey: rowKey(1) }, 'Merge', { etag: '*' }],
      ['upsert', { partitionKey, rowKey: '~head', last: '4' }, 'Replace'],
    ];
    const estimate = transactionBytes(`${client.url}/${client.tableName}`, actions);
    expect(estimate).toBeGreaterThanOrEqual(sent);
    // The slack is the framing's margin (512 bytes a part) and the keys in URLs counted at 9 bytes a unit.
    expect(estimate - sent).toBeLessThan(512 * (actions.length + 1) + 2 * 9 * (partitionKey.length + 16));
  });

  it("holds commits to Cosmos DB's 2 MB batches, and knows Cosmos DB by its host", async () => {
    const cosmos = createAzureTablesDriver({ client, service: 'cosmos' });
    expect(cosmos.limits!.maxCommitBytes!).toBeLessThan(store.limits.maxCommitBytes! / 2);
    const refused = await cosmos.putEvents(storedEvents('cosmos-batch', 4, 86_000)).catch((error: unknown) => error);
    expect((refused as Error).message).toMatch(/over the Cosmos DB limit of 2000000 per transaction, passed at events\[3\]/);
    expect(await entitiesOf('cosmos-batch')).toEqual([]);
    const account = 'DefaultEndpointsProtocol=https;AccountName=keyvent;AccountKey=a2V5dmVudA==';
    const onCosmos = createAzureTablesDriver({ connectionString: `${account};TableEndpoint=https://keyvent.table.cosmos.azure.com:443/`, tableName: 'events' });
    const onStorage = createAzureTablesDriver({ connectionString: `${account};TableEndpoint=https://keyvent.table.core.windows.net/`, tableName: 'events' });
    expect(onCosmos.limits!.maxCommitBytes!).toBeLessThan(700_000);
    expect(onStorage.limits!.maxCommitBytes!).toBeGreaterThan(1_500_000);
  });
});

describe('azure-tables driver: what the service answers', () => {
  it('reads a stream in sequence order, and exactly, whatever order the service returns it in', async () => {
    const key = 'unordered';
    await store.append(key, Array.from({ length: 30 }, (_, i) => ({ type: 'T', data: i + 1 })), { expectedVersion: 0 });
    reverseQueries = true;
    try {
      expect((await driver.fetchEvents(key, 0, 1000)).map((event) => event.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect((await driver.fetchEvents(key, 4, 10)).map((event) => event.sequence)).toEqual(Array.from({ length: 10 }, (_, i) => i + 5));
      expect((await driver.fetchEvents(key, 25, 10)).map((event) => event.sequence)).toEqual([26, 27, 28, 29, 30]);
      const read = [];
      for await (const event of store.readStream(key, { pageSize: 7 })) read.push(event.data);
      expect(read).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      reverseQueries = false;
    }
  });

  it('confirms a new stream\'s directory entry after its commit, and lists (and confirms) one whose confirmation was lost', async () => {
    const own = createAzureTablesDriver({ client, feed: false });
    const ownStore = createStore(own);
    await ownStore.append('directory/confirmed', { type: 'T', data: 1 }, { expectedVersion: 0 });
    await ownStore.close();
    const entity = directoryEntity('directory/confirmed', false);
    expect((await client.getEntity<{ p: boolean }>(entity.partitionKey, entity.rowKey)).p).toBe(false);
    // As if the confirmation had been lost: pending, with the stream there.
    await client.upsertEntity(directoryEntity('directory/confirmed', true), 'Replace');
    expect(await store.listStreams({ prefix: 'directory/' })).toEqual(['directory/confirmed']);
    expect((await client.getEntity<{ p: boolean }>(entity.partitionKey, entity.rowKey)).p).toBe(false);
  });

  it('lists in key order on Cosmos DB, whose queries keep no order (shards read whole, sorted here)', async () => {
    const cosmos = createStore(createAzureTablesDriver({ client, service: 'cosmos', feed: false }));
    const keys = ['cosmos:b', 'cosmos:a', 'cosmos:ä', 'cosmos:😀', 'cosmos:\uffee', 'cosmos:a/b', 'cosmos:z', 'cosmos:0'];
    for (const key of keys) await cosmos.append(key, { type: 'T', data: 1 }, { expectedVersion: 0 });
    reverseQueries = true;
    try {
      const sorted = [...keys].sort(compareKeys);
      expect(await cosmos.listStreams({ prefix: 'cosmos:' })).toEqual(sorted);
      expect(await cosmos.listStreams({ prefix: 'cosmos:', startAfter: sorted[2], limit: 3 })).toEqual(sorted.slice(3, 6));
    } finally {
      reverseQueries = false;
    }
  });

  it('says a missing table is missing, on reads and commits, instead of reading an empty stream', async () => {
    const missing = createStore(createAzureTablesDriver({ connectionString: backend.connection.connectionString, tableName: 'keyventnosuchtable', clientOptions: { allowInsecureConnection: true } }));
    for (const call of [
      () => missing.streamVersion('k'),
      async () => { for await (const event of missing.readStream('k')) void event; },
      () => missing.listStreams(),
      () => missing.append('k', { type: 'T', data: 1 }, { expectedVersion: 0 }),
      () => missing.append('k', { type: 'T', data: 1 }, { expectedVersion: 3 }),
    ]) {
      const error = await call().then(() => undefined, (failure: unknown) => failure);
      expect(isDriverError(error) && !error.retryable && error.message).toMatch(/table "keyventnosuchtable" does not exist \(TableNotFound\); create it first with createAzureTablesTable/);
    }
  });

  it("calls a conflict only what the service's code says is one", async () => {
    await store.append('codes', { type: 'T', data: 1 }, { expectedVersion: 0 });
    // EntityAlreadyExists: a create collided.
    expect(await outcomeOf(driver.putEvents(storedEvents('codes', 1, 1)))).toBe('ConcurrencyError');
    // ResourceNotFound from the prior check: event 2 does not exist.
    const third = storedEvents('codes', 3, 1).slice(2);
    expect(await outcomeOf(driver.putEvents(third, { checkPrior: true }))).toBe('ConcurrencyError');
    expect(await store.streamVersion('codes')).toBe(1);
  });

  it("bounds the SDK's own retries of a client it creates to 2", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const { port } = dead.address() as { port: number };
    await new Promise((resolve) => dead.close(resolve));
    const connection = backend.connection.connectionString.replace(/TableEndpoint=http:\/\/[^/]+/, `TableEndpoint=http://127.0.0.1:${port}`);
    const unreachable = createTableClient(connection, 'events', { allowInsecureConnection: true, retryOptions: { retryDelayInMs: 1, maxRetryDelayInMs: 1 } });
    let attempts = 0;
    unreachable.pipeline.addPolicy({ name: 'countAttempts', sendRequest: (request, next) => (attempts++, next(request)) }, { afterPhase: 'Retry' });
    const error = await createAzureTablesDriver({ client: unreachable }).checkSequence('k', 1).catch((failure: unknown) => failure);
    expect(isDriverError(error) && error.retryable).toBe(true);
    expect(attempts).toBe(3);
  });
});


describe('azure-tables driver: the change feed', () => {
  const feed = (): DriverFeed => driver.feed!;
  const feedTable = () => createTableClient(backend.connection.connectionString, `${client.tableName}feed`, { allowInsecureConnection: true });
  /** A stamp now, in microseconds; `offset` microseconds later. */
  const stampNow = (offset = 0) => Date.now() * 1000 + offset;
  const stamped = (key: string, stamp: number) => ({ stamp, ...feedKeyOf(key) });
  const commit = (key: string, from: number, count: number, tag: string): StoredEvent[] =>
    Array.from({ length: count }, (_, i) => ({ key, sequence: from + i, type: 'T', data: i, id: `${tag}-${from + i}`, timestamp: new Date().toISOString() }));
  /** The feed of `key`'s slice after `after`, up to a second from now, as the driver answers it. */
  const readSlice = (key: string, after: string, limit = 1000) =>
    feed().read({ after, upTo: positionAtStamp(stampNow(1_000_000)), slices: [sliceOf(key), sliceOf(key)], limit });
  const idsOf = (records: FeedRecord[]) => records.map((record) => record.event.id);
  async function entriesOf(key: string): Promise<IndexEntity[]> {
    const entries: IndexEntity[] = [];
    for await (const entity of feedTable().listEntities<IndexEntity>()) if (entity.k === encodeKey(key)) entries.push(entity as IndexEntity);
    return entries;
  }

  it('never yields the events of a commit whose entry was written but which failed on a conflict', async () => {
    const key = 'feed/conflict';
    const start = stampNow();
    await driver.putEvents(commit(key, 1, 2, 'landed'), { feed: stamped(key, start + 1) });
    // The same sequence again: its entry is written first, then the transaction fails (EntityAlreadyExists).
    expect(await outcomeOf(driver.putEvents(commit(key, 1, 1, 'refused'), { feed: stamped(key, start + 2) }))).toBe('ConcurrencyError');
    expect((await entriesOf(key)).map((entry) => entry.i).sort()).toEqual(['landed-1', 'refused-1']);
    // Young as it is, the refused entry is dead: its sequence holds another commit's id.
    const page = await readSlice(key, positionAtStamp(start));
    expect(idsOf(page.records)).toEqual(['landed-1', 'landed-2']);
    expect(page.complete).toBeUndefined();
    const { hash } = feedKeyOf(key);
    expect(page.records.map((record) => record.position)).toEqual([feedPosition(start + 1, hash, 1), feedPosition(start + 1, hash, 2)]);
    // The events carry the positions of the attempt that landed.
    expect((await feed().fetchRecords!(key, 0, 10)).map((record) => record.position)).toEqual(page.records.map((record) => record.position));
    // From inside the commit: strictly after.
    expect(idsOf((await readSlice(key, page.records[0]!.position)).records)).toEqual(['landed-2']);
  });

  it('holds `complete` below the entry of a commit in flight, yields it once landed, and passes over entries refused or older than D', async () => {
    const key = 'feed/pending';
    const { hash } = feedKeyOf(key);
    const start = stampNow();
    // An entry whose commit never came, stamped more than D ago: dead, however it failed.
    const old = start - (PENDING_MS + 1_000) * 1000;
    await feedTable().createEntity(indexEntity({ key, id: 'old-5' }, 1, feedPosition(old, hash, 5), sliceOf(key)));
    await driver.putEvents(commit(key, 1, 1, 'one'), { feed: stamped(key, start + 1) });
    // Refused by its prior check (nothing at sequence 2): nothing at 3 either, but its writer marked the entry.
    expect(await outcomeOf(driver.putEvents(commit(key, 3, 1, 'refused'), { checkPrior: true, feed: stamped(key, start + 2) }))).toBe('ConcurrencyError');
    expect((await entriesOf(key)).find((entry) => entry.i === 'refused-3')?.x).toBe(true);
    // A commit in flight: its entry is written, its transaction held until the checks are done.
    let release = () => {};
    holdBatches = new Promise<void>((resolve) => (release = resolve));
    const inFlight = driver.putEvents(commit(key, 2, 1, 'two'), { checkPrior: true, feed: stamped(key, start + 3) });
    try {
      while (!(await entriesOf(key)).some((entry) => entry.i === 'two-2')) await new Promise((resolve) => setTimeout(resolve, 20));
      const page = await readSlice(key, positionAtStamp(old - 1));
      expect(idsOf(page.records)).toEqual(['one-1']);
      expect(page.complete).toBe(positionInCommit(feedPosition(start + 3, hash, 2), 1));
      // From there on: nothing yet, and still not past it.
      expect(await readSlice(key, page.complete!)).toMatchObject({ records: [], complete: page.complete });
    } finally {
      holdBatches = undefined;
      release();
    }
    await inFlight;
    const landed = await readSlice(key, positionAtStamp(old - 1));
    expect(idsOf(landed.records)).toEqual(['one-1', 'two-2']);
    expect(landed.complete).toBeUndefined();
  });

  it('gives up a commit that could reach the service later than its entry stays pending, sending nothing', async () => {
    const key = 'feed/late';
    const late = await driver.putEvents(commit(key, 1, 1, 'late'), { feed: stamped(key, stampNow(-26_000_000)) }).catch((error: unknown) => error);
    expect(isDriverError(late) && late.retryable && late.message).toMatch(/the feed entry took more than 25000 ms after its stamp; the commit was not sent/);
    expect(await entitiesOf(key)).toEqual([]);
  });

  it('abandons a commit still unanswered when it could land later than its entry stays pending, as in doubt', async () => {
    const key = 'feed/abandoned';
    // Its deadline (25 s after the stamp) comes 300 ms from now; the transaction is held for a second.
    const stamp = stampNow(-(25_000 - 300) * 1000);
    delayBatchesMs = 1_000;
    try {
      const late = await driver.putEvents(commit(key, 1, 1, 'slow'), { feed: stamped(key, stamp) }).catch((error: unknown) => error);
      expect(isDriverError(late) && late.retryable && late.inDoubt && late.message).toMatch(/the commit got no answer within 25000 ms of its feed stamp and was abandoned/);
    } finally {
      delayBatchesMs = 0;
    }
    expect(await entitiesOf(key)).toEqual([]);
    expect((await entriesOf(key)).map((entry) => entry.i)).toEqual(['slow-1']);
  });

  it('restamps a late commit: a new entry and new positions on its events; it then reads at both', async () => {
    const key = 'feed/restamp';
    const { hash } = feedKeyOf(key);
    const start = stampNow();
    const events = commit(key, 1, 2, 'late');
    await driver.putEvents(events, { feed: stamped(key, start + 1) });
    const positions = events.map((event) => feedPosition(start + 2, hash, event.sequence));
    await feed().restamp!(events, positions);
    expect((await feed().fetchRecords!(key, 0, 10)).map((record) => record.position)).toEqual(positions);
    const page = await readSlice(key, positionAtStamp(start));
    expect(page.records.map((record) => [record.event.id, record.position])).toEqual([
      ['late-1', feedPosition(start + 1, hash, 1)],
      ['late-2', feedPosition(start + 1, hash, 2)],
      ['late-1', positions[0]],
      ['late-2', positions[1]],
    ]);
  });

  it('pages by `limit` across feed partitions in position order, and reads on past dead entries', async () => {
    const start = stampNow();
    const keys = Array.from({ length: 6 }, (_, i) => `feed/page/${i}`);
    for (const [i, key] of keys.entries()) {
      await driver.putEvents(commit(key, 1, 1, 'first'), { feed: stamped(key, start + 10 * i + 1) });
      // A dead entry after each: another commit holds sequence 1.
      await outcomeOf(driver.putEvents(commit(key, 1, 1, 'dead'), { feed: stamped(key, start + 10 * i + 2) }));
    }
    const upTo = positionAtStamp(stampNow(1_000_000));
    const seen: FeedRecord[] = [];
    let after = positionAtStamp(start);
    for (let pages = 0; pages < 20; pages++) {
      const page = await feed().read({ after, upTo, slices: [0, 1023], limit: 1 });
      seen.push(...page.records);
      if (page.reached >= upTo) break;
      expect(page.records.length).toBeGreaterThan(0);
      after = page.reached;
    }
    const mine = seen.filter((record) => record.event.key.startsWith('feed/page/'));
    expect(mine.map((record) => record.event.key)).toEqual(keys);
    expect(idsOf(mine).every((id) => id.startsWith('first'))).toBe(true);
    const positions = seen.map((record) => record.position);
    expect(positions).toEqual([...positions].sort());
  });

  it('reads across day partitions, the empty ones included, in position order', async () => {
    const key = 'feed/days';
    const { hash } = feedKeyOf(key);
    await driver.putEvents(commit(key, 1, 3, 'day')); // no feed: the entries are written by hand below
    const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) * 1000;
    const day = 86_400_000_000;
    const stamps = [midnight - 2 * day - 1, midnight - 2 * day, midnight + 1]; // the last µs of a day, the first of the next, today
    for (const [i, stamp] of stamps.entries()) {
      await feedTable().createEntity(indexEntity({ key, id: `day-${i + 1}` }, 1, feedPosition(stamp, hash, i + 1), sliceOf(key)));
    }
    const page = await readSlice(key, positionAtStamp(midnight - 3 * day));
    expect(page.records.map((record) => [record.event.id, record.position])).toEqual(stamps.map((stamp, i) => [`day-${i + 1}`, feedPosition(stamp, hash, i + 1)]));
    expect((await entriesOf(key)).map((entry) => entry.partitionKey.slice(4))).toEqual(
      [midnight - 2 * day - 1, midnight - 2 * day, midnight + 1].map((stamp) => new Date(stamp / 1000).toISOString().slice(0, 10).replaceAll('-', '')),
    );
  });

  it('keeps checkpoints conditional on their version, whatever their name and size', async () => {
    const name = `orders/#?\\\u0000%#0-1023`;
    expect(await feed().loadCheckpoint(name)).toBeUndefined();
    expect(await feed().saveCheckpoint(name, 'one', 1)).toBe(true);
    expect(await feed().saveCheckpoint(name, 'again', 1)).toBe(false);
    expect(await feed().saveCheckpoint(name, 'skipped', 3)).toBe(false);
    // Over a string property's 64 KiB: split across properties.
    const large = `${'x'.repeat(40_000)}😀${'é'.repeat(40_000)}`;
    expect(await feed().saveCheckpoint(name, large, 2)).toBe(true);
    // Not compared with toEqual: a failure would print 80,000 characters.
    const loaded = await feed().loadCheckpoint(name);
    expect([loaded?.name, loaded?.version, loaded?.value.length, loaded?.value === large]).toEqual([name, 2, large.length, true]);
    expect(await feed().saveCheckpoint(name, 'small', 3)).toBe(true);
    expect(await feed().loadCheckpoint(name)).toEqual({ name, value: 'small', version: 3 });
    // Two writers at one version: one wins.
    const race = await Promise.all([feed().saveCheckpoint(name, 'a', 4), feed().saveCheckpoint(name, 'b', 4)]);
    expect(race.filter(Boolean)).toHaveLength(1);
    // A name longer than a RowKey once escaped.
    const long = `${'n'.repeat(150)}${'\u0001'.repeat(150)}#0-1023`;
    expect(await feed().saveCheckpoint(long, 'long', 1)).toBe(true);
    const listed = await feed().listCheckpoints();
    expect(listed.map((row) => row.name)).toEqual([long, name].sort());
    expect(listed.find((row) => row.name === long)).toEqual({ name: long, value: 'long', version: 1 });
  });

  it("takes a feed client of the caller's, and finds the start of a feed table made without createAzureTablesTable", async () => {
    const name = `keyventhand${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const options = { allowInsecureConnection: true };
    const events = await createAzureTablesTable(backend.connection.connectionString, name, options, { feed: false });
    const index = createTableClient(backend.connection.connectionString, `${name}index`, options);
    await index.createTable();
    const handmade = createAzureTablesDriver({ client: events, feedClient: index });
    const own = createStore(handmade);
    await own.append('hand/1', { type: 'T', data: 1 }, { expectedVersion: 0 });
    expect(await index.getEntity('meta', 'start').catch(() => undefined)).toBeUndefined();
    const page = await handmade.feed!.read({ after: FEED_START, upTo: positionAtStamp(stampNow(1_000_000)), slices: [0, 1023], limit: 10 });
    expect(page.records.map((record) => [record.event.key, record.event.sequence])).toEqual([['hand/1', 1]]);
  });

  it('says a missing feed table is missing, naming how to make it, and sends no commit', async () => {
    const noFeed = createAzureTablesDriver({ client, feedTableName: 'keyventnosuchfeed' });
    const error = await createStore(noFeed).append('feed/missing', { type: 'T', data: 1 }, { expectedVersion: 0 }).catch((failure: unknown) => failure);
    expect(isDriverError(error) && error.message).toMatch(
      /table "keyventnosuchfeed" does not exist \(TableNotFound\); create it first with createAzureTablesTable\(connectionString, "keyvent\w+", clientOptions, \{ feedTableName: "keyventnosuchfeed" \}\), which makes the feed table too, or create the driver with feed: false/,
    );
    expect(await entitiesOf('feed/missing')).toEqual([]);
  });
});
