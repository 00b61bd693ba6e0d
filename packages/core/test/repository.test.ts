import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  Aggregate,
  AggregateNotFoundError,
  createEventRegistry,
  createMemoryDriver,
  createRepository,
  createStore,
  isConcurrencyError,
  UncommittedChangesError,
  type EventStore,
  type Repository,
} from '@keyvent/core';
import { countingDriver } from './helpers.js';

type CounterEvent = { type: 'Incremented'; data: { by: number } } | { type: 'Reset'; data: null };

class Counter extends Aggregate<CounterEvent> {
  total = 0;
  increment(by: number): void {
    if (by <= 0) throw new Error('by must be positive');
    this.raise({ type: 'Incremented', data: { by } });
  }
  reset(): void {
    this.raise({ type: 'Reset', data: null });
  }
  protected apply(event: CounterEvent): void {
    this.total = event.type === 'Reset' ? 0 : this.total + event.data.by;
  }
}

const registry = createEventRegistry<CounterEvent>({ Incremented: {}, Reset: {} });

describe('repository', () => {
  let store: EventStore;
  let counters: Repository<Counter>;
  beforeEach(() => {
    store = createStore(createMemoryDriver());
    counters = createRepository({ store, registry, create: (id) => new Counter(id), streamKey: (id) => `counter-${id}` });
  });

  it('saves a new aggregate and loads it back at its version', async () => {
    const counter = counters.create('a');
    counter.increment(2);
    counter.increment(3);
    const result = await counters.save(counter);
    expect(result?.version).toBe(2);
    expect(counter.version).toBe(2);
    expect(counter.uncommittedEvents).toEqual([]);
    const loaded = await counters.load('a');
    expect(loaded.total).toBe(5);
    expect(loaded.version).toBe(2);
    expect(await store.streamVersion('counter-a')).toBe(2);
  });

  it('does nothing when saving an aggregate without changes', async () => {
    expect(await counters.save(counters.create('quiet'))).toBeUndefined();
    expect(await store.streamVersion('counter-quiet')).toBe(0);
  });

  it('load refuses a missing aggregate with AggregateNotFoundError; find returns undefined', async () => {
    await expect(counters.load('ghost')).rejects.toBeInstanceOf(AggregateNotFoundError);
    expect(await counters.find('ghost')).toBeUndefined();
  });

  it('refuses to create an aggregate whose stream exists', async () => {
    const first = counters.create('dup');
    first.increment(1);
    await counters.save(first);
    const second = counters.create('dup');
    second.increment(1);
    await expect(counters.save(second)).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 1 });
  });

  it('refuses a save from a stale copy with a ConcurrencyError and writes nothing', async () => {
    const original = counters.create('b');
    original.increment(1);
    await counters.save(original);
    const mine = await counters.load('b');
    const theirs = await counters.load('b');
    theirs.increment(10);
    await counters.save(theirs);
    mine.increment(100);
    const error = await counters.save(mine).catch((e: unknown) => e);
    expect(isConcurrencyError(error)).toBe(true);
    expect((await counters.load('b')).total).toBe(11);
  });

  it('saves at the loaded version in one driver call (no prior check)', async () => {
    const { driver, calls } = countingDriver({ without: ['atomicPriorCheck'] });
    const repository = createRepository({ store: createStore(driver), registry, create: (id) => new Counter(id) });
    const counter = repository.create('c');
    counter.increment(1);
    await repository.save(counter);
    const loaded = await repository.load('c');
    loaded.increment(1);
    for (const name of Object.keys(calls)) delete calls[name];
    await repository.save(loaded);
    expect(calls).toEqual({ putEvents: 1 });
  });

  it('refreshes an aggregate with events saved elsewhere', async () => {
    const counter = counters.create('d');
    counter.increment(1);
    await counters.save(counter);
    const elsewhere = await counters.load('d');
    elsewhere.increment(4);
    await counters.save(elsewhere);
    await counters.refresh(counter);
    expect(counter.total).toBe(5);
    expect(counter.version).toBe(2);
  });

  it('refuses to refresh an aggregate with uncommitted changes', async () => {
    const counter = counters.create('e');
    counter.increment(1);
    await expect(counters.refresh(counter)).rejects.toBeInstanceOf(UncommittedChangesError);
    await expect(counters.refresh(counter)).rejects.toThrow('aggregate "e" has 1 uncommitted event(s)');
  });

  it('update retries a command that lost a race, on fresh state', async () => {
    const counter = counters.create('f');
    counter.increment(1);
    await counters.save(counter);
    let runs = 0;
    const updated = await counters.update('f', async (c) => {
      runs++;
      if (runs === 1) {
        const rival = await counters.load('f');
        rival.increment(10);
        await counters.save(rival);
      }
      c.increment(100);
    });
    expect(runs).toBe(2);
    expect(updated.total).toBe(111);
    expect((await counters.load('f')).total).toBe(111);
  });

  it('adds save metadata to every event', async () => {
    const counter = counters.create('g');
    counter.increment(1);
    counter.reset();
    await counters.save(counter, { metadata: { correlationId: 'req-1', causationId: 'cmd-1' } });
    const metadata = [];
    for await (const event of store.readStream('counter-g')) metadata.push(event.metadata);
    expect(metadata).toEqual([
      { correlationId: 'req-1', causationId: 'cmd-1' },
      { correlationId: 'req-1', causationId: 'cmd-1' },
    ]);
  });
});
