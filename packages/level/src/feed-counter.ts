import type { ClassicLevel } from 'classic-level';
import { positionAtStamp, stampOf } from '@keyvent/core';

/** The change feed's commit counter of one database object, and the commits whose batches are still being written. */
export interface FeedCounter {
  /** Takes the next number for a commit about to be written; call `landed` once its batch settled. */
  next(): number;
  landed(stamp: number): void;
  /** The highest position below which every numbered commit has landed or failed. */
  settledPosition(): string;
}

// Shared like the stream locks (keyed-lock.ts): one counter per database object in this process.
const registryKey = Symbol.for('@keyvent/level.feedCounters.v1');

/**
 * The counter of `db`, resumed after the last feed key (`x…`) on first use. A batch that failed leaves
 * a hole in the numbers, which is harmless: readers only need them to grow.
 */
export function feedCounterOf(db: ClassicLevel<string, string>): Promise<FeedCounter> {
  const global = globalThis as { [registryKey]?: WeakMap<object, Promise<FeedCounter>> };
  const registry = (global[registryKey] ??= new WeakMap());
  let counter = registry.get(db);
  if (!counter) {
    counter = load(db);
    registry.set(db, counter);
    counter.catch(() => registry.delete(db));
  }
  return counter;
}

async function load(db: ClassicLevel<string, string>): Promise<FeedCounter> {
  const [lastKey] = await db.keys({ gte: 'x', lt: 'y', reverse: true, limit: 1 }).all();
  let last = lastKey === undefined ? 0 : stampOf(lastKey.slice(1));
  const inFlight = new Set<number>();
  return {
    next: () => {
      inFlight.add(++last);
      return last;
    },
    landed: (stamp) => void inFlight.delete(stamp),
    settledPosition: () => positionAtStamp(inFlight.size === 0 ? last : Math.min(...inFlight) - 1),
  };
}
