import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareKeys, isConcurrencyError, isValidationError, type StoredEvent } from '@keyvent/core';
import { expectError, makeEvents, uniqueKey, type SuiteContext } from './context.js';

export function listCases({ it, store, driver }: SuiteContext): void {
  /** Every key under a prefix, paged `limit` at a time; fails on a key out of order or seen twice. */
  async function listAll(prefix: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    for (let page = await store().listStreams({ prefix, limit }); page.length > 0; ) {
      for (const key of page) {
        const last = seen[seen.length - 1];
        assert.ok(last === undefined || compareKeys(last, key) < 0, `listed ${JSON.stringify(key)} after ${JSON.stringify(last)}`);
        seen.push(key);
      }
      page = await store().listStreams({ prefix, limit, startAfter: page[page.length - 1]! });
    }
    return seen;
  }

  /** Creates one stream per suffix under a fresh prefix; returns the prefix and the keys in code point order. */
  async function streams(suffixes: string[]): Promise<{ prefix: string; keys: string[] }> {
    const prefix = `${uniqueKey('list')}/`;
    const keys = suffixes.map((suffix) => prefix + suffix);
    for (const key of keys) await store().append(key, makeEvents(1), { expectedVersion: 0 });
    return { prefix, keys: [...keys].sort(compareKeys) };
  }

  const mixed = ['b', 'a', 'a/b', 'A', 'ä', 'z', '~', '😀', '\uffee', 'a b', '0'];

  it('lists the streams under a prefix in code point order', async () => {
    const { prefix, keys } = await streams(mixed);
    assert.deepEqual(await store().listStreams({ prefix }), keys);
  });

  it('orders keys above U+FFFF after those below it (code point, not UTF-16, order)', async () => {
    const { prefix } = await streams(['😀', '\uffee']);
    assert.deepEqual(await store().listStreams({ prefix }), [`${prefix}\uffee`, `${prefix}😀`]);
  });

  it('pages with startAfter, each stream exactly once, in order', async () => {
    const { prefix, keys } = await streams(mixed);
    const seen: string[] = [];
    for (let page = await store().listStreams({ prefix, limit: 3 }); page.length > 0; ) {
      assert.ok(page.length <= 3);
      assert.ok(seen.length < keys.length, `paging did not end: ${JSON.stringify(seen)}`);
      seen.push(...page);
      page = await store().listStreams({ prefix, limit: 3, startAfter: page[page.length - 1]! });
    }
    assert.deepEqual(seen, keys);
  });

  it('returns at most limit keys', async () => {
    const { prefix, keys } = await streams(['1', '2', '3', '4', '5']);
    assert.deepEqual(await store().listStreams({ prefix, limit: 2 }), keys.slice(0, 2));
  });

  it('returns nothing for a prefix no stream has', async () => {
    assert.deepEqual(await store().listStreams({ prefix: `${uniqueKey('list')}/none/` }), []);
  });

  it('returns nothing after the last key under the prefix', async () => {
    const { prefix, keys } = await streams(['a', 'b']);
    assert.deepEqual(await store().listStreams({ prefix, startAfter: keys[1]! }), []);
  });

  it('starts at the prefix when startAfter sorts before it', async () => {
    const { prefix, keys } = await streams(['a', 'b']);
    assert.deepEqual(await store().listStreams({ prefix, startAfter: prefix.slice(0, -1) }), keys);
  });

  it('lists a stream once however many commits it has', async () => {
    const { prefix, keys } = await streams(['many']);
    await store().append(keys[0]!, makeEvents(3));
    await store().append(keys[0]!, makeEvents(3));
    assert.deepEqual(await store().listStreams({ prefix }), keys);
  });

  it('does not list a stream whose only commit was refused', async () => {
    const { prefix, keys } = await streams(['kept']);
    await assert.rejects(store().append(`${prefix}refused`, makeEvents(1), { expectedVersion: 4 }));
    assert.deepEqual(await store().listStreams({ prefix }), keys);
  });

  it('never lists a stream whose first commit reached the backend and failed', async () => {
    const { prefix, keys } = await streams(['kept']);
    const key = `${prefix}failed`;
    const events: StoredEvent[] = makeEvents(2).map((event, i) => ({ ...event, key, sequence: i + 1, id: `${key}#${i}`, timestamp: new Date().toISOString() }));
    // A prior check at sequence 0, which no stream has: the backend refuses the commit, after any claim the driver writes first.
    await expectError(() => driver().putEvents(events, { checkPrior: true }), isConcurrencyError, 'a ConcurrencyError');
    await sleep(driver().listingDelayMs ?? 0);
    assert.deepEqual(await store().listStreams({ prefix }), keys);
    assert.deepEqual(await listAll(prefix, 1), keys);
  });

  it('lists while streams are created: in order, each key once, and every stream once the listing delay has passed', async () => {
    const prefix = `${uniqueKey('list')}/`;
    const key = (i: number) => `${prefix}${String((i * 7919) % 1000).padStart(3, '0')}`;
    const before = Array.from({ length: 20 }, (_, i) => key(i));
    await Promise.all(before.map((stream) => store().append(stream, makeEvents(1), { expectedVersion: 0 })));
    await sleep(driver().listingDelayMs ?? 0);
    const during = Array.from({ length: 60 }, (_, i) => key(20 + i));
    const created = (async () => {
      for (let i = 0; i < during.length; i += 6) {
        await Promise.all(during.slice(i, i + 6).map((stream) => store().append(stream, makeEvents(1), { expectedVersion: 0 })));
      }
    })();
    const listings: string[][] = [];
    let writing = true;
    void created.finally(() => (writing = false));
    while (writing) listings.push(await listAll(prefix, 7));
    await created;
    for (const listing of listings) {
      // Every stream that was there before, and nothing that was never created.
      assert.deepEqual(before.filter((stream) => !listing.includes(stream)), [], 'a stream created before the listing is missing');
      assert.deepEqual(listing.filter((stream) => !before.includes(stream) && !during.includes(stream)), []);
    }
    await sleep(driver().listingDelayMs ?? 0);
    assert.deepEqual(await listAll(prefix, 7), [...before, ...during].sort(compareKeys));
  });

  it('lists none of keyvent\'s own streams (snapshots), and fills a page past them', async () => {
    const id = uniqueKey('list');
    // In code point order: `$snapshot#…` (internal), `$snapshot.…` (a domain stream), `$snapshot/…` (internal), `$snapshot0…` (a domain stream).
    const internal = [`$snapshot#${id}`, `$snapshot/${id}/1`, `$snapshot/${id}/2`];
    const domain = [`$snapshot.${id}`, `$snapshot0${id}`];
    for (const key of [...internal, ...domain]) await store().append(key, makeEvents(1), { expectedVersion: 0 });
    await sleep(driver().listingDelayMs ?? 0);
    assert.equal(await store().streamVersion(internal[1]!), 1, 'the snapshot stream is stored');
    const listed = await listAll('$snapshot', 2);
    assert.deepEqual(listed.filter((key) => key.includes(id)), domain);
    assert.ok(listed.every((key) => !key.startsWith('$snapshot/') && !key.startsWith('$snapshot#')), `listed ${listed.join(', ')}`);
    // The page after the first domain stream holds the second, although the snapshot streams come between.
    assert.deepEqual(await store().listStreams({ prefix: '$snapshot', startAfter: domain[0]!, limit: 1 }), [domain[1]]);
  });

  it('lists streams without a prefix, from a startAfter', async () => {
    const { prefix, keys } = await streams(['x', 'y']);
    const page = await store().listStreams({ startAfter: prefix, limit: 2 });
    assert.deepEqual(page, keys);
  });

  it('refuses limit 0 with a ValidationError', async () => {
    await expectError(() => store().listStreams({ limit: 0 }), isValidationError, 'a ValidationError');
  });
}
