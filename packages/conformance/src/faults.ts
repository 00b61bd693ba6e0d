import assert from 'node:assert/strict';
import {
  Aggregate,
  createEventRegistry,
  createRepository,
  createStore,
  isConcurrencyError,
  isDriverError,
  type EventStore,
  type ExpectedVersion,
  type KeyValueDriver,
} from '@keyvent/core';
import { expectError, makeEvents, readAll, uniqueKey, wrapDriver, type SuiteContext } from './context.js';

/**
 * Loses what a network loses, between a driver and its real backend: a TCP proxy does it for
 * keyvent's own drivers (`startFaultProxy` in `@keyvent/testing`). A fault is armed for the next
 * request the driver sends.
 */
export interface FaultInjector {
  /** The next request reaches the server; its reply is lost (the connection is reset). */
  dropNextReply(): void;
  /** The next request never reaches the server (the connection is reset). */
  dropNextRequest(): void;
  /** How many faults it has injected so far. */
  injected(): number;
}

export interface FaultOptions {
  /** Makes a driver whose requests pass through `injector`. Called once for the concern; closed after it. */
  createDriver: () => KeyValueDriver | Promise<KeyValueDriver>;
  injector: () => FaultInjector;
}

type Fault = 'dropNextReply' | 'dropNextRequest';

interface Form {
  name: string;
  /** Events in the stream before the commit. */
  prior: number;
  expected: ExpectedVersion;
}

const FORMS: Form[] = [
  { name: 'at an exact version', prior: 2, expected: 2 },
  { name: 'at version 0', prior: 0, expected: 0 },
  { name: "at 'no_stream'", prior: 0, expected: 'no_stream' },
  { name: "at 'exists'", prior: 2, expected: 'exists' },
  { name: "at 'any' on a stream", prior: 2, expected: 'any' },
  { name: "at 'any' on no stream", prior: 0, expected: 'any' },
];

type CounterEvent = { type: 'Incremented'; data: { by: number } };
class Counter extends Aggregate<CounterEvent> {
  total = 0;
  protected apply(event: CounterEvent): void {
    this.total += event.data.by;
  }
  increment(by: number): void {
    this.raise({ type: 'Incremented', data: { by } });
  }
}

/**
 * Every outcome true under network faults: a commit whose reply is lost is stored once and
 * acknowledged (the SDK's or the core's resend must not duplicate it, nor turn it into a conflict); a
 * commit whose request is lost is stored once after a retry or not at all (then the caller gets a
 * retryable error); a conflict whose reply is lost is still a conflict.
 */
export function faultCases({ it, faulty }: SuiteContext): void {
  /** A store on the faulty driver whose first commit meets `fault`. */
  function storeWith(fault: Fault): { store: EventStore; injected: () => number } {
    const { driver, injector } = faulty();
    let armed = true;
    const store = createStore(
      wrapDriver(driver, {
        putEvents: (events, options) => {
          if (armed) injector[fault]();
          armed = false;
          return driver.putEvents(events, options);
        },
      }),
      // Up to about 4 s of retries: a one-node test server is unreachable until its client reconnects.
      { retry: { attempts: 8, firstDelayMs: 50, maxDelayMs: 1000 } },
    );
    const before = injector.injected();
    return { store, injected: () => injector.injected() - before };
  }

  async function seeded(prior: number): Promise<string> {
    const key = uniqueKey('faults');
    if (prior > 0) await faulty().store.append(key, makeEvents(prior), { expectedVersion: 0 });
    return key;
  }

  for (const size of [1, 3]) {
    for (const form of FORMS) {
      it(`a commit of ${size} ${form.name} whose reply is lost is stored once and acknowledged`, async () => {
        const key = await seeded(form.prior);
        const { store, injected } = storeWith('dropNextReply');
        const result = await store.append(key, makeEvents(size, 'Tested', form.prior + 1), { expectedVersion: form.expected });
        assert.equal(injected(), 1, 'the proxy lost one reply');
        assert.equal(result.version, form.prior + size);
        const stored = await readAll(store, key);
        assert.deepEqual(stored.map((event) => event.sequence), Array.from({ length: form.prior + size }, (_, i) => i + 1));
        assert.deepEqual(stored.slice(form.prior).map((event) => event.id), result.events.map((event) => event.id));
        await store.close();
      });

      it(`a commit of ${size} ${form.name} whose request is lost is stored once, or not yet with an outcome-unknown error`, async () => {
        const key = await seeded(form.prior);
        const { store, injected } = storeWith('dropNextRequest');
        const ids = makeEvents(size, 'Tested', form.prior + 1).map((event, i) => ({ ...event, id: `${key}#${i}` }));
        const outcome = await store.append(key, ids, { expectedVersion: form.expected }).then(
          (result) => result,
          (error: unknown) => error,
        );
        assert.equal(injected(), 1, 'the proxy lost one request');
        const stored = await readAll(store, key);
        const ours = stored.filter((event) => event.id.startsWith(key));
        if (isDriverError(outcome)) {
          // Retries spent: the error must say the outcome is unknown, and nothing of it is stored yet.
          assert.match(outcome.message, /unknown/, outcome.message);
          assert.equal(ours.length, 0, 'a commit reported as failed is not stored');
        } else {
          assert.ok(!(outcome instanceof Error), `unexpected failure: ${String(outcome)}`);
          assert.deepEqual(ours.map((event) => event.sequence), Array.from({ length: size }, (_, i) => form.prior + i + 1));
        }
        assert.equal(stored.length, form.prior + ours.length);
        await store.close();
      });
    }

    it(`a stale commit of ${size} whose conflict reply is lost is still refused, and nothing of it is stored`, async () => {
      const key = await seeded(3);
      const { store, injected } = storeWith('dropNextReply');
      const error = await expectError(
        () => store.append(key, makeEvents(size), { expectedVersion: 1 }),
        isConcurrencyError,
        'a ConcurrencyError',
      );
      assert.equal(injected(), 1);
      assert.equal(error.actualVersion, 3);
      assert.equal((await readAll(store, key)).length, 3);
      await store.close();
    });
  }

  it('repository.update whose reply is lost applies its command once', async () => {
    const registry = createEventRegistry<CounterEvent>({ Incremented: {} });
    const id = uniqueKey('faults');
    const seed = createRepository({ store: faulty().store, registry, create: (name) => new Counter(name) });
    const counter = seed.create(id);
    counter.increment(3);
    await seed.save(counter);
    const { store, injected } = storeWith('dropNextReply');
    const counters = createRepository({ store, registry, create: (name) => new Counter(name) });
    let runs = 0;
    const updated = await counters.update(id, (loaded) => {
      runs++;
      loaded.increment(3);
    });
    assert.equal(injected(), 1);
    assert.equal(runs, 1, 'the command ran once');
    assert.equal(updated.total, 6);
    assert.equal((await counters.load(id)).total, 6);
    assert.equal((await readAll(store, id)).length, 2);
    await store.close();
  });
}
