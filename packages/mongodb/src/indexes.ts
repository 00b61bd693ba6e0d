import type { Collection } from 'mongodb';
import type { CommitDocument } from './documents.js';

/**
 * Creates the collection's indexes (idempotent):
 * - `(k, s)` unique, multikey: no sequence of a stream is ever stored twice (on MongoDB);
 * - `(k, f)` unique: two commits never start at the same sequence (also where a server compares arrays whole);
 * - `(k, l)`: reading a stream from a sequence, and its last sequence;
 * - `(f, o)`: listing streams (their first commits) in code point order.
 *
 * @example
 * ```ts
 * await createMongoDbIndexes(client.db('app').collection('events'));
 * ```
 */
export async function createMongoDbIndexes(collection: Collection<CommitDocument>): Promise<void> {
  await collection.createIndexes([
    { key: { k: 1, s: 1 }, name: 'stream_sequences', unique: true },
    { key: { k: 1, f: 1 }, name: 'stream_first', unique: true },
    { key: { k: 1, l: 1 }, name: 'stream_last' },
    { key: { f: 1, o: 1 }, name: 'listing' },
  ]);
}
