import { randomUUID } from 'node:crypto';
import { isConcurrencyError, type EventStore } from '@keyvent/core';

export interface TortureOptions {
  /** Concurrent writers. Default 32. */
  writers?: number;
  /** Streams they all write to. Default 4. */
  streams?: number;
  /** Successful appends each writer makes before it stops. Default 100. */
  appendsPerWriter?: number;
  /** Each append holds 1 to this many events. Default 3. */
  maxEventsPerAppend?: number;
  /** Prefix of the stream keys (a random suffix is added). */
  keyPrefix?: string;
}

export interface TortureReport {
  streams: string[];
  /** Appends acknowledged by the store. */
  appends: number;
  /** Events in those appends. */
  acknowledgedEvents: number;
  /** Appends refused with a ConcurrencyError (and retried at the new version). */
  conflicts: number;
  /** Events read back from the streams afterwards. */
  storedEvents: number;
  durationMs: number;
  /** Every broken rule found when reading back; empty when the store kept them all. */
  problems: string[];
}

/**
 * Many writers appending to the same few streams, each at the exact version it last saw, and retrying
 * at the actual version when it loses a race; afterwards every stream is read back and checked: sequences
 * consecutive from 1, no duplicate or lost event, every acknowledged event at the sequence it was given,
 * and nothing stored that was not acknowledged.
 */
export async function runTorture(store: EventStore, options: TortureOptions = {}): Promise<TortureReport> {
  const { writers = 32, streams: streamCount = 4, appendsPerWriter = 100, maxEventsPerAppend = 3 } = options;
  const run = `${options.keyPrefix ?? 'torture'}/${randomUUID()}`;
  const streams = Array.from({ length: streamCount }, (_, i) => `${run}/${i}`);
  const acknowledged = new Map<string, { key: string; sequence: number }>();
  let conflicts = 0;
  let appends = 0;
  const started = performance.now();

  async function writer(w: number): Promise<void> {
    const known = new Map<string, number>();
    for (let done = 0; done < appendsPerWriter; ) {
      const key = streams[(w + done) % streams.length]!;
      const version = known.get(key) ?? 0;
      const count = 1 + Math.floor(Math.random() * maxEventsPerAppend);
      const events = Array.from({ length: count }, (_, i) => ({ type: 'Tortured', data: { w, done, i }, id: `${w}-${done}-${i}-${randomUUID()}` }));
      try {
        const result = await store.append(key, events, { expectedVersion: version });
        for (const event of result.events) acknowledged.set(event.id, { key, sequence: event.sequence });
        known.set(key, result.version);
        appends++;
        done++;
      } catch (error) {
        if (!isConcurrencyError(error)) throw error;
        conflicts++;
        known.set(key, error.actualVersion ?? (await store.streamVersion(key)));
      }
    }
  }

  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  const durationMs = performance.now() - started;
  const problems: string[] = [];
  let storedEvents = 0;
  for (const key of streams) {
    const seen = new Set<string>();
    let expected = 1;
    for await (const event of store.readStream(key)) {
      storedEvents++;
      if (event.sequence !== expected) problems.push(`${key}: sequence ${event.sequence} where ${expected} was due`);
      expected = event.sequence + 1;
      if (seen.has(event.id)) problems.push(`${key}#${event.sequence}: duplicate event ${event.id}`);
      seen.add(event.id);
      const ack = acknowledged.get(event.id);
      if (!ack) problems.push(`${key}#${event.sequence}: event ${event.id} stored but never acknowledged`);
      else if (ack.key !== key || ack.sequence !== event.sequence) problems.push(`${event.id}: acknowledged at ${ack.key}#${ack.sequence}, stored at ${key}#${event.sequence}`);
    }
  }
  if (storedEvents !== acknowledged.size) problems.push(`${acknowledged.size} events acknowledged, ${storedEvents} stored`);
  return { streams, appends, acknowledgedEvents: acknowledged.size, conflicts, storedEvents, durationMs, problems };
}
