import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startBackend, type RunningBackend } from '@keyvent/testing';
import { createDynamoDbTable } from '@keyvent/dynamodb';

/** Starts (or finds) a real DynamoDB and makes a fresh table on it. */
export async function dynamoDbForTests(): Promise<{ backend: RunningBackend<'dynamodb'>; client: DynamoDBClient; tableName: string }> {
  const backend = await startBackend('dynamodb');
  console.info(`dynamodb backend: ${backend.description} (${backend.source}), ready in ${backend.startMs} ms`);
  try {
    const client = new DynamoDBClient(backend.connection);
    const tableName = `keyvent-${randomUUID()}`;
    await createDynamoDbTable(client, tableName);
    return { backend, client, tableName };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}
