import assert from 'node:assert/strict';
import { ConcurrencyError, isConcurrencyError, isValidationError, type AppendResult, type StoredEvent } from '@keyvent/core';
import { runTorture } from './torture.js';
import { expectError, makeEvents, readAll, sequencesOf, uniqueKey, type SuiteContext } from './context.js';

/** How long the torture case writes at most. */
const TORTURE_MS = 20_000;

export function concurrencyCases({ it, store, driver, options }: SuiteContext): void {
  const conflict = (action: () => Promise<unknown>) => expectError(action, isConcurrencyError, 'a ConcurrencyError');

  async function streamOf(length: number): Promise<{ key: string; before: StoredEvent[] }> {
    const key = uniqueKey('concurrency');
    if (length > 0) await store().append(key, makeEvents(length), { expectedVersion: 0 });
    return { key, before: await readAll(store(), key) };
  }

  it("'no_stream' appends to a new stream", async () => {
    const { key } = await streamOf(0);
    assert.equal((await store().append(key, makeEvents(2), { expectedVersion: 'no_stream' })).version, 2);
  });

  it("'no_stream' on an existing stream is a ConcurrencyError and writes nothing", async () => {
    const { key, before } = await streamOf(2);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 'no_stream' }));
    assert.equal(error.actualVersion, 2);
    assert.deepEqual(await readAll(store(), key), before);
  });

  it('expected version 0 on an existing stream is a ConcurrencyError', async () => {
    const { key, before } = await streamOf(1);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 0 }));
    assert.equal(error.expectedVersion, 0);
    assert.deepEqual(await readAll(store(), key), before);
  });

  it('appends at the exact current version', async () => {
    const { key } = await streamOf(3);
    const result = await store().append(key, makeEvents(2), { expectedVersion: 3 });
    assert.deepEqual(sequencesOf(result.events), [4, 5]);
  });

  it('a stale version is a ConcurrencyError with the actual version, and writes nothing', async () => {
    const { key, before } = await streamOf(4);
    const error = await conflict(() => store().append(key, makeEvents(2), { expectedVersion: 2 }));
    assert.equal(error.key, key);
    assert.equal(error.expectedVersion, 2);
    assert.equal(error.actualVersion, 4);
    assert.deepEqual(await readAll(store(), key), before);
  });

  it('a version past the head is refused (no gaps) and writes nothing', async () => {
    const { key, before } = await streamOf(2);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 5 }));
    assert.equal(error.actualVersion, 2);
    assert.deepEqual(await readAll(store(), key), before);
    assert.equal(await driver().checkSequence(key, 6), false);
  });

  it('a version past the head of an empty stream is refused and the stream stays empty', async () => {
    const { key } = await streamOf(0);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 3 }));
    assert.equal(error.actualVersion, 0);
    assert.equal(await store().streamVersion(key), 0);
    assert.equal(await driver().checkSequence(key, 4), false);
  });

  it("'exists' appends after the head of an existing stream", async () => {
    const { key } = await streamOf(2);
    assert.deepEqual(sequencesOf((await store().append(key, makeEvents(1), { expectedVersion: 'exists' })).events), [3]);
  });

  it("'exists' on a missing stream is a ConcurrencyError with actual version 0", async () => {
    const { key } = await streamOf(0);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 'exists' }));
    assert.equal(error.actualVersion, 0);
    assert.equal(await store().streamVersion(key), 0);
  });

  it("'any' appends to a new stream", async () => {
    const { key } = await streamOf(0);
    assert.equal((await store().append(key, makeEvents(1), { expectedVersion: 'any' })).version, 1);
  });

  it("'any' appends after the head of an existing stream", async () => {
    const { key } = await streamOf(3);
    assert.deepEqual(sequencesOf((await store().append(key, makeEvents(2), { expectedVersion: 'any' })).events), [4, 5]);
  });

  it("appends with 'any' when no expected version is given", async () => {
    const { key } = await streamOf(2);
    assert.equal((await store().append(key, makeEvents(1))).version, 3);
  });

  it('a ConcurrencyError is typed, named, and says which stream and versions', async () => {
    const { key } = await streamOf(1);
    const error = await conflict(() => store().append(key, makeEvents(1), { expectedVersion: 0 }));
    assert.ok(error instanceof ConcurrencyError);
    assert.equal(error.name, 'ConcurrencyError');
    assert.equal(error.code, 'KEYVENT_CONCURRENCY');
    assert.ok(error.message.includes(key), error.message);
    assert.match(error.message, /expected version 0, actual version 1/);
  });

  for (const [label, base] of [['a new stream', 0], ['an existing stream', 3]] as const) {
    it(`16 concurrent appenders at the same version of ${label}: exactly one wins, the others write nothing`, async () => {
      const { key, before } = await streamOf(base);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, writer) =>
          store().append(key, makeEvents(3, `Writer${writer}`), { expectedVersion: base }),
        ),
      );
      const winners = outcomes.filter((outcome): outcome is PromiseFulfilledResult<AppendResult> => outcome.status === 'fulfilled');
      const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(winners.length, 1);
      assert.ok(losers.every((outcome) => isConcurrencyError((outcome as PromiseRejectedResult).reason)));
      const after = await readAll(store(), key);
      assert.deepEqual(after, [...before, ...winners[0]!.value.events]);
    });
  }

  it('a commit that loses a race leaves none of its events behind', async () => {
    const { key } = await streamOf(0);
    const outcomes = await Promise.allSettled([
      store().append(key, makeEvents(2, 'Short'), { expectedVersion: 0 }),
      store().append(key, makeEvents(7, 'Long'), { expectedVersion: 0 }),
    ]);
    const after = await readAll(store(), key);
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    assert.equal(new Set(after.map((event) => event.type)).size, 1);
    assert.equal(after.length, after[0]!.type === 'Short' ? 2 : 7);
  });

  it("8 concurrent 'any' appenders all succeed with distinct consecutive sequences", async () => {
    const { key } = await streamOf(0);
    const results = await Promise.all(Array.from({ length: 8 }, () => store().append(key, makeEvents(1), { expectedVersion: 'any' })));
    const after = await readAll(store(), key);
    assert.deepEqual(sequencesOf(after), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(results.map((result) => result.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(new Set(after.map((event) => event.id)).size, 8);
  });

  it('putEvents throws ConcurrencyError for an existing sequence and writes nothing', async () => {
    const { key, before } = await streamOf(2);
    const [first] = before;
    const clash = [2, 3].map((sequence) => ({ ...first!, sequence, id: `clash-${sequence}` }));
    await conflict(() => driver().putEvents(clash));
    assert.equal(await driver().checkSequence(key, 3), false);
    assert.deepEqual(await readAll(store(), key), before);
  });

  it('putEvents is all or nothing when only its last sequence exists', async () => {
    const key = uniqueKey('concurrency');
    const template = { key, type: 'T', data: null, id: 'x', timestamp: new Date().toISOString() };
    await driver().putEvents([{ ...template, sequence: 5, id: 'five' }]);
    await conflict(() => driver().putEvents([3, 4, 5].map((sequence) => ({ ...template, sequence, id: `id-${sequence}` }))));
    assert.equal(await driver().checkSequence(key, 3), false);
    assert.equal(await driver().checkSequence(key, 4), false);
    const [five] = await driver().fetchEvents(key, 0, 10);
    assert.equal(five?.id, 'five');
  });

  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, 'latest', null]) {
    it(`refuses expectedVersion ${String(bad)} with a ValidationError before writing`, async () => {
      const key = uniqueKey('concurrency');
      const error = await expectError(
        () => store().append(key, makeEvents(1), { expectedVersion: bad as never }),
        isValidationError,
        'a ValidationError',
      );
      assert.equal(error.path, 'expectedVersion');
      assert.equal(await store().streamVersion(key), 0);
    });
  }

  // Bounded by time, not by work: on a busy machine (or a Paxos round per append on a cluster) 32 racing
  // writers reach fewer appends, and the case checks the same invariants on whatever they reached.
  it(`torture: 32 writers at exact versions on 4 streams keep every stream whole (at most ${TORTURE_MS / 1000} s of writing)`, async () => {
    const report = await runTorture(store(), { writers: 32, streams: 4, appendsPerWriter: 4, signal: AbortSignal.timeout(TORTURE_MS), keyPrefix: 'conformance/torture' });
    console.info(`torture: ${report.appends} appends acknowledged of 128 due, ${report.conflicts} refused, ${report.failures} failed, in ${(report.durationMs / 1000).toFixed(1)} s`);
    assert.deepEqual(report.problems, []);
    assert.ok(report.appends > 0 && report.appends <= 128, `${report.appends} appends acknowledged`);
    assert.equal(report.storedEvents, report.acknowledgedEvents);
    assert.ok(report.conflicts > 0, 'the writers raced (otherwise the case proves nothing)');
  }, TORTURE_MS + 4 * options.timeout);
}
