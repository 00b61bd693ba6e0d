import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TableClient } from '@azure/data-tables';
import { createStore, type EventStore } from '@keyvent/core';
import { createAzureTablesDriver, decodeKey, encodeKey } from '@keyvent/azure-tables';
import { prefixUpperBound } from '../src/keys.js';
import type { RunningBackend } from '@keyvent/testing';
import { azureTablesForTests } from './backend.js';

let backend: RunningBackend<'azure-tables'>;
let client: TableClient;
let store: EventStore;
let requests = 0;

beforeAll(async () => {
  ({ backend, client } = await azureTablesForTests());
  client.pipeline.addPolicy({ name: 'countRequests', sendRequest: (request, next) => (requests++, next(request)) });
  store = createStore(createAzureTablesDriver({ client }));
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

const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe('azure-tables driver', () => {
  it('appends in one request, with or without the prior check', async () => {
    expect(await requestsFor(() => store.append('rt-1', { type: 'A', data: 1 }, { expectedVersion: 0 }))).toBe(1);
    expect(await requestsFor(() => store.append('rt-1', [{ type: 'A', data: 2 }, { type: 'A', data: 3 }], { expectedVersion: 1 }))).toBe(1);
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
    const data = { text: '😀é'.repeat(50_000) };
    await store.append('big-1', { type: 'Big', data }, { expectedVersion: 0 });
    const entity = (await rawEntities()).find((row) => row.partitionKey === 'big-1' && row.rowKey !== '~head')!;
    expect(entity.pn).toBeGreaterThan(4);
    for (let i = 0; i < (entity.pn as number); i++) expect((entity[`p${i}`] as string).length).toBeLessThanOrEqual(32_000);
    for await (const event of store.readStream('big-1')) expect(event.data).toEqual(data);
  });
});
