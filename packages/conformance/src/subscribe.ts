import assert from 'node:assert/strict';
import { createStore, type StoredEvent, type SubscriptionDropped } from '@keyvent/core';
import { closeWithin, eventually, makeEvents, range, uniqueKey, wrapDriver, type SuiteContext } from './context.js';

export function subscribeCases({ it, store, driver }: SuiteContext): void {
  /** Subscribes for the events of one stream only (the store is shared by concurrent cases). */
  function collect(key: string): { events: StoredEvent[]; stop: () => void } {
    const events: StoredEvent[] = [];
    const stop = store().subscribe((event) => {
      if (event.key === key) events.push(event);
    });
    return { events, stop };
  }

  it('delivers every committed event to a subscriber, in commit order', async () => {
    const key = uniqueKey('subscribe');
    const { events, stop } = collect(key);
    await store().append(key, makeEvents(2), { expectedVersion: 0 });
    await store().append(key, makeEvents(3), { expectedVersion: 2 });
    await eventually(() => events.length === 5);
    stop();
    assert.deepEqual(events.map((event) => event.sequence), [1, 2, 3, 4, 5]);
    assert.ok(events.every((event) => typeof event.id === 'string' && event.key === key));
  });

  it('delivers the stream in sequence order under 8 concurrent appenders', async () => {
    const key = uniqueKey('subscribe');
    const { events, stop } = collect(key);
    await Promise.all(Array.from({ length: 8 }, () => store().append(key, makeEvents(2), { expectedVersion: 'any' })));
    await eventually(() => events.length === 16);
    stop();
    assert.deepEqual(events.map((event) => event.sequence), range(1, 16));
  });

  it('does not deliver the events of a refused commit', async () => {
    const key = uniqueKey('subscribe');
    const { events, stop } = collect(key);
    await store().append(key, makeEvents(1, 'Kept'), { expectedVersion: 0 });
    await assert.rejects(store().append(key, makeEvents(1, 'Refused'), { expectedVersion: 0 }));
    await store().append(key, makeEvents(1, 'After'), { expectedVersion: 1 });
    await eventually(() => events.length === 2);
    stop();
    assert.deepEqual(events.map((event) => event.type), ['Kept', 'After']);
  });

  it('stops delivering after unsubscribe', async () => {
    const key = uniqueKey('subscribe');
    const { events, stop } = collect(key);
    const marker = collect(key);
    await store().append(key, makeEvents(1));
    await eventually(() => events.length === 1);
    stop();
    await store().append(key, makeEvents(1));
    await eventually(() => marker.events.length === 2);
    marker.stop();
    assert.equal(events.length, 1);
  });

  it('delivers to every subscriber', async () => {
    const key = uniqueKey('subscribe');
    const first = collect(key);
    const second = collect(key);
    await store().append(key, makeEvents(3));
    await eventually(() => first.events.length === 3 && second.events.length === 3);
    first.stop();
    second.stop();
    assert.deepEqual(first.events, second.events);
  });

  it('reports a failing handler to its onError and keeps the commit and other subscribers', async () => {
    const key = uniqueKey('subscribe');
    const failures: unknown[] = [];
    const stopFailing = store().subscribe(
      (event) => {
        if (event.key === key) throw new Error('handler failed');
      },
      { onError: (error) => failures.push(error) },
    );
    const healthy = collect(key);
    const result = await store().append(key, makeEvents(2));
    await eventually(() => healthy.events.length === 2 && failures.length === 2);
    stopFailing();
    healthy.stop();
    assert.equal(result.version, 2);
    assert.equal(await store().streamVersion(key), 2);
  });

  // The bounds get a store of their own (on the suite's driver, which it never closes), so that only
  // their own commits reach their subscribers.

  it('publishes a stream in sequence order when a commit issued later at a lower base lands first and is answered last', async () => {
    const key = uniqueKey('subscribe');
    const inner = driver();
    let twoStored = () => {};
    const stored = new Promise<void>((resolve) => (twoStored = resolve));
    let laterAnswered = () => {};
    const answered = new Promise<void>((resolve) => (laterAnswered = resolve));
    const own = createStore(wrapDriver(inner, {
      // Events 3-4 (at version 2) are written only once event 2 is stored, and event 2's reply comes after theirs.
      checkSequence: async (at, sequence) => {
        if (at === key && sequence === 2) await stored;
        return inner.checkSequence(at, sequence);
      },
      putEvents: async (events, options) => {
        const first = events[0]!;
        if (first.key === key && first.sequence === 3) await stored;
        await inner.putEvents(events, options);
        if (first.key === key && first.sequence === 2) {
          twoStored();
          await answered;
        }
      },
    }));
    const seen: number[] = [];
    own.subscribe((event) => void (event.key === key && seen.push(event.sequence)));
    await own.append(key, makeEvents(1), { expectedVersion: 0 });
    const later = own.append(key, makeEvents(2, 'Tested', 3), { expectedVersion: 2 });
    const lower = own.append(key, makeEvents(1, 'Tested', 2), { expectedVersion: 1 });
    assert.equal((await later).version, 4);
    laterAnswered();
    assert.equal((await lower).version, 2);
    await own.close();
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  it('drops a subscriber whose backlog a commit would pass, tells it what it missed, and keeps the others', async () => {
    const own = createStore(wrapDriver(driver(), {}));
    const key = uniqueKey('subscribe');
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow: number[] = [];
    const drops: SubscriptionDropped[] = [];
    own.subscribe(
      async (event) => {
        slow.push(event.sequence);
        await held;
      },
      { maxBacklog: 5, onDropped: (dropped) => drops.push(dropped) },
    );
    const everything: number[] = [];
    own.subscribe((event) => void everything.push(event.sequence));

    // Commits of 2: the handler holds event 1; after three commits 2..6 wait (the bound, 5); a fourth would make 7.
    for (let version = 0; version < 10; version += 2) {
      await own.append(key, makeEvents(2, 'Tested', version + 1), { expectedVersion: version });
    }

    assert.deepEqual(drops, [{ reason: 'overflow', undelivered: 7, firstUndelivered: { key, sequence: 2 } }]);
    release();
    await own.close();
    assert.deepEqual(slow, [1]);
    assert.deepEqual(everything, range(1, 10));
  });

  it('closes within closeTimeoutMs despite a handler that never returns, and tells that subscriber what it missed', async () => {
    const closeTimeoutMs = 100;
    const own = createStore(wrapDriver(driver(), {}), { closeTimeoutMs });
    const key = uniqueKey('subscribe');
    const drops: SubscriptionDropped[] = [];
    own.subscribe(() => new Promise<void>(() => {}), { onDropped: (dropped) => drops.push(dropped) });
    await own.append(key, makeEvents(2));

    const started = Date.now();
    const outcome = await closeWithin(own, closeTimeoutMs + 10_000);

    assert.equal(outcome, 'closed');
    // Bounded (the race above), not hung; the margin is for a busy machine's timers.
    assert.ok(Date.now() - started < closeTimeoutMs + 5000, `close took ${Date.now() - started} ms`);
    assert.deepEqual(drops, [{ reason: 'close-timeout', undelivered: 1, firstUndelivered: { key, sequence: 2 } }]);
  });

  // Issue 21 (6): a delivery loop whose handlers all threw synchronously finished before its promise was
  // kept, which then stayed set: close() never settled and the process spun at 100% CPU, no timer firing
  // (so on that code this case never ends: Jest's own timeout is a timer too).
  it('closes despite a subscriber whose handler throws synchronously on every event, and reports each throw', async () => {
    const own = createStore(wrapDriver(driver(), {}));
    const key = uniqueKey('subscribe');
    const errors: number[] = [];
    own.subscribe(() => {
      throw new Error('handler failed');
    }, { onError: (_error, event) => void errors.push(event.sequence) });
    await own.append(key, makeEvents(2));
    const outcome = await closeWithin(own, 20_000);
    assert.equal(outcome, 'closed');
    assert.deepEqual(errors, [1, 2]);
  });
}
