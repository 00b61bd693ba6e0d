import { describe, expect, it } from '@jest/globals';
import {
  Aggregate,
  ConcurrencyError,
  createEventRegistry,
  createMemoryDriver,
  createRepository,
  createStore,
  DriverError,
  type ExpectedVersion,
  type KeyValueDriver,
  type StoredEvent,
  type StoreOptions,
} from '@keyvent/core';
import { collect } from './helpers.js';

// Defect 1 of "Every outcome true": a backend SDK resends a request by itself when a reply is lost. The
// first copy lands; the resend then meets it (a conflict) or the call still fails (a timeout). The put
// was stored, so the caller must hear success, once, and nothing may be written twice.

const event = (n: number) => ({ type: 'Tested', data: { n } });

interface Fault {
  name: string;
  options: StoreOptions;
  /** The error of the put whose first copy landed. */
  fail: (events: readonly StoredEvent[]) => Error;
  /** Whether the puts after it keep failing without writing (else they reach the backend). */
  persists: boolean;
  /** How many puts the store makes in all. */
  puts: number;
}

const timeout = () => new DriverError('resending', 'request timed out', { retryable: true });

const faults: Fault[] = [
  {
    name: "a ConcurrencyError (the SDK's resend met its own first copy)",
    options: {},
    fail: (events) => new ConcurrencyError(events[0]!.key, events[0]!.sequence - 1, events[events.length - 1]!.sequence, { driver: 'resending' }),
    persists: false,
    puts: 1,
  },
  {
    name: 'a ConcurrencyError that carries the ids it met (its own)',
    options: {},
    fail: (events) =>
      new ConcurrencyError(events[0]!.key, events[0]!.sequence - 1, events[events.length - 1]!.sequence, {
        driver: 'resending',
        storedIds: events.map((event) => event.id),
      }),
    persists: false,
    puts: 1,
  },
  { name: "a retryable DriverError, with the store's retries off", options: { retry: { attempts: 1 } }, fail: timeout, persists: false, puts: 1 },
  {
    name: 'a retryable DriverError, and so does every retry until the store gives up',
    options: { retry: { attempts: 3, firstDelayMs: 1, maxDelayMs: 2 } },
    fail: timeout,
    persists: true,
    puts: 3,
  },
];

/** A memory driver whose next put, once armed, lands and then fails as the fault says. */
function landsThenFails({ fail, persists }: Fault) {
  const inner = createMemoryDriver();
  let armed = false;
  let puts = 0;
  const driver: KeyValueDriver = {
    ...inner,
    name: 'resending',
    putEvents: async (events, options) => {
      if (!armed) return inner.putEvents(events, options);
      puts++;
      if (puts > 1 && !persists) return inner.putEvents(events, options);
      if (puts === 1) await inner.putEvents(events, options);
      throw fail(events);
    },
  };
  return {
    driver,
    arm: () => void (armed = true),
    /** Puts since it was armed. */
    puts: () => puts,
  };
}

const forms: { expected: ExpectedVersion; existing: number }[] = [
  { expected: 2, existing: 2 },
  { expected: 0, existing: 0 },
  { expected: 'no_stream', existing: 0 },
  { expected: 'any', existing: 1 },
  { expected: 'exists', existing: 1 },
];

describe.each(faults)('a put that lands and then fails with $name', (fault) => {
  const { options } = fault;
  it.each(forms)('append at expectedVersion $expected reports success and stores the commit once', async ({ expected, existing }) => {
    const { driver, arm, puts } = landsThenFails(fault);
    const store = createStore(driver, options);
    if (existing > 0) await store.append('s', Array.from({ length: existing }, (_, i) => event(i + 1)));
    const delivered: string[] = [];
    store.subscribe((stored) => void delivered.push(stored.id));
    arm();

    const result = await store.append('s', [event(100), event(101)], { expectedVersion: expected });

    const stream = await collect(store.readStream('s'));
    expect(stream.map((stored) => stored.data)).toEqual([...Array.from({ length: existing }, (_, i) => ({ n: i + 1 })), { n: 100 }, { n: 101 }]);
    expect(result.version).toBe(existing + 2);
    expect(stream.slice(existing).map((stored) => stored.id)).toEqual(result.events.map((stored) => stored.id));
    expect(puts()).toBe(fault.puts);
    await store.close();
    expect(delivered).toEqual(result.events.map((stored) => stored.id));
  });

  it('repository.update runs the command once and stores its event once', async () => {
    const { driver, arm } = landsThenFails(fault);
    const store = createStore(driver, options);
    const counters = createRepository({ store, registry, create: (id) => new Counter(id) });
    const counter = counters.create('c');
    counter.increment(1);
    await counters.save(counter);
    arm();
    let runs = 0;

    const updated = await counters.update('c', (c) => {
      runs++;
      c.increment(10);
    });

    expect(runs).toBe(1);
    expect(updated.version).toBe(2);
    expect((await collect(store.readStream('c'))).map((stored) => stored.data)).toEqual([{ by: 1 }, { by: 10 }]);
    expect((await counters.load('c')).total).toBe(11);
  });
});

type CounterEvent = { type: 'Incremented'; data: { by: number } };

class Counter extends Aggregate<CounterEvent> {
  total = 0;
  increment(by: number): void {
    this.raise({ type: 'Incremented', data: { by } });
  }
  protected apply(event: CounterEvent): void {
    this.total += event.data.by;
  }
}

const registry = createEventRegistry<CounterEvent>({ Incremented: {} });
