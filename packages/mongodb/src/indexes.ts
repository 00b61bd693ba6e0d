import type { Collection, IndexDescription } from 'mongodb';
import { DriverError, StoreLayoutError } from '@keyvent/core';
import type { CommitDocument } from './documents.js';

const NAMESPACE_NOT_FOUND = 26;

const INDEXES: IndexDescription[] = [
  { key: { k: 1, s: 1 }, name: 'stream_sequences', unique: true },
  { key: { k: 1, f: 1 }, name: 'stream_first', unique: true },
  { key: { k: 1, l: 1 }, name: 'stream_last' },
  { key: { f: 1, o: 1 }, name: 'listing' },
  { key: { fx: 1, sl: 1 }, name: 'feed' },
];

const sameIndex = (wanted: IndexDescription, existing: { key?: unknown; unique?: boolean }): boolean =>
  JSON.stringify(existing.key) === JSON.stringify(wanted.key) && Boolean(existing.unique) === Boolean(wanted.unique);

/**
 * Creates the collection's indexes (idempotent):
 * - `(k, s)` unique, multikey: no sequence of a stream is ever stored twice (on MongoDB);
 * - `(k, f)` unique: two commits never start at the same sequence (also where a server compares arrays whole);
 * - `(k, l)`: reading a stream from a sequence, and its last sequence;
 * - `(f, o)`: listing streams (their first commits) in code point order;
 * - `(fx, sl)`: the change feed, commits in position order with their slices on the index keys.
 *
 * @example
 * ```ts
 * await createMongoDbIndexes(client.db('app').collection('events'));
 * ```
 */
export async function createMongoDbIndexes(collection: Collection<CommitDocument>): Promise<void> {
  // Asks only for the indexes that are not there yet: FerretDB 1.x fails a createIndexes naming several
  // existing indexes (its handler deletes them from the request by their original position and goes out
  // of range), and MongoDB needs no more.
  const existing = await collection.listIndexes().toArray().catch((error: { code?: number }) => {
    if (error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  });
  for (const index of existing) {
    const wanted = INDEXES.find(({ name }) => name === index.name);
    if (wanted && !sameIndex(wanted, index)) {
      throw new DriverError(
        'mongodb',
        `${collection.collectionName} has an index named ${index.name} of another definition (${JSON.stringify(index.key)}${index.unique ? ', unique' : ''}); ` +
          `keyvent needs ${JSON.stringify(wanted.key)}${wanted.unique ? ', unique' : ''}: drop it or use another collection`,
      );
    }
  }
  const missing = INDEXES.filter(({ name }) => !existing.some((index) => index.name === name));
  if (missing.length > 0) await collection.createIndexes(missing);
  await markLayout(collection);
}

/**
 * The storage layout this version reads and writes, kept in the collection's document `keyvent:layout`
 * (it has no stream key, so no stream query meets it): 2 is the first to be marked.
 */
export const LAYOUT_VERSION = '2';
const LAYOUT_ID = 'keyvent:layout';
const DUPLICATE_KEY = 11000;

const layoutDocuments = (collection: Collection<CommitDocument>) => collection.db.collection<{ _id: string; v: string }>(collection.collectionName);

/** The collection's layout version, if it has one. */
export async function readLayout(collection: Collection<CommitDocument>): Promise<string | undefined> {
  return (await layoutDocuments(collection).findOne({ _id: LAYOUT_ID }))?.v;
}

/** Writes the layout version into a new collection; refuses one that holds another. */
async function markLayout(collection: Collection<CommitDocument>): Promise<void> {
  let found = await readLayout(collection);
  if (found === undefined) {
    try {
      await layoutDocuments(collection).insertOne({ _id: LAYOUT_ID, v: LAYOUT_VERSION });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      found = await readLayout(collection);
    }
  }
  if (found !== LAYOUT_VERSION) throw new StoreLayoutError('mongodb', found, LAYOUT_VERSION, collection.collectionName);
}
