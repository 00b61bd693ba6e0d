import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createStore } from '@keyvent/core';
import { createMongoDbDriver, createMongoDbIndexes, type CommitDocument } from '@keyvent/mongodb';
import type { RunningBackend } from '@keyvent/testing';
import { envelopes, type BenchTarget, type Ops } from '@keyvent/cli';
import { emmettOps } from '../peers/emmett.js';

export async function mongoDbTarget(server: RunningBackend<'mongodb'>): Promise<BenchTarget> {
  const client = new MongoClient(server.connection.uri, { monitorCommands: true });
  let requests = 0;
  client.on('commandStarted', () => requests++);
  const database = `bench_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const commits = client.db(database).collection<CommitDocument>('events');
  await createMongoDbIndexes(commits);
  const store = createStore(createMongoDbDriver({ client, database, feed: false }));

  async function put(key: string, events: Parameters<Ops['appendNew']>[1], base: number): Promise<boolean> {
    if (base > 0 && (await commits.findOne({ k: key, l: base }, { projection: { _id: 1 } })) === null) return false;
    const stored = envelopes(events, base);
    const commit: CommitDocument = {
      k: key, f: base + 1, l: base + events.length, s: stored.map((event) => event.sequence), ts: stored[0]!.timestamp,
      e: stored.map((event) => ({ t: event.type, d: JSON.stringify(event.data), i: event.id })),
    };
    if (base === 0) commit.o = Buffer.from(key).toString('hex');
    try {
      await commits.insertOne(commit);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  const raw: Ops = {
    appendNew: async (key, events) => void (await put(key, events, 0)),
    appendAt: (key, events, base) => put(key, events, base),
    head: async (key) => (await commits.findOne({ k: key }, { sort: { l: -1 }, projection: { l: 1 } }))?.l ?? 0,
    load: async (key) => {
      let count = 0;
      for await (const commit of commits.find({ k: key }).sort({ l: 1 }).batchSize(1000)) {
        for (const event of commit.e) if (JSON.parse(event.d) !== undefined) count++;
      }
      return count;
    },
    list: async (prefix) => {
      const low = Buffer.from(prefix).toString('hex');
      const cursor = commits.find({ f: 1, o: { $gte: low, $lt: `${low}g` } }, { projection: { k: 1 } }).sort({ o: 1 }).batchSize(1000);
      return (await cursor.toArray()).map((commit) => commit.k);
    },
    listPage: async (prefix, startAfter, limit) => {
      const low = Buffer.from(prefix).toString('hex');
      const from = startAfter === undefined ? { $gte: low } : { $gt: Buffer.from(startAfter).toString('hex') };
      const found = await commits.find({ f: 1, o: { ...from, $lt: `${low}g` } }, { projection: { k: 1 } }).sort({ o: 1 }).limit(limit).toArray();
      return found.map((commit) => commit.k);
    },
  };
  const peers = [{ name: 'Emmett 0.42.4', ops: emmettOps(client, `${database}_emmett`) }];
  return { backend: 'mongodb', description: server.description, store, raw, peers, requests: () => requests,
    rawListing: { how: 'a find on the listing index with a limit (what the driver does)', scans: false },
    feedDrivers: () => ({ on: createMongoDbDriver({ client, database }), off: createMongoDbDriver({ client, database, feed: false }) }),
    close: async () => (await store.close(), await client.close()) };
}
