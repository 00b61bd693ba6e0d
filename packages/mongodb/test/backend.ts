import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createMongoDbIndexes, type CommitDocument } from '@keyvent/mongodb';
import { startBackend, type RunningBackend } from '@keyvent/testing';

/** Starts (or finds) a real MongoDB-protocol server and makes a fresh database with the indexes on it. */
export async function mongoDbForTests(): Promise<{ backend: RunningBackend<'mongodb'>; client: MongoClient; database: string }> {
  const backend = await startBackend('mongodb');
  console.info(`mongodb backend: ${backend.description} (${backend.source}), ready in ${backend.startMs} ms`);
  try {
    const client = new MongoClient(backend.connection.uri);
    const database = `keyvent_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await createMongoDbIndexes(client.db(database).collection<CommitDocument>('events'));
    return { backend, client, database };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}
