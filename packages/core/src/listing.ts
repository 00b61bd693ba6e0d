import type { ListKeysOptions } from './driver.js';
import { FEED_SLICES, feedKeyOf } from './feed-positions.js';
import { compareKeys } from './keys.js';

/**
 * A stream directory sharded by a hash of the key, for backends that return a partition's rows in key
 * order but the partitions themselves in hash order (DynamoDB, Cassandra, Azure Tables). One shard is
 * one partition; a listing page is an N-way merge of the shards' sorted runs, so it costs about one
 * request per shard and `limit` keys (plus a few per shard), however many streams the store holds.
 */

/** Where to start reading a shard: after `after` (exclusive) if set, else at the first key under `prefix`. */
export interface ShardRange {
  prefix: string;
  after?: string;
}

/**
 * Up to `limit` keys of one shard in code point order from `range`, and where to go on from: `next`, the
 * last key the read went past (listed or not), or undefined when the shard holds no more under the prefix.
 */
export type ShardReader = (shard: number, range: ShardRange, limit: number) => Promise<ShardPage>;

export interface ShardPage {
  keys: string[];
  next: string | undefined;
}

/**
 * The directory shard of a stream: its change-feed slice (the top 10 bits of the key's SHA-256) scaled
 * to `shards`, so a shard is a contiguous range of slices. `shards` divides 1,024.
 */
export function directoryShardOf(key: string, shards: number): number {
  return Math.floor((feedKeyOf(key).slice * shards) / FEED_SLICES);
}

/**
 * One listing page from a sharded directory: the first `limit` keys after `startAfter` under `prefix`
 * across every shard, in code point order. Each shard is first asked for its expected share of the
 * page and a margin; a shard whose run is used up before the page is full is asked again, as its next
 * key may still be the least.
 */
export async function listShardedKeys(shards: number, read: ShardReader, { prefix = '', startAfter, limit }: ListKeysOptions): Promise<string[]> {
  const after = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0 ? startAfter : undefined;
  if (after !== undefined && !after.startsWith(prefix)) return [];
  const share = Math.min(limit, Math.ceil((limit / shards) * 1.25) + 2);
  const runs = Array.from({ length: shards }, (_, shard) => ({ shard, keys: [] as string[], used: 0, after, more: true }));

  async function refill(run: (typeof runs)[number]): Promise<void> {
    const { keys, next } = await read(run.shard, run.after === undefined ? { prefix } : { prefix, after: run.after }, share);
    run.keys = keys;
    run.used = 0;
    run.more = next !== undefined;
    run.after = next;
  }

  const page: string[] = [];
  while (page.length < limit) {
    await Promise.all(runs.filter((run) => run.used === run.keys.length && run.more).map(refill));
    let least: (typeof runs)[number] | undefined;
    for (const run of runs) {
      if (run.used < run.keys.length && (!least || compareKeys(run.keys[run.used]!, least.keys[least.used]!) < 0)) least = run;
    }
    if (!least) {
      // A shard read may list none of what it went past (entries still pending): ask again from there.
      if (runs.some((run) => run.more)) continue;
      break;
    }
    page.push(least.keys[least.used++]!);
  }
  return page;
}

/** A directory entry as a shard read finds it: pending until a listing has seen its stream's first event. */
export interface DirectoryEntry {
  key: string;
  pending: boolean;
}

export interface ClaimedDirectoryOptions {
  shards: number;
  /** Up to `limit` entries of a shard from the range, in key order (a range may only approximate the prefix). */
  read(shard: number, range: ShardRange, limit: number): Promise<DirectoryEntry[]>;
  /** Writes a stream's entry, in its shard `directoryShardOf(key, shards)`. */
  write(key: string, pending: boolean): Promise<unknown>;
  /** Does the stream have its first event? */
  exists(key: string): Promise<boolean>;
}

/** Pending entries a shard read checks at once: with 64 shards read together, at most 512 checks in flight. */
const CHECK_CONCURRENCY = 8;

/**
 * A sharded stream directory on a backend whose commits cannot include it (Cassandra, Azure Tables): a
 * stream's first commit `claim`s its entry, pending, before it is sent, and once the stream is known to
 * exist the driver has it `confirmed` in the background (one more write, which the append does not wait
 * for; `settle` waits for those in flight, at close). Listing lists a pending entry only once it finds
 * the stream's first event, and then confirms it: a stream whose first commit failed is never listed,
 * and one whose first commit was acknowledged is listed at once (its entry was written before). Only an
 * entry whose confirmation was lost (a crash, a failed write) costs a listing a read and a write.
 */
export function createClaimedDirectory({ shards, read, write, exists }: ClaimedDirectoryOptions) {
  async function confirmIfExists(key: string): Promise<boolean> {
    if (!(await exists(key))) return false;
    await write(key, false);
    return true;
  }

  async function readShard(shard: number, range: ShardRange, limit: number): Promise<ShardPage> {
    const entries = await read(shard, range, limit);
    const keys: string[] = [];
    for (let i = 0; i < entries.length; i += CHECK_CONCURRENCY) {
      const chunk = entries.slice(i, i + CHECK_CONCURRENCY).filter(({ key }) => key.startsWith(range.prefix));
      const listed = await Promise.all(chunk.map(({ key, pending }) => (pending ? confirmIfExists(key) : true)));
      keys.push(...chunk.filter((_, j) => listed[j]).map(({ key }) => key));
    }
    return { keys, next: entries.length === limit ? entries[entries.length - 1]!.key : undefined };
  }

  const confirming = new Set<Promise<unknown>>();

  return {
    /** Before a stream's first commit: its entry, pending. */
    claim: (key: string) => write(key, true),
    /** Once the stream is known to have its first event: confirms its entry in the background (a lost confirmation is made good by listing). */
    confirmed(key: string): void {
      const confirmation: Promise<unknown> = write(key, false)
        .catch(() => undefined)
        .finally(() => confirming.delete(confirmation));
      confirming.add(confirmation);
    },
    /** Waits for the confirmations in flight. */
    async settle(): Promise<void> {
      while (confirming.size > 0) await Promise.all(confirming);
    },
    listKeys: (options: ListKeysOptions) => listShardedKeys(shards, readShard, options),
  };
}
