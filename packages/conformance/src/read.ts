import assert from 'node:assert/strict';
import { eventBytes, isValidationError, type ReadOptions } from '@keyvent/core';
import { appendMany, expectError, makeEvents, range, readAll, sequencesOf, uniqueKey, type SuiteContext } from './context.js';

export function readCases(context: SuiteContext): void {
  const { it, store, driver, options, commitSize } = context;
  largeEventCases(context);
  let ten: Promise<string> | undefined;
  /** One 10-event stream shared by the bounded-read cases (they only read it). */
  const tenEvents = () =>
    (ten ??= (async () => {
      const key = uniqueKey('read');
      await store().append(key, makeEvents(10), { expectedVersion: 0 });
      return key;
    })());

  const bounded: [string, ReadOptions, number[]][] = [
    ['reads a whole stream forward', {}, range(1, 10)],
    ['reads forward from a sequence', { from: 4 }, range(4, 10)],
    ['reads forward up to a sequence', { to: 3 }, range(1, 3)],
    ['reads forward between two sequences', { from: 3, to: 7 }, range(3, 7)],
    ['reads a whole stream backward', { direction: 'backward' }, range(1, 10).reverse()],
    ['reads backward between two sequences', { direction: 'backward', from: 8, to: 5 }, [8, 7, 6, 5]],
    ['reads backward from past the head, starting at the head', { direction: 'backward', from: 50, to: 9 }, [10, 9]],
    ['reads nothing forward from past the head', { from: 11 }, []],
    ['reads nothing when from is after to', { from: 6, to: 5 }, []],
    ['reads forward one event per page', { pageSize: 1 }, range(1, 10)],
    ['reads forward when the page size divides the stream exactly', { pageSize: 5 }, range(1, 10)],
    ['reads backward with pages that do not divide the stream', { direction: 'backward', pageSize: 3 }, range(1, 10).reverse()],
  ];
  for (const [title, readOptions, expected] of bounded) {
    it(title, async () => {
      assert.deepEqual(sequencesOf(await readAll(store(), await tenEvents(), readOptions)), expected);
    });
  }

  it('reads nothing from a stream that was never written, either way', async () => {
    const key = uniqueKey('read');
    assert.deepEqual(await readAll(store(), key), []);
    assert.deepEqual(await readAll(store(), key, { direction: 'backward' }), []);
  });

  let long: Promise<string> | undefined;
  const longStream = () =>
    (long ??= (async () => {
      const key = uniqueKey('read-long');
      await appendMany(store(), key, options.longStreamLength, commitSize());
      return key;
    })());
  const length = options.longStreamLength;

  it(`pages forward through a ${length}-event stream without gaps or repeats`, async () => {
    const events = await readAll(store(), await longStream());
    assert.deepEqual(sequencesOf(events), range(1, length));
    assert.ok(events.every((event, i) => (event.data as { n: number }).n === i + 1));
  }, options.timeout * 4);

  it(`pages backward through a ${length}-event stream with an odd page size`, async () => {
    assert.deepEqual(sequencesOf(await readAll(store(), await longStream(), { direction: 'backward', pageSize: 333 })), range(1, length).reverse());
  }, options.timeout * 4);

  it(`reports version ${length} for the ${length}-event stream`, async () => {
    assert.equal(await store().streamVersion(await longStream()), length);
  }, options.timeout * 4);

  it('fetchEvents returns exactly min(limit, remaining) events in order', async () => {
    const key = await tenEvents();
    assert.deepEqual(sequencesOf(await driver().fetchEvents(key, 0, 4)), [1, 2, 3, 4]);
    assert.deepEqual(sequencesOf(await driver().fetchEvents(key, 4, 4)), [5, 6, 7, 8]);
    assert.deepEqual(sequencesOf(await driver().fetchEvents(key, 8, 4)), [9, 10]);
    assert.deepEqual(sequencesOf(await driver().fetchEvents(key, 10, 4)), []);
    assert.deepEqual(sequencesOf(await driver().fetchEvents(key, 0, 10)), range(1, 10));
  });

  it('checkSequence tells which sequences exist', async () => {
    const key = await tenEvents();
    assert.deepEqual(
      await Promise.all([1, 10, 11, 100].map((sequence) => driver().checkSequence(key, sequence))),
      [true, true, false, false],
    );
    assert.equal(await driver().checkSequence(uniqueKey('read'), 1), false);
  });

  const badReads: [string, ReadOptions][] = [
    ['from 0', { from: 0 }],
    ['to -1', { to: -1 }],
    ['pageSize 0', { pageSize: 0 }],
    ['a fractional from', { from: 1.5 }],
    ["direction 'sideways'", { direction: 'sideways' as 'forward' }],
  ];
  for (const [title, readOptions] of badReads) {
    it(`refuses a read with ${title} with a ValidationError`, async () => {
      await expectError(() => readAll(store(), uniqueKey('read'), readOptions), isValidationError, 'a ValidationError');
    });
  }
}

/** Reading events of 2 MiB (or the largest the driver takes): pages bounded in bytes, the stream whole. */
function largeEventCases({ it, store, driver }: SuiteContext): void {
  it('reads events of 2 MiB (or the largest the driver takes) in pages within its byte bound, forward and backward', async () => {
    const { limits = {} } = driver();
    const readPageBytes = 4 * 1024 * 1024;
    const size = Math.min(2 * 1024 * 1024, (limits.maxEventBytes ?? Infinity) - 64, (limits.maxCommitBytes ?? Infinity) - 64);
    const count = Math.ceil(readPageBytes / size) + 2;
    const key = uniqueKey('large');
    for (let i = 1; i <= count; i++) {
      await store().append(key, { type: 'Large', data: `${i}:`.padEnd(size - 24, 'x') }, { expectedVersion: i - 1 });
    }
    const page = await driver().fetchEvents(key, 0, 1000, { maxBytes: readPageBytes });
    const bytes = page.map((event) => eventBytes(event));
    const before = bytes.slice(0, -1).reduce((sum, each) => sum + each, 0);
    assert.ok(page.length >= 1 && page.length < count, `one page read ${page.length} of ${count} events of ${size} bytes`);
    assert.ok(before < readPageBytes, `the page went on past ${readPageBytes} bytes (${before} before its last event)`);
    assert.deepEqual(sequencesOf(page), range(1, page.length));
    const forward = await readAll(store(), key);
    assert.deepEqual(sequencesOf(forward), range(1, count));
    assert.deepEqual(forward.map((event) => (event.data as string).split(':')[0]), range(1, count).map(String));
    assert.deepEqual(sequencesOf(await readAll(store(), key, { direction: 'backward' })), range(1, count).reverse());
  });
}
