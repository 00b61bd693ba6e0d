import { randomUUID } from 'node:crypto';
import { isConcurrencyError, isDriverError, type EventStore } from '@keyvent/core';

export interface TortureOptions {
  /** Concurrent writers. Default 32. */
  writers?: number;
  /** Streams they all write to. Default 4. */
  streams?: number;
  /** Successful appends each writer makes before it stops. Default 100; unbounded with `signal`. */
  appendsPerWriter?: number;
  /** Each append holds 1 to this many events. Default 3. */
  maxEventsPerAppend?: number;
  /** Prefix of the stream keys (a random suffix is added). */
  keyPrefix?: string;
  /** Writers stop when it aborts (then `appendsPerWriter` bounds them only if given). */
  signal?: AbortSignal;
  /**
   * Faults are expected (a server killed, replies lost): an append that fails with a `DriverError` that
   * is not retryable is recorded as of unknown outcome and the writer goes on, and the read-back checks
   * that such a commit is stored whole or not at all. Without it, such an error ends the run. A retryable
   * `DriverError` (nothing stored) is always recorded as `failed` and tried again.
   */
  faults?: boolean;
}

/** What became of one append, and what the read-back found of it. */
export interface TortureCommit {
  key: string;
  /** The version the writer expected. */
  expectedVersion: number;
  ids: string[];
  /**
   * `refused`: a ConcurrencyError; `failed`: a retryable DriverError, which the core gives only when it
   * knows nothing is stored; `unknown`: any other DriverError (only with `faults`).
   */
  outcome: 'acknowledged' | 'refused' | 'failed' | 'unknown';
  /** The failure's message, for `unknown`. */
  error?: string;
  /** Whether its events were found stored. */
  stored: boolean;
}

export interface TortureReport {
  streams: string[];
  /** Appends acknowledged by the store. */
  appends: number;
  /** Events in those appends. */
  acknowledgedEvents: number;
  /** Appends refused with a ConcurrencyError (and retried at the new version). */
  conflicts: number;
  /** Appends that failed with a retryable DriverError: nothing stored, tried again. */
  failures: number;
  /** Appends that failed with a DriverError (only with `faults`) whose outcome was not known to the writer. */
  unknownOutcomes: number;
  /** Events read back from the streams afterwards. */
  storedEvents: number;
  durationMs: number;
  /** Every append tried, in the order they ended. */
  commits: TortureCommit[];
  /** Every broken rule found when reading back; empty when the store kept them all. */
  problems: string[];
}

/**
 * Many writers appending to the same few streams, each at the exact version it last saw, and retrying
 * at the actual version when it loses a race; afterwards every stream is read back and checked: sequences
 * consecutive from 1, no duplicate or lost event, every acknowledged event at the sequence it was given,
 * nothing of a refused or failed append stored, an append of unknown outcome stored whole or not at all, and
 * nothing stored that no writer sent.
 */
export async function runTorture(store: EventStore, options: TortureOptions = {}): Promise<TortureReport> {
  const { writers = 32, streams: streamCount = 4, maxEventsPerAppend = 3, signal } = options;
  const appendsPerWriter = options.appendsPerWriter ?? (signal ? Number.POSITIVE_INFINITY : 100);
  const run = `${options.keyPrefix ?? 'torture'}/${randomUUID()}`;
  const streams = Array.from({ length: streamCount }, (_, i) => `${run}/${i}`);
  const commits: TortureCommit[] = [];
  const started = performance.now();

  /** The stream's version, asked again until the store answers (a killed server comes back). */
  async function versionOf(key: string): Promise<number> {
    for (;;) {
      try {
        return await store.streamVersion(key);
      } catch (error) {
        if (!options.faults || !isDriverError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async function writer(w: number): Promise<void> {
    const known = new Map<string, number>();
    for (let done = 0; done < appendsPerWriter && !signal?.aborted; ) {
      const key = streams[(w + done) % streams.length]!;
      const version = known.get(key) ?? 0;
      const count = 1 + Math.floor(Math.random() * maxEventsPerAppend);
      const events = Array.from({ length: count }, (_, i) => ({ type: 'Tortured', data: { w, done, i }, id: `${w}-${done}-${i}-${randomUUID()}` }));
      const commit: TortureCommit = { key, expectedVersion: version, ids: events.map((event) => event.id), outcome: 'acknowledged', stored: false };
      try {
        const result = await store.append(key, events, { expectedVersion: version });
        known.set(key, result.version);
        done++;
      } catch (error) {
        if (isConcurrencyError(error)) {
          commit.outcome = 'refused';
          known.set(key, error.actualVersion ?? (await versionOf(key)));
        } else if (isDriverError(error) && (error.retryable || options.faults)) {
          // Retryable: the store found nothing stored and nothing can land (a contended Cassandra
          // cluster times out LWTs): the writer tries again, as an application would.
          Object.assign(commit, { outcome: error.retryable ? 'failed' : 'unknown', error: error.message });
          known.set(key, await versionOf(key));
        } else throw error;
      }
      commits.push(commit);
    }
  }

  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  const durationMs = performance.now() - started;
  const { storedEvents, problems } = await readBack(store, streams, commits);
  const count = (outcome: TortureCommit['outcome']) => commits.filter((commit) => commit.outcome === outcome);
  const acknowledged = count('acknowledged');
  return {
    streams,
    appends: acknowledged.length,
    acknowledgedEvents: acknowledged.reduce((sum, commit) => sum + commit.ids.length, 0),
    conflicts: count('refused').length,
    failures: count('failed').length,
    unknownOutcomes: count('unknown').length,
    storedEvents,
    durationMs,
    commits,
    problems,
  };
}

/** Reads every stream back, marks which commits are stored, and lists every broken rule. */
async function readBack(store: EventStore, streams: readonly string[], commits: TortureCommit[]) {
  const sent = new Map<string, TortureCommit>();
  for (const commit of commits) for (const id of commit.ids) sent.set(id, commit);
  const at = new Map<string, string>();
  const problems: string[] = [];
  let storedEvents = 0;
  for (const key of streams) {
    let expected = 1;
    for await (const event of store.readStream(key)) {
      storedEvents++;
      const where = `${key}#${event.sequence}`;
      if (event.sequence !== expected) problems.push(`${key}: sequence ${event.sequence} where ${expected} was due`);
      expected = event.sequence + 1;
      if (at.has(event.id)) problems.push(`${where}: event ${event.id} stored twice (also at ${at.get(event.id)})`);
      at.set(event.id, where);
      const commit = sent.get(event.id);
      if (!commit) problems.push(`${where}: event ${event.id} stored but never sent`);
      else if (commit.outcome === 'refused' || commit.outcome === 'failed') problems.push(`${where}: event ${event.id} stored although its append was ${commit.outcome}`);
    }
  }
  for (const commit of commits) {
    const places = commit.ids.map((id) => at.get(id));
    const due = commit.ids.map((_, i) => `${commit.key}#${commit.expectedVersion + 1 + i}`);
    commit.stored = places.some((place) => place !== undefined);
    const whole = places.every((place, i) => place === due[i]);
    if (commit.outcome === 'acknowledged' && !whole) problems.push(`${commit.ids[0]}…: acknowledged at ${due[0]}, stored at ${places.join(', ')}`);
    if (commit.outcome === 'unknown' && commit.stored && !whole) problems.push(`${commit.ids[0]}…: of unknown outcome, stored in part or elsewhere: ${places.join(', ')}`);
  }
  return { storedEvents, problems };
}
