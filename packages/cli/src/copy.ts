import { createHash } from 'node:crypto';
import type { EventStore, StoredEvent } from '@keyvent/core';
import { forEachConcurrently } from './concurrently.js';
import { CommandError } from './errors.js';

export interface CopyOptions {
  /** Only streams whose keys start with this. */
  prefix?: string;
  /** Streams copied at once. Default 8. */
  concurrency?: number;
  /** Events read from the source per page (and imported per call). Default 1,000. */
  pageSize?: number;
  /** Called once the work is known (`total` events, `done` already in the target), then after each imported page. */
  onProgress?: (progress: { total: number; done: number; streams: number }) => void;
}

export interface CopyReport {
  streams: number;
  /** Events in the copied streams of the source. */
  events: number;
  /** Events the target already had (a resumed copy), not copied again. */
  alreadyThere: number;
  copied: number;
}

export interface VerifyReport {
  streams: number;
  events: number;
  /** Streams whose event count or checksum differs, with both sides' figures. */
  mismatches: string[];
}

/** A copy that cannot go on (the target holds events the source does not), or whose verification failed. */
export class CopyError extends CommandError {
  override name = 'CopyError';
}

/** Every key of the store under `prefix`, in order, paging through `listStreams`. */
export async function allStreams(store: EventStore, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for (let page: string[] = []; ; ) {
    const startAfter = page.at(-1);
    page = await store.listStreams({ prefix, startAfter, limit: 10_000 });
    keys.push(...page);
    if (page.length < 10_000) return keys;
  }
}

async function eventAt(store: EventStore, key: string, sequence: number): Promise<StoredEvent | undefined> {
  for await (const event of store.readStream(key, { from: sequence, to: sequence })) return event;
  return undefined;
}

/**
 * Copies every stream (under a prefix) from one store into another with each event's sequence, id,
 * timestamp and metadata. Resumable: a stream the target already holds part of continues after the
 * target's head, once the event at that head is found to be the same event (same id) in the source.
 * @throws CopyError when a target stream has events the source does not.
 */
export async function copyStore(from: EventStore, to: EventStore, options: CopyOptions = {}): Promise<CopyReport> {
  const { concurrency = 8, pageSize = 1000, onProgress } = options;
  const keys = await allStreams(from, options.prefix);
  const plan = new Map<string, { source: number; target: number }>();
  await forEachConcurrently(keys, concurrency, async (key) => {
    plan.set(key, { source: await from.streamVersion(key), target: await to.streamVersion(key) });
  });
  const progress = { total: 0, done: 0, streams: keys.length };
  for (const { source, target } of plan.values()) {
    progress.total += source;
    progress.done += Math.min(source, target);
  }
  const alreadyThere = progress.done;
  onProgress?.(progress);

  await forEachConcurrently(keys, concurrency, async (key) => {
    const { source, target } = plan.get(key)!;
    if (target > source) throw new CopyError(`stream ${JSON.stringify(key)}: the target has ${target} events, the source ${source}`);
    if (target > 0 && (await eventAt(from, key, target))?.id !== (await eventAt(to, key, target))?.id) {
      throw new CopyError(`stream ${JSON.stringify(key)}: event ${target} differs between source and target`);
    }
    let page: StoredEvent[] = [];
    for await (const event of from.readStream(key, { from: target + 1, to: source, pageSize })) {
      page.push(event);
      if (page.length < pageSize) continue;
      await to.importEvents(key, page);
      progress.done += page.length;
      onProgress?.(progress);
      page = [];
    }
    if (page.length === 0) return;
    await to.importEvents(key, page);
    progress.done += page.length;
    onProgress?.(progress);
  });
  return { streams: keys.length, events: progress.total, alreadyThere, copied: progress.total - alreadyThere };
}

/** Event count and SHA-256 over every field of every event of a stream, in order. */
async function streamDigest(store: EventStore, key: string, pageSize: number): Promise<{ count: number; digest: string }> {
  const hash = createHash('sha256');
  let count = 0;
  for await (const event of store.readStream(key, { pageSize })) {
    hash.update(JSON.stringify([event.sequence, event.id, event.type, event.timestamp, event.data, event.metadata ?? null]));
    hash.update('\n');
    count++;
  }
  return { count, digest: hash.digest('hex') };
}

/** Checks that every stream (under the prefix) has the same events in both stores: counts and checksums. */
export async function verifyCopy(from: EventStore, to: EventStore, options: Pick<CopyOptions, 'prefix' | 'concurrency' | 'pageSize'> = {}): Promise<VerifyReport> {
  const { concurrency = 8, pageSize = 1000 } = options;
  const [sourceKeys, targetKeys] = await Promise.all([allStreams(from, options.prefix), allStreams(to, options.prefix)]);
  const mismatches: string[] = [];
  const targetSet = new Set(targetKeys);
  for (const key of sourceKeys) if (!targetSet.has(key)) mismatches.push(`${JSON.stringify(key)}: missing from the target`);
  let events = 0;
  await forEachConcurrently(sourceKeys.filter((key) => targetSet.has(key)), concurrency, async (key) => {
    const [source, target] = await Promise.all([streamDigest(from, key, pageSize), streamDigest(to, key, pageSize)]);
    events += source.count;
    if (source.count !== target.count || source.digest !== target.digest) {
      mismatches.push(`${JSON.stringify(key)}: source ${source.count} events sha256 ${source.digest.slice(0, 12)}, target ${target.count} events sha256 ${target.digest.slice(0, 12)}`);
    }
  });
  return { streams: sourceKeys.length, events, mismatches };
}
