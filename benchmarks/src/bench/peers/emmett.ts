import { getMongoDBEventStore } from '@event-driven-io/emmett-mongodb';
import type { MongoClient } from 'mongodb';
import type { Ops } from '@keyvent/cli';

/**
 * Emmett (`@event-driven-io/emmett-mongodb` 0.42.4) on the same MongoDB-protocol server: one document
 * per stream, events pushed onto its array with the version checked in the update's filter. It has no
 * stream listing, so the listing workload is not run for it. Two writers creating the same stream at once
 * get MongoDB's duplicate-key error from it rather than a version conflict; the benchmark counts it as one.
 */
export function emmettOps(client: MongoClient, database: string): Ops {
  const store = getMongoDBEventStore({ client, storage: { type: 'SINGLE_COLLECTION', databaseName: database } } as never);
  const name = (key: string) => `bench-${key}`;
  // Two first appends racing to create a stream surface as MongoDB's duplicate-key error, not as a version conflict.
  const conflict = (error: unknown) => {
    if ((error as { errorCode?: number }).errorCode === 412 || (error as { code?: number }).code === 11000) return false;
    throw error;
  };
  const append = (key: string, events: { type: string; data: unknown }[], base: number) =>
    store
      .appendToStream(name(key), events as never, { expectedStreamVersion: base === 0 ? 'STREAM_DOES_NOT_EXIST' : BigInt(base) })
      .then(() => true, conflict);
  return {
    appendNew: async (key, events) => void (await append(key, events, 0)),
    appendAt: append,
    head: async (key) => Number((await store.readStream(name(key))).currentStreamVersion),
    load: async (key) => (await store.readStream(name(key))).events.length,
  };
}
