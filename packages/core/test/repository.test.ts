import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  Aggregate,
  AggregateNotFoundError,
  createEventRegistry,
  createMemoryDriver,
  createRepository,
  createStore,
  isConcurrencyError,
  snapshotStreamKey,
  UncommittedChangesError,
  ValidationError,
  type EventStore,
  type Repository,
} from '@keyvent/core';
import { collect, countingDriver } from './helpers.js';

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

describe('repository bounds', () => {
  const setup = () => {
    const store = createStore(createMemoryDriver());
    return { store, counters: createRepository({ store, registry, create: (id) => new Counter(id) }) };
  };

  it('update runs the command 1 + maxRetries times against a rival that always wins, then gives up', async () => {
    const { counters } = setup();
    const seed = counters.create('r');
    seed.increment(1);
    await counters.save(seed);
    for (const maxRetries of [undefined, 1]) {
      let runs = 0;
      const error = await counters
        .update('r', async (counter) => {
          runs++;
          const rival = await counters.load('r');
          rival.increment(1);
          await counters.save(rival);
          counter.increment(1);
        }, { maxRetries })
        .catch((thrown: unknown) => thrown);
      expect(isConcurrencyError(error)).toBe(true);
      expect(runs).toBe((maxRetries ?? 3) + 1);
    }
  });

  it('update does not retry a failure other than a lost race', async () => {
    const { counters } = setup();
    const seed = counters.create('v');
    seed.increment(1);
    await counters.save(seed);
    let runs = 0;
    const error = await counters.update('v', (counter) => {
      runs++;
      counter.increment(Number.NaN);
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ValidationError);
    expect(runs).toBe(1);
  });

  it('refuses events whose data is not JSON, and a stream key that is not one, before writing', async () => {
    const store = createStore(createMemoryDriver());
    const counters = createRepository({ store, registry, create: (id) => new Counter(id), streamKey: () => '' });
    const counter = counters.create('x');
    counter.increment(1);
    await expect(counters.save(counter)).rejects.toMatchObject({ path: 'key' });
    const { store: other, counters: plain } = setup();
    const bad = plain.create('y');
    bad.increment(Number.POSITIVE_INFINITY);
    await expect(plain.save(bad)).rejects.toMatchObject({ path: 'events[0].data.by' });
    expect(await other.streamVersion('y')).toBe(0);
  });

  it('stores no metadata on events saved without any', async () => {
    const { store, counters } = setup();
    const counter = counters.create('m');
    counter.increment(1);
    await counters.save(counter);
    const [stored] = await collect(store.readStream('m'));
    expect(stored).not.toHaveProperty('metadata');
  });
});

describe('repository snapshots', () => {
  const snapshotsOf = async (store: EventStore, key: string) => (await collect(store.readStream(snapshotStreamKey(key)))).map((event) => (event.data as { version: number }).version);
  const setup = (every = 3) => {
    const store = createStore(createMemoryDriver());
    const restored: unknown[] = [];
    const counters = createRepository({
      store,
      registry,
      create: (id) => new Counter(id),
      snapshots: { every, shape: 1, take: (counter) => counter.total, restore: (counter, state) => void ((counter.total = state as number), restored.push(state)) },
    });
    return { store, counters, restored };
  };

  it('takes a snapshot once the aggregate is exactly `every` events past its latest, and not again on each load', async () => {
    const { store, counters } = setup(3);
    const counter = counters.create('k');
    counter.increment(1);
    counter.increment(1);
    await counters.save(counter);
    expect(await snapshotsOf(store, 'k')).toEqual([]);
    counter.increment(1);
    await counters.save(counter);
    expect(await snapshotsOf(store, 'k')).toEqual([3]);
    await counters.load('k');
    await counters.load('k');
    expect(await snapshotsOf(store, 'k')).toEqual([3]);
    const loaded = await counters.load('k');
    expect([loaded.total, loaded.version]).toEqual([3, 3]);
  });

  it('ignores what is not a snapshot of its shape in the snapshot stream, and replays the events', async () => {
    const { store, counters, restored } = setup(100);
    const counter = counters.create('i');
    counter.increment(2);
    await counters.save(counter);
    for (const stray of [{ type: 'Other', data: { shape: 1, version: 1, state: 50 } }, { type: '$snapshot', data: { shape: 1, version: 'one', state: 50 } }]) {
      await store.append(snapshotStreamKey('i'), stray);
      const loaded = await counters.load('i');
      expect([loaded.total, loaded.version]).toEqual([2, 1]);
    }
    expect(restored).toEqual([]);
  });

  it('refuses an `every` below 1, and takes 1', () => {
    const store = createStore(createMemoryDriver());
    const snapshots = (every: number) => ({ every, shape: 1, take: () => null, restore: () => {} });
    expect(() => createRepository({ store, registry, create: (id) => new Counter(id), snapshots: snapshots(0) })).toThrow(ValidationError);
    expect(() => createRepository({ store, registry, create: (id) => new Counter(id), snapshots: snapshots(1) })).not.toThrow();
  });

  it('keeps the snapshot stream key readable up to the longest key, and hashes a longer one', () => {
    expect(snapshotStreamKey('cart-1')).toBe('$snapshot/cart-1');
    const longest = 'k'.repeat(1024 - '$snapshot/'.length);
    expect(snapshotStreamKey(longest)).toBe(`$snapshot/${longest}`);
    expect(snapshotStreamKey(`${longest}k`)).toMatch(/^\$snapshot#[0-9a-f]{64}$/);
  });
});
