import type { Aggregate } from './aggregate.js';
import { AggregateNotFoundError, isConcurrencyError, UncommittedChangesError } from './errors.js';
import type { DomainEvent, EventRegistry } from './registry.js';
import { appendAtReadVersion, type AppendResult, type EventStore } from './store.js';
import type { EventMetadata, NewEvent } from './types.js';

export interface RepositoryOptions<A extends Aggregate<E>, E extends DomainEvent> {
  store: EventStore;
  registry: EventRegistry<E>;
  /** Makes an empty aggregate with this id. */
  create: (id: string) => A;
  /** The stream key of an aggregate id, e.g. `(id) => \`account-${id}\``. Default: the id itself. */
  streamKey?: (id: string) => string;
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

  async function catchUp(aggregate: A): Promise<A> {
    const from = aggregate.version + 1;
    for await (const stored of store.readStream(streamKey(aggregate.id), { from })) {
      aggregate.replayEvent(registry.decode(stored), stored.sequence);
    }
    return aggregate;
  }

  async function find(id: string): Promise<A | undefined> {
    const aggregate = await catchUp(create(id));
    return aggregate.version === 0 ? undefined : aggregate;
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
