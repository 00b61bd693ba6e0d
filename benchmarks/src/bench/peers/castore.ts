import { CreateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventStore, EventType } from '@castore/core';
import { DynamoDBSingleTableEventStorageAdapter } from '@castore/event-storage-adapter-dynamodb';
import type { Ops } from '@keyvent/cli';

/**
 * Castore (`@castore/core` + `@castore/event-storage-adapter-dynamodb` 2.4.2) on the same DynamoDB, in a
 * table with the schema its single-table adapter expects. Castore has no prior-event check: a commit at a
 * version only refuses versions that exist. Several events go in one `pushEventGroup` (a transaction).
 * Castore lists aggregate ids per event store, not by prefix: the listed streams get an event store of their own.
 */
export async function castoreOps(client: DynamoDBClient, tableName: string): Promise<Ops> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'aggregateId', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
        { AttributeName: 'eventStoreId', AttributeType: 'S' },
        { AttributeName: 'timestamp', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'aggregateId', KeyType: 'HASH' }, { AttributeName: 'version', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [{
        IndexName: 'initialEvents',
        KeySchema: [{ AttributeName: 'eventStoreId', KeyType: 'HASH' }, { AttributeName: 'timestamp', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'ALL' },
      }],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  const adapter = new DynamoDBSingleTableEventStorageAdapter({ tableName, dynamoDBClient: client });
  const eventTypes = [new EventType({ type: 'Deposited' })];
  const reducer = (aggregate: unknown, event: { aggregateId: string; version: number }) => ({ aggregateId: event.aggregateId, version: event.version });
  const stores = new Map<string, EventStore>();
  const storeOf = (key: string) => {
    const id = key.includes(':listed:') ? `listed-${key.slice(0, key.indexOf(':listed:'))}` : 'main';
    let store = stores.get(id);
    if (!store) stores.set(id, (store = new EventStore({ eventStoreId: id, eventTypes, reducer, eventStorageAdapter: adapter } as never)));
    return store;
  };

  async function push(key: string, events: { type: string; data: unknown }[], base: number): Promise<boolean> {
    const store = storeOf(key);
    const details = events.map((event, i) => ({ aggregateId: key, version: base + i + 1, type: event.type, payload: event.data }));
    try {
      if (details.length === 1) await store.pushEvent(details[0] as never);
      else await (EventStore.pushEventGroup as (...grouped: unknown[]) => Promise<unknown>)(...details.map((detail) => store.groupEvent(detail as never)));
      return true;
    } catch (error) {
      const name = (error as Error).name;
      if (/AlreadyExists|TransactionCanceled|ConditionalCheckFailed/.test(name) || /already exists/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  return {
    appendNew: async (key, events) => void (await push(key, events, 0)),
    appendAt: (key, events, base) => push(key, events, base),
    head: async (key) => {
      const { events } = await storeOf(key).getEvents(key, { reverse: true, limit: 1 });
      return events[0]?.version ?? 0;
    },
    load: async (key) => (await storeOf(key).getEvents(key)).events.length,
    list: async (prefix) => {
      const store = storeOf(`${prefix.slice(0, prefix.indexOf(':listed:'))}:listed:x`);
      const ids: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.listAggregateIds(pageToken ? { pageToken } : {});
        ids.push(...page.aggregateIds.map((entry: { aggregateId: string }) => entry.aggregateId));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return ids;
    },
  };
}
