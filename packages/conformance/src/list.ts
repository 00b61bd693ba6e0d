import assert from 'node:assert/strict';
import { compareKeys, isValidationError } from '@keyvent/core';
import { expectError, makeEvents, uniqueKey, type SuiteContext } from './context.js';

export function listCases({ it, store }: SuiteContext): void {
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

  it('lists streams without a prefix, from a startAfter', async () => {
    const { prefix, keys } = await streams(['x', 'y']);
    const page = await store().listStreams({ startAfter: prefix, limit: 2 });
    assert.deepEqual(page, keys);
  });

  it('refuses limit 0 with a ValidationError', async () => {
    await expectError(() => store().listStreams({ limit: 0 }), isValidationError, 'a ValidationError');
  });
}
