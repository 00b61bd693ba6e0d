import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, QueryCommand, TransactWriteItemsCommand, type AttributeValue, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { compareKeys, createStore, listShardedKeys } from '@keyvent/core';
import { createDynamoDbDriver, createDynamoDbTable, LISTING_SHARDS, listingShard, listingShardOf } from '@keyvent/dynamodb';
import type { RunningBackend } from '@keyvent/testing';
import { envelopes, type BenchTarget, type Ops } from '@keyvent/cli';
import { castoreOps } from '../peers/castore.js';

const NOT_EXISTS = 'attribute_not_exists(pk)';

export async function dynamoDbTarget(server: RunningBackend<'dynamodb'>): Promise<BenchTarget> {
  const client = new DynamoDBClient(server.connection);
  let requests = 0;
  client.middlewareStack.add((next) => (args) => (requests++, next(args)), { step: 'finalizeRequest', name: 'countRequests' });
  const table = `bench-${randomUUID()}`;
  await createDynamoDbTable(client, table);
  const store = createStore(createDynamoDbDriver({ client, tableName: table, feed: false }));

  const item = (key: string, event: ReturnType<typeof envelopes>[number]): Record<string, AttributeValue> => {
    const attributes: Record<string, AttributeValue> = {
      pk: { S: key }, sk: { N: String(event.sequence) }, ty: { S: event.type }, da: { S: JSON.stringify(event.data) },
      id: { S: event.id }, ts: { S: event.timestamp },
    };
    if (event.sequence === 1) attributes['ls'] = listingShardOf(key);
    return attributes;
  };
  const conflict = (error: unknown) => {
    const name = (error as Error).name;
    if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') return false;
    throw error;
  };
  async function put(key: string, events: Parameters<Ops['appendNew']>[1], base: number): Promise<boolean> {
    const items = envelopes(events, base).map((event) => item(key, event));
    if (items.length === 1 && base === 0) {
      return client.send(new PutItemCommand({ TableName: table, Item: items[0], ConditionExpression: NOT_EXISTS })).then(() => true, conflict);
    }
    const actions: TransactWriteItem[] = items.map((Item) => ({ Put: { TableName: table, Item, ConditionExpression: NOT_EXISTS } }));
    if (base > 0) actions.push({ ConditionCheck: { TableName: table, Key: { pk: { S: key }, sk: { N: String(base) } }, ConditionExpression: 'attribute_exists(pk)' } });
    return client.send(new TransactWriteItemsCommand({ TransactItems: actions })).then(() => true, conflict);
  }

  const raw: Ops = {
    appendNew: async (key, events) => void (await put(key, events, 0)),
    appendAt: (key, events, base) => put(key, events, base),
    head: async (key) => {
      const page = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :k', ExpressionAttributeValues: { ':k': { S: key } }, ScanIndexForward: false, Limit: 1, ProjectionExpression: 'sk' }));
      return Number(page.Items?.[0]?.['sk']?.N ?? 0);
    },
    load: async (key) => {
      let count = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :k', ExpressionAttributeValues: { ':k': { S: key } }, ExclusiveStartKey: start, Limit: 1000 }));
        for (const entry of page.Items ?? []) if (JSON.parse(entry['da']!.S!) !== undefined) count++;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    },
    list: async (prefix) => {
      const keys: string[] = [];
      for (let shard = 0; shard < LISTING_SHARDS; shard++) keys.push(...(await listShard(shard, prefix, undefined, Infinity)));
      return keys.sort(compareKeys);
    },
    listPage: (prefix, startAfter, limit) =>
      listShardedKeys(LISTING_SHARDS, async (shard, range, count) => {
        const keys = await listShard(shard, prefix, range.after, count);
        return { keys, next: keys.length === count ? keys[keys.length - 1] : undefined };
      }, { prefix, startAfter, limit }),
  };

  /** Up to `limit` keys of one listing shard under the prefix, after `after`. */
  async function listShard(shard: number, prefix: string, after: string | undefined, limit: number): Promise<string[]> {
    const keys: string[] = [];
    let start: Record<string, AttributeValue> | undefined = after === undefined ? undefined : { ls: listingShard(shard), pk: { S: after }, sk: { N: '1' } };
    do {
      const page = await client.send(new QueryCommand({
        TableName: table, IndexName: 'streams', KeyConditionExpression: 'ls = :l AND begins_with(pk, :p)',
        ExpressionAttributeValues: { ':l': listingShard(shard), ':p': { S: prefix } }, ProjectionExpression: 'pk', ExclusiveStartKey: start,
        Limit: Number.isFinite(limit) ? limit - keys.length : undefined,
      }));
      for (const entry of page.Items ?? []) keys.push(entry['pk']!.S!);
      start = page.LastEvaluatedKey;
    } while (start && keys.length < limit);
    return keys;
  }
  const peers = [{ name: 'Castore 2.4.2', ops: await castoreOps(client, `castore-${randomUUID()}`) }];
  return {
    backend: 'dynamodb', description: server.description, store, raw, peers, requests: () => requests,
    rawListing: { how: 'a query per listing shard, merged (what the driver does)', scans: false },
    feedDrivers: () => ({ on: createDynamoDbDriver({ client, tableName: table }), off: createDynamoDbDriver({ client, tableName: table, feed: false }) }),
    close: async () => (await store.close(), client.destroy()),
  };
}
