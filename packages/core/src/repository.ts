import { createHash } from 'node:crypto';
import type { Aggregate } from './aggregate.js';
import { AggregateNotFoundError, isConcurrencyError, UncommittedChangesError, ValidationError } from './errors.js';
import type { DomainEvent, EventRegistry } from './registry.js';
import { appendAtReadVersion, type AppendResult, type EventStore } from './store.js';
import { MAX_KEY_BYTES, SNAPSHOT_STREAM_PREFIXES } from './keys.js';
import type { EventMetadata, JsonValue, NewEvent } from './types.js';

/**
 * Snapshots of an aggregate's state, so a long stream loads from its latest snapshot plus the events after it.
 * A snapshot is an event (`$snapshot`, data `{ shape, version, state }`) in the stream `$snapshot/<stream key>`.
 */
export interface SnapshotOptions<A> {
  /** Take a snapshot when an aggregate is loaded or saved this many events past its latest one. */
  every: number;
  /**
   * The version of the state's shape. Change it whenever `take` changes what it returns: a snapshot of
   * another shape is ignored (the aggregate is replayed from its events), never handed to `restore`.
   */
  shape: number;
  /** The aggregate's state as JSON. */
  take: (aggregate: A) => JsonValue;
  /** Sets an empty aggregate's state from what `take` returned. */
  restore: (aggregate: A, state: JsonValue) => void;
  /** Where snapshots are kept. Default: the repository's store. */
  store?: EventStore;
}

export interface RepositoryOptions<A extends Aggregate<E>, E extends DomainEvent> {
  store: EventStore;
  registry: EventRegistry<E>;
  /** Makes an empty aggregate with this id. */
  create: (id: string) => A;
  /** The stream key of an aggregate id, e.g. `(id) => \`account-${id}\``. Default: the id itself. */
  streamKey?: (id: string) => string;
  /** Snapshots of long-lived aggregates; off when absent. */
  snapshots?: SnapshotOptions<A>;
}

const SNAPSHOT_TYPE = '$snapshot';

/** The snapshot stream of a stream key: `$snapshot/<key>`, or a hash of the key where that would be too long. */
export function snapshotStreamKey(key: string): string {
  const [plainPrefix, hashedPrefix] = SNAPSHOT_STREAM_PREFIXES;
  const plain = `${plainPrefix}${key}`;
  if (Buffer.byteLength(plain, 'utf8') <= MAX_KEY_BYTES) return plain;
  return `${hashedPrefix}${createHash('sha256').update(key).digest('hex')}`;
}

export interface SaveOptions {
  /** Added to every saved event (e.g. correlationId, causationId). */
  metadata?: EventMetadata;
}

export interface Repository<A> {
  /** A new, empty aggregate; `save` fails with ConcurrencyError if its stream already exists. */
  create(id: string): A;
  /** @throws AggregateNotFoundError when the stream has no events. */
  load(id: string): Promise<A>;
  find(id: string): Promise<A | undefined>;
  /** Stores the uncommitted events at the version the aggregate was loaded at. @throws ConcurrencyError */
  save(aggregate: A, options?: SaveOptions): Promise<AppendResult | undefined>;
  /** Applies events stored since the aggregate was loaded. @throws UncommittedChangesError */
  refresh(aggregate: A): Promise<A>;
  /** Loads, runs `command`, saves; on a ConcurrencyError reloads and runs it again (up to `maxRetries`). */
  update(id: string, command: (aggregate: A) => void | Promise<void>, options?: SaveOptions & { maxRetries?: number }): Promise<A>;
}

/**
 * Loads and saves aggregates through a store, with optimistic concurrency on the loaded version.
 *
 * @example
 * ```ts
 * const accounts = createRepository({ store, registry, create: (id) => new BankAccount(id) });
 * await accounts.update('acc-1', (account) => account.deposit(100));
 * ```
 */
export function createRepository<A extends Aggregate<E>, E extends DomainEvent>(
  options: RepositoryOptions<A, E>,
): Repository<A> {
  const { store, registry, create } = options;
  const streamKey = options.streamKey ?? ((id: string) => id);
  const snapshots = options.snapshots && createSnapshots(options.snapshots, store);

  async function catchUp(aggregate: A): Promise<A> {
    const from = aggregate.version + 1;
    for await (const stored of store.readStream(streamKey(aggregate.id), { from })) {
      aggregate.replayEvent(registry.decode(stored), stored.sequence);
    }
    return aggregate;
  }

  async function find(id: string): Promise<A | undefined> {
    const aggregate = create(id);
    await snapshots?.restore(aggregate, streamKey(id));
    await catchUp(aggregate);
    if (aggregate.version === 0) return undefined;
    await snapshots?.takeIfDue(aggregate, streamKey(id));
    return aggregate;
  }

  async function load(id: string): Promise<A> {
    const aggregate = await find(id);
    if (!aggregate) throw new AggregateNotFoundError(id, streamKey(id));
    return aggregate;
  }

  async function save(aggregate: A, saveOptions: SaveOptions = {}): Promise<AppendResult | undefined> {
    const pending = aggregate.uncommittedEvents;
    if (pending.length === 0) return undefined;
    const events = pending.map((event, i): NewEvent => {
      const { type, data } = registry.encode(event, `events[${i}]`);
      const metadata = { ...event.metadata, ...saveOptions.metadata };
      return Object.keys(metadata).length > 0 ? { type, data: data as NewEvent['data'], metadata } : { type, data: data as NewEvent['data'] };
    });
    const result = await store[appendAtReadVersion](streamKey(aggregate.id), events, aggregate.version);
    aggregate.markCommitted(result.version);
    await snapshots?.takeIfDue(aggregate, streamKey(aggregate.id));
    return result;
  }

  async function refresh(aggregate: A): Promise<A> {
    const pending = aggregate.uncommittedEvents.length;
    if (pending > 0) throw new UncommittedChangesError(aggregate.id, pending);
    return catchUp(aggregate);
  }

  async function update(id: string, command: (aggregate: A) => void | Promise<void>, updateOptions: SaveOptions & { maxRetries?: number } = {}) {
    const maxRetries = updateOptions.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const aggregate = await load(id);
      await command(aggregate);
      try {
        await save(aggregate, updateOptions);
        return aggregate;
      } catch (error) {
        if (!isConcurrencyError(error) || attempt >= maxRetries) throw error;
      }
    }
  }

  return { create, load, find, save, refresh, update };
}

/** Reads and writes snapshots for a repository; remembers the version of each aggregate's latest one. */
function createSnapshots<A extends Aggregate<E>, E extends DomainEvent>(options: SnapshotOptions<A>, defaultStore: EventStore) {
  const { every, shape, take } = options;
  if (!Number.isSafeInteger(every) || every < 1) throw new ValidationError('snapshots.every', 'must be a whole number >= 1');
  const store = options.store ?? defaultStore;
  const latest = new WeakMap<A, number>();

  /** Restores the latest snapshot of the current shape, if there is one. */
  async function restore(aggregate: A, key: string): Promise<void> {
    for await (const stored of store.readStream(snapshotStreamKey(key), { direction: 'backward', pageSize: 1 })) {
      const snapshot = stored.data as { shape?: unknown; version?: unknown; state?: JsonValue };
      if (stored.type !== SNAPSHOT_TYPE || snapshot.shape !== shape || typeof snapshot.version !== 'number') return;
      options.restore(aggregate, snapshot.state ?? null);
      aggregate.markCommitted(snapshot.version);
      latest.set(aggregate, snapshot.version);
      return;
    }
  }

  /**
   * Stores a snapshot when the aggregate is `every` events past its latest. The events are already
   * committed, so a snapshot that cannot be stored (e.g. over the backend's item size) fails nothing:
   * it is reported as a process warning and loading falls back to the events.
   */
  async function takeIfDue(aggregate: A, key: string): Promise<void> {
    if (aggregate.version - (latest.get(aggregate) ?? 0) < every) return;
    const data = { shape, version: aggregate.version, state: take(aggregate) };
    try {
      await store.append(snapshotStreamKey(key), { type: SNAPSHOT_TYPE, data });
      latest.set(aggregate, aggregate.version);
    } catch (error) {
      process.emitWarning(`[keyvent] snapshot of ${JSON.stringify(key)} at version ${aggregate.version} not stored: ${String(error)}`, 'KeyventSnapshotWarning');
    }
  }

  return { restore, takeIfDue };
}
