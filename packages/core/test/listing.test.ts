import { describe, expect, it } from '@jest/globals';
import { compareKeys, createMemoryDriver, createStore, directoryShardOf, listShardedKeys, prefixEnd, type ShardReader } from '@keyvent/core';

/** A directory of `shards` sorted shards in memory, and a reader that counts what it is asked for. */
function directory(keys: string[], shards: number) {
  const byShard = Array.from({ length: shards }, () => [] as string[]);
  for (const key of keys) byShard[directoryShardOf(key, shards)]!.push(key);
  for (const shard of byShard) shard.sort(compareKeys);
  const stats = { requests: 0, keysRead: 0 };
  const read: ShardReader = async (shard, { prefix, after }, limit) => {
    stats.requests++;
    const from = byShard[shard]!.filter((key) => key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0));
    const keys = from.slice(0, limit);
    stats.keysRead += keys.length;
    return { keys, next: from.length > limit ? keys[keys.length - 1] : undefined };
  };
  return { read, stats };
}

const keys = Array.from({ length: 5000 }, (_, i) => `${['orders', 'carts', 'users'][i % 3]}/${(i * 7919) % 100_000}`);
const sorted = [...keys].sort(compareKeys);

describe('listing a sharded directory', () => {
  it('pages through every key once, in code point order, from an exclusive cursor', async () => {
    const { read } = directory(keys, 16);
    const seen: string[] = [];
    for (let page = await listShardedKeys(16, read, { limit: 333 }); page.length > 0; ) {
      seen.push(...page);
      page = await listShardedKeys(16, read, { limit: 333, startAfter: page[page.length - 1] });
    }
    expect(seen).toEqual(sorted);
  });

  it('costs about one request per shard and the page, not the number of keys', async () => {
    const { read, stats } = directory(keys, 16);
    const page = await listShardedKeys(16, read, { startAfter: sorted[2000], limit: 1000 });
    expect(page).toEqual(sorted.slice(2001, 3001));
    expect(stats.requests).toBeLessThanOrEqual(20);
    expect(stats.keysRead).toBeLessThanOrEqual(1000 + 16 * 24);
  });

  it('lists under a prefix, and nothing once the cursor is past it', async () => {
    const { read, stats } = directory(keys, 64);
    expect(await listShardedKeys(64, read, { prefix: 'orders/', limit: 10 })).toEqual(sorted.filter((key) => key.startsWith('orders/')).slice(0, 10));
    expect(stats.requests).toBe(64);
    expect(await listShardedKeys(64, read, { prefix: 'carts/', startAfter: 'orders/', limit: 10 })).toEqual([]);
    expect(await listShardedKeys(64, read, { prefix: 'orders/', startAfter: 'carts/', limit: 3 })).toEqual(sorted.filter((key) => key.startsWith('orders/')).slice(0, 3));
  });

  it('goes on past a shard read that listed none of what it read', async () => {
    // A shard whose entries are all pending (not yet listed) still says where it got to.
    const read: ShardReader = async (shard, { after }) =>
      shard === 0 && after === undefined ? { keys: [], next: 'a' } : { keys: shard === 0 ? ['b'] : [], next: undefined };
    expect(await listShardedKeys(4, read, { limit: 5 })).toEqual(['b']);
  });
});

describe('prefixEnd', () => {
  it('is the least string after every string with the prefix, in code point order', () => {
    expect(prefixEnd('orders/')).toBe('orders0');
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('\u{10ffff}')).toBeUndefined();
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000');
    for (const key of ['a\uffff', 'a😀', 'a\u{10ffff}z']) expect(compareKeys(key, prefixEnd('a')!)).toBeLessThan(0);
  });
});

describe('listing on the memory driver', () => {
  it('lists under a prefix from a cursor that sorts before the prefix, and from one inside it', async () => {
    const store = createStore(createMemoryDriver());
    for (const key of ['a1', 'a2', 'b1', 'b2', 'c1']) await store.append(key, { type: 'T', data: null });
    await expect(store.listStreams({ prefix: 'b', startAfter: 'a1' })).resolves.toEqual(['b1', 'b2']);
    await expect(store.listStreams({ prefix: 'b', startAfter: 'b1' })).resolves.toEqual(['b2']);
    await expect(store.listStreams({ prefix: 'b', startAfter: 'b2' })).resolves.toEqual([]);
  });
});
