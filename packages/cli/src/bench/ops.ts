import type { KeyValueDriver } from '@keyvent/core';
import { randomUUID } from 'node:crypto';
import { allStreams } from '../copy.js';
import { isConcurrencyError, type EventStore, type JsonValue } from '@keyvent/core';

export interface BenchEvent {
  type: string;
  data: JsonValue;
}

/** The operations every workload is made of, done by keyvent or by the raw client with the same items. */
export interface Ops {
  /** The first commit of a new stream. */
  appendNew(key: string, events: BenchEvent[]): Promise<void>;
  /** A commit at the caller's version (prior event checked); false when another writer got there first. */
  appendAt(key: string, events: BenchEvent[], base: number): Promise<boolean>;
  /** The stream's version. */
  head(key: string): Promise<number>;
  /** Reads the whole stream, decoding every event; returns how many there were. */
  load(key: string): Promise<number>;
  /** Every key under the prefix, in order (absent where a library cannot list streams). */
  list?(prefix: string): Promise<string[]>;
  /** One listing page: up to `limit` keys under the prefix after `startAfter`, in order. */
  listPage?(prefix: string, startAfter: string | undefined, limit: number): Promise<string[]>;
}

/** A backend ready for the benchmark: keyvent's store on it, the raw client's ops, and a request counter. */
export interface BenchTarget {
  backend: string;
  description: string;
  store: EventStore;
  /** What the raw client does, where there is a backend client to compare with. */
  raw?: Ops;
  /** How the raw client lists (its `listPage`), for the listing section; `scans` when every page reads the whole prefix. */
  rawListing?: { how: string; scans: boolean };
  /** The raw client keeps its own data (so read workloads are seeded for each side). */
  rawSeparate?: boolean;
  /** Other event-store libraries on the same backend, each with its own data layout. */
  peers?: { name: string; ops: Ops }[];
  /** Requests sent to the server so far (undefined for embedded stores). */
  requests?: () => number;
  /** Two drivers on the same backend for the change feed's workloads: one keeping the feed, one with `feed: false`. */
  feedDrivers?: () => { on: KeyValueDriver; off: KeyValueDriver };
  close(): Promise<void>;
}

export function keyventOps(store: EventStore): Ops {
  return {
    appendNew: async (key, events) => void (await store.append(key, events, { expectedVersion: 'no_stream' })),
    appendAt: (key, events, base) =>
      store.append(key, events, { expectedVersion: base }).then(
        () => true,
        (error: unknown) => {
          if (isConcurrencyError(error)) return false;
          throw error;
        },
      ),
    head: (key) => store.streamVersion(key),
    load: async (key) => {
      let count = 0;
      for await (const event of store.readStream(key)) if (event.sequence > 0) count++;
      return count;
    },
    list: (prefix) => allStreams(store, prefix),
    listPage: (prefix, startAfter, limit) => store.listStreams({ prefix, startAfter, limit }),
  };
}

/** The envelope the raw client writes for each event: what keyvent adds (an id and a timestamp). */
export function envelopes(events: BenchEvent[], base: number) {
  const timestamp = new Date().toISOString();
  return events.map((event, i) => ({ ...event, sequence: base + i + 1, id: randomUUID(), timestamp }));
}
