import { randomUUID } from 'node:crypto';
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { compareKeys, createStore } from '@keyvent/core';
import { createAzureTablesDriver, createAzureTablesTable, directoryEntity } from '@keyvent/azure-tables';
import type { RunningBackend } from '@keyvent/testing';
import { envelopes, type BenchTarget, type Ops } from '@keyvent/cli';

const row = (sequence: number) => String(sequence).padStart(16, '0');

/** The raw client writes the driver's layout for the benchmark's keys, which need no escaping. */
export async function azureTablesTarget(server: RunningBackend<'azure-tables'>): Promise<BenchTarget> {
  const table = `bench${randomUUID().replaceAll('-', '')}`;
  const client = await createAzureTablesTable(server.connection.connectionString, table, { allowInsecureConnection: true });
  let requests = 0;
  client.pipeline.addPolicy({ name: 'countRequests', sendRequest: (request, next) => (requests++, next(request)) });
  const store = createStore(createAzureTablesDriver({ client, feed: false }));

  async function put(key: string, events: Parameters<Ops['appendNew']>[1], base: number): Promise<boolean> {
    const actions: TransactionAction[] = envelopes(events, base).map((event) => [
      'create',
      { partitionKey: key, rowKey: row(event.sequence), pn: 1, p0: JSON.stringify([event.type, event.id, event.timestamp, event.data]) },
    ]);
    if (base > 0) actions.push(['update', { partitionKey: key, rowKey: row(base) }, 'Merge', { etag: '*' }]);
    actions.push(['upsert', { partitionKey: key, rowKey: '~head', last: String(base + events.length) }, 'Replace']);
    // A new stream's directory entry, pending, before its first commit; confirmed once stored, in the background, as the driver does.
    if (base === 0) await client.upsertEntity(directoryEntity(key, true), 'Replace');
    try {
      await client.submitTransaction(actions);
      if (base === 0) void client.upsertEntity(directoryEntity(key, false), 'Replace').catch(() => undefined);
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 404) return false;
      throw error;
    }
  }

  const raw: Ops = {
    appendNew: async (key, events) => void (await put(key, events, 0)),
    appendAt: (key, events, base) => put(key, events, base),
    head: async (key) => {
      try {
        return Number((await client.getEntity<{ last: string }>(key, '~head')).last);
      } catch {
        return 0;
      }
    },
    load: async (key) => {
      let count = 0;
      const filter = odata`PartitionKey eq ${key} and RowKey lt ${'~head'}`;
      for await (const page of client.listEntities<TableEntity<{ p0: string }>>({ queryOptions: { filter } }).byPage({ maxPageSize: 1000 })) {
        for (const entity of page) if (JSON.parse(entity.p0) !== undefined) count++;
      }
      return count;
    },
    list: (prefix) => scanHeads(prefix),
    listPage: async (prefix, startAfter, limit) => (await scanHeads(prefix, startAfter)).slice(0, limit),
  };

  /** Layout 1's listing: the head of every stream under the prefix, sorted here. */
  async function scanHeads(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    const filter = odata`RowKey eq ${'~head'} and PartitionKey ge ${prefix} and PartitionKey lt ${`${prefix}\uffff`}`;
    for await (const page of client.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } }).byPage({ maxPageSize: 1000 })) {
      for (const entity of page) if (startAfter === undefined || compareKeys(entity.partitionKey!, startAfter) > 0) keys.push(entity.partitionKey!);
    }
    return keys.sort(compareKeys);
  }
  return { backend: 'azure-tables', description: server.description, store, raw, requests: () => requests,
    rawListing: { how: 'every stream head under the prefix, sorted client-side (what layout 1 did)', scans: true },
    feedDrivers: () => ({ on: createAzureTablesDriver({ client }), off: createAzureTablesDriver({ client, feed: false }) }),
    close: () => store.close() };
}
