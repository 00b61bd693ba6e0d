import { CreateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { attributes, LISTING_INDEX } from './items.js';

/**
 * Creates the table the driver needs (on-demand billing), if it does not exist, and waits until it is
 * active: partition key `pk` (stream key), sort key `sk` (sequence), and the sparse index `streams`
 * (`ls`, `pk`) over each stream's first event, for listing.
 *
 * @example
 * ```ts
 * await createDynamoDbTable(new DynamoDBClient({}), 'events');
 * ```
 */
export async function createDynamoDbTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: attributes.key, AttributeType: 'S' },
          { AttributeName: attributes.sequence, AttributeType: 'N' },
          { AttributeName: attributes.listed, AttributeType: 'S' },
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
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
}
