import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StoreLayoutError } from '@keyvent/core';
import { attributes, defaultCheckpointTable, FEED_INDEX, LAYOUT_VERSION, layoutItemKey, LISTING_INDEX } from './items.js';

/**
 * Creates the table the driver needs (on-demand billing), if it does not exist, and waits until it is
 * active: partition key `pk` (stream key), sort key `sk` (sequence), the sparse index `streams`
 * (`ls`, `pk`) over each stream's first event, for listing, and the change feed's index `feed` (`fp`, `fx`);
 * and the consumers' checkpoint table (default `<tableName>-feed`). On a table made before the feed, it
 * adds the `feed` index.
 *
 * @example
 * ```ts
 * await createDynamoDbTable(new DynamoDBClient({}), 'events');
 * ```
 */
export async function createDynamoDbTable(client: DynamoDBClient, tableName: string, checkpointTableName = defaultCheckpointTable(tableName)): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: attributes.key, AttributeType: 'S' },
          { AttributeName: attributes.sequence, AttributeType: 'N' },
          { AttributeName: attributes.listed, AttributeType: 'S' },
          ...FEED_ATTRIBUTES,
        ],
        KeySchema: [
          { AttributeName: attributes.key, KeyType: 'HASH' },
          { AttributeName: attributes.sequence, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: LISTING_INDEX,
            KeySchema: [
              { AttributeName: attributes.listed, KeyType: 'HASH' },
              { AttributeName: attributes.key, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          FEED_GSI,
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
  await addFeedIndex(client, tableName);
  await createCheckpointTable(client, checkpointTableName);
  await markLayout(client, tableName);
}

/** Writes the layout version into a new table; refuses a table that holds another. */
async function markLayout(client: DynamoDBClient, tableName: string) {
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...layoutItemKey(), lv: { S: LAYOUT_VERSION } },
        ConditionExpression: `attribute_not_exists(${attributes.key})`,
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const found = await readLayout(client, tableName);
    if (found !== LAYOUT_VERSION) throw new StoreLayoutError('dynamodb', found, LAYOUT_VERSION, tableName);
  }
}

/** The table's layout version, if it has one. */
export async function readLayout(client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<string | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: layoutItemKey(), ConsistentRead: true }));
  return Item?.lv?.S;
}

const FEED_ATTRIBUTES = [
  { AttributeName: attributes.feedPartition, AttributeType: 'N' as const },
  { AttributeName: attributes.position, AttributeType: 'S' as const },
];

/** The change feed's index: every event item by (feed partition, position), whole (ALL), so a feed page is one query per partition. */
const FEED_GSI = {
  IndexName: FEED_INDEX,
  KeySchema: [
    { AttributeName: attributes.feedPartition, KeyType: 'HASH' as const },
    { AttributeName: attributes.position, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
};

/** A table made before the feed existed gets its index (events written before it have no position and stay out of it). */
async function addFeedIndex(client: DynamoDBClient, tableName: string) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === FEED_INDEX)) return;
  await client.send(
    new UpdateTableCommand({ TableName: tableName, AttributeDefinitions: FEED_ATTRIBUTES, GlobalSecondaryIndexUpdates: [{ Create: FEED_GSI }] }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 600 }, { TableName: tableName });
}

/** The consumers' checkpoint rows: partition key `n` (the row's name). */
async function createCheckpointTable(client: DynamoDBClient, tableName: string) {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'n', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'n', KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
}
