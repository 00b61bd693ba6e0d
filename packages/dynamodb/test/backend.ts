import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startPreparedBackend } from '@keyvent/testing';
import { createDynamoDbTable } from '@keyvent/dynamodb';

/** Starts (or finds) a real DynamoDB and makes a fresh table on it. */
export function dynamoDbForTests() {
  return startPreparedBackend('dynamodb', async ({ connection }) => {
    const client = new DynamoDBClient(connection);
    const tableName = `keyvent-${randomUUID()}`;
    await createDynamoDbTable(client, tableName);
    return { client, tableName };
  });
}
