import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createMongoDbIndexes, type CommitDocument } from '@keyvent/mongodb';
import { startPreparedBackend } from '@keyvent/testing';

/** Starts (or finds) a real MongoDB-protocol server and makes a fresh database with the indexes on it. */
export function mongoDbForTests() {
  return startPreparedBackend('mongodb', async ({ connection }) => {
    const client = new MongoClient(connection.uri);
    const database = `keyvent_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await createMongoDbIndexes(client.db(database).collection<CommitDocument>('events'));
    return { client, database };
  });
}
