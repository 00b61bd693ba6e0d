import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { createMemoryDriver, createStore } from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';
import { envelopes, type BenchTarget, type Ops } from '@keyvent/cli';

export function memoryTarget(): BenchTarget {
  const store = createStore(createMemoryDriver({ feed: false }));
  return {
    backend: 'memory',
    description: 'in memory (no backend client to compare with)',
    store,
    feedDrivers: () => ({ on: createMemoryDriver(), off: createMemoryDriver({ feed: false }) }),
    close: () => store.close(),
  };
}

/** LevelDB: keyvent's driver in one directory, classic-level used directly (same layout) in another. */
export async function levelTarget(): Promise<BenchTarget> {
  const directory = await mkdtemp(join(tmpdir(), 'keyvent-bench-'));
  const store = createStore(createLevelDriver({ location: join(directory, 'keyvent'), feed: false }));
  let feedRuns = 0;
  const db = new ClassicLevel<string, string>(join(directory, 'raw'));
  const prefix = (key: string) => `e${key.length.toString(16).padStart(4, '0')}${key}`;
  const eventKey = (key: string, sequence: number) => prefix(key) + sequence.toString(16).padStart(14, '0');
  // One commit per stream at a time, as the driver does (LevelDB has no conditional write). A stream's
  // entry goes once its last commit has settled, as in the driver: kept, they grew with every stream written.
  const locks = new Map<string, Promise<void>>();
  const exclusive = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key);
    const run = previous ? previous.then(work, work) : work();
    const release = () => {
      if (locks.get(key) === tail) locks.delete(key);
    };
    const tail = run.then(release, release);
    locks.set(key, tail);
    return run;
  };

  const put = (key: string, events: Parameters<Ops['appendNew']>[1], base: number) =>
    exclusive(key, async () => {
      // The head is written in the same batch as the events, so it alone says whether the version holds.
      if (Number((await db.get(`s${key}`)) ?? 0) !== base) return false;
      const batch = db.batch();
      for (const { sequence, ...rest } of envelopes(events, base)) batch.put(eventKey(key, sequence), JSON.stringify(rest));
      batch.put(`s${key}`, String(base + events.length));
      await batch.write();
      return true;
    });

  const raw: Ops = {
    appendNew: async (key, events) => void (await put(key, events, 0)),
    appendAt: (key, events, base) => put(key, events, base),
    head: async (key) => Number((await db.get(`s${key}`)) ?? 0),
    load: async (key) => {
      let count = 0;
      for await (const value of db.values({ gt: prefix(key), lt: `${prefix(key)}g` })) if (JSON.parse(value) !== undefined) count++;
      return count;
    },
    list: async (keyPrefix) => {
      const keys: string[] = [];
      for await (const key of db.keys({ gte: `s${keyPrefix}`, lt: 't' })) {
        if (!key.startsWith(`s${keyPrefix}`)) break;
        keys.push(key.slice(1));
      }
      return keys;
    },
    listPage: async (keyPrefix, startAfter, limit) => {
      const keys: string[] = [];
      const range = startAfter === undefined ? { gte: `s${keyPrefix}` } : { gt: `s${startAfter}` };
      for await (const key of db.keys({ ...range, lt: 't', limit })) {
        if (!key.startsWith(`s${keyPrefix}`)) break;
        keys.push(key.slice(1));
      }
      return keys;
    },
  };
  return {
    backend: 'level',
    description: `LevelDB (classic-level 3) in ${directory}`,
    rawListing: { how: 'an iterator over the head keys with a limit (what the driver does)', scans: false },
    store,
    raw,
    rawSeparate: true,
    // One process per directory: each pair of drivers gets two fresh ones.
    feedDrivers: () => (feedRuns++, { on: createLevelDriver({ location: join(directory, `feed-on-${feedRuns}`) }), off: createLevelDriver({ location: join(directory, `feed-off-${feedRuns}`), feed: false }) }),
    close: async () => (await store.close(), await db.close(), await rm(directory, { recursive: true, force: true })),
  };
}
