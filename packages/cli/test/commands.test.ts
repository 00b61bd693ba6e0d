import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startBackend } from '@keyvent/testing';
import { createProgram } from '../src/program.js';
import { UsageError } from '../src/store-url.js';

const root = mkdtempSync(join(tmpdir(), 'keyvent-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function keyvent(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await createProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'keyvent', ...args]);
  return lines;
}

describe('keyvent commands on a LevelDB store', () => {
  const store = `level:${join(root, 'store')}`;

  it('appends, reads (table and JSON, both directions) and lists', async () => {
    expect(await keyvent('append', 'cart-1', 'ItemAdded', '{"sku":"A1"}', '-s', store, '-e', 'no_stream')).toEqual(['appended cart-1#1 (ItemAdded)']);
    await keyvent('append', 'cart-1', 'ItemAdded', '{"sku":"B2"}', '-s', store, '-e', '1', '-m', '{"correlationId":"c-1"}');
    await keyvent('append', 'cart-2', 'CartOpened', 'null', '-s', store);

    const table = await keyvent('read', 'cart-1', '-s', store);
    expect(table).toHaveLength(2);
    expect(table[0]).toMatch(/^\s+1  ItemAdded\s+\d{4}-\d\d-\d\dT[\d:.]+Z  \{"sku":"A1"\}$/);

    const events = (await keyvent('read', 'cart-1', '-s', store, '--json', '--backward')).map((line) => JSON.parse(line));
    expect(events.map((event) => [event.sequence, event.data])).toEqual([[2, { sku: 'B2' }], [1, { sku: 'A1' }]]);
    expect(events[0].metadata).toEqual({ correlationId: 'c-1' });

    expect(await keyvent('streams', '-s', store)).toEqual(['cart-1', 'cart-2']);
    expect(await keyvent('streams', '-s', store, '--prefix', 'cart-', '--after', 'cart-1')).toEqual(['cart-2']);
  });

  it('refuses a stale append with the ConcurrencyError and writes nothing', async () => {
    await expect(keyvent('append', 'cart-1', 'Late', '{}', '-s', store, '-e', '0')).rejects.toMatchObject({ code: 'KEYVENT_CONCURRENCY', actualVersion: 2 });
    expect(await keyvent('read', 'cart-1', '-s', store)).toHaveLength(2);
  });

  it('says what is wrong with bad input, as a UsageError', async () => {
    await expect(keyvent('append', 'k', 'T', '{bad', '-s', store)).rejects.toThrow(new UsageError("<data> is not valid JSON: Expected property name or '}' in JSON at position 1"));
    await expect(keyvent('streams', '-s', 'postgres://x')).rejects.toThrow(/"postgres:\/\/x" is not a store URL\nStores are named by URL:/);
    await expect(keyvent('streams', '-s', 'level:')).rejects.toThrow('level: needs a directory, e.g. level:./data');
  });
});

describe('keyvent on DynamoDB Local, by URL', () => {
  it('tails a stream: prints what another writer appends, then stops at --limit', async () => {
    const backend = await startBackend('dynamodb');
    try {
      const store = `dynamodb://${new URL(backend.connection.endpoint).host}/cli-tail`;
      await keyvent('append', 'orders', 'Placed', '{"n":1}', '-s', store);
      const tail = keyvent('tail', 'orders', '-s', store, '--interval', '20', '--limit', '2', '--json');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await keyvent('append', 'orders', 'Placed', '{"n":2}', '-s', store);
      await keyvent('append', 'orders', 'Placed', '{"n":3}', '-s', store);
      const lines = (await tail).map((line) => JSON.parse(line));
      expect(lines.map((event) => [event.sequence, event.data.n])).toEqual([[2, 2], [3, 3]]);
    } finally {
      await backend.stop();
    }
  }, 60_000);
});
