import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { createConsumer, sliceOf, type FeedEvent } from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';
import { startBackend, type RunningBackend } from '@keyvent/testing';
import { CopyError } from '../src/copy.js';
import { UsageError } from '../src/errors.js';
import { describeFailure } from '../src/failure.js';
import { createProgram } from '../src/program.js';
import { openStore } from '../src/store-url.js';
import { keyventProcess } from './keyvent-process.js';

const root = mkdtempSync(join(tmpdir(), 'keyvent-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function keyvent(...args: string[]): Promise<string[]> {
  return keyventWithStdin(Readable.from([]), ...args);
}

async function keyventWithStdin(stdin: Readable, ...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await createProgram((line) => lines.push(line), stdin).exitOverride().parseAsync(['node', 'keyvent', ...args]);
  return lines;
}

/** Waits until `done` holds (polling every 20 ms), failing after `ms`. */
async function waitFor(done: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms in vain`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` stream keys `<prefix>-<n>` whose slices are in `[from, to]`. */
function keysInSlices(prefix: string, [from, to]: [number, number], count: number): string[] {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) if (sliceOf(`${prefix}-${n}`) >= from && sliceOf(`${prefix}-${n}`) <= to) keys.push(`${prefix}-${n}`);
  return keys;
}

/** The message of the error `keyvent …` fails with, as the command prints it. */
async function failureText(...args: string[]): Promise<string> {
  const error = await keyvent(...args).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeDefined();
  return describeFailure(error).text;
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

  it('bench --quick runs every workload on the store and prints the table', async () => {
    const lines = await keyvent('bench', '--quick', '-s', `level:${join(root, 'bench')}`);
    const rows = lines.filter((line) => line.startsWith('| ') && !line.startsWith('| workload'));
    expect(rows.map((row) => row.split(' | ').slice(0, 2).join(' | '))).toEqual([
      '| single-event appends, new streams | keyvent',
      "| 10-event commits at the caller's version | keyvent",
      '| 4 writers racing on one stream | keyvent',
      '| load a 500-event stream | keyvent',
      '| list 200 streams | keyvent',
      '| load a 2,000-event aggregate | keyvent, no snapshots',
      '| load a 2,000-event aggregate | keyvent, first load (takes the snapshot)',
      '| load a 2,000-event aggregate | keyvent, from the snapshot',
    ]);
    for (const row of rows) expect(Number(row.split(' | ')[3]!.replaceAll(',', ''))).toBeGreaterThan(0);
  }, 60_000);

  it('append - takes the data from stdin: 200 KB of JSON, more than a command line holds', async () => {
    const data = { items: Array.from({ length: 2000 }, (_, i) => ({ sku: `sku-${i}`, note: 'x'.repeat(80), amount: i })) };
    const json = JSON.stringify(data);
    expect(json.length).toBeGreaterThan(200_000);
    // Through a real pipe: the stdout of `cat`.
    const file = join(root, 'big.json');
    writeFileSync(file, json);
    const cat = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    expect(await keyventWithStdin(cat.stdout, 'append', 'big-1', 'Imported', '-', '-s', store)).toEqual(['appended big-1#1 (Imported)']);
    const [event] = (await keyvent('read', 'big-1', '-s', store, '--json')).map((line) => JSON.parse(line));
    expect(event.data).toEqual(data);
  });

  it('append - refuses stdin that is not UTF-8 (it was stored with U+FFFD), and decodes a character split across chunks', async () => {
    const latin1 = Readable.from([Buffer.from('{"city":"Z'), Buffer.from([0xfc]), Buffer.from('rich"}')]);
    const error = await keyventWithStdin(latin1, 'append', 'utf8-1', 'T', '-', '-s', store).catch((caught: unknown) => caught);
    expect(error).toEqual(new UsageError('stdin is not valid UTF-8 (append … - reads JSON text in UTF-8)'));
    expect(describeFailure(error).exitCode).toBe(2);
    await expect(keyvent('read', 'utf8-1', '-s', store)).rejects.toThrow('does not exist');

    const bytes = Buffer.from('{"city":"Zürich"}');
    const split = bytes.indexOf(0xc3) + 1;
    expect(await keyventWithStdin(Readable.from([bytes.subarray(0, split), bytes.subarray(split)]), 'append', 'utf8-2', 'T', '-', '-s', store)).toEqual(['appended utf8-2#1 (T)']);
    const [event] = (await keyvent('read', 'utf8-2', '-s', store, '--json')).map((line) => JSON.parse(line));
    expect(event.data).toEqual({ city: 'Zürich' });
  });

  it('append - stops reading stdin past 16 MiB: a usage error that says the limit', async () => {
    const MiB = 1024 * 1024;
    let pulled = 0;
    // 64 MiB of one JSON string, offered 1 MiB at a time.
    const huge = Readable.from(
      (function* () {
        for (; pulled < 64; pulled++) yield Buffer.from(pulled === 0 ? `"${'x'.repeat(MiB - 1)}` : pulled === 63 ? `${'x'.repeat(MiB - 1)}"` : 'x'.repeat(MiB));
      })(),
    );
    const error = await keyventWithStdin(huge, 'append', 'huge-1', 'T', '-', '-s', 'memory:').catch((caught: unknown) => caught);
    expect(error).toEqual(new UsageError('stdin holds more than 16 MiB (16777216 bytes), the most append … - reads'));
    expect(pulled).toBeLessThan(40);
  });

  it('the commands that only read create nothing: a missing LevelDB directory is one line naming it', async () => {
    const missing = join(root, 'typo-dir');
    const line = `keyvent: [level] no LevelDB store in ${JSON.stringify(missing)}; this command creates nothing: create it with createLevelDriver({ location }) from @keyvent/level, or append to it or copy into it with keyvent`;
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1'], ['tail', '--all', '--limit', '1'], ['consumers']]) {
      expect(await failureText(...args, '-s', `level:${missing}`)).toBe(line);
    }
    const target = join(root, 'copy-target-never-made');
    expect(await failureText('copy', `level:${missing}`, `level:${target}`, '--no-progress')).toBe(line);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(target)).toBe(false);
    // A directory that holds no LevelDB database is refused too, and left as it is.
    expect(await failureText('streams', '-s', `level:${root}`)).toContain(`no LevelDB store in ${JSON.stringify(root)}`);
    expect(existsSync(join(root, 'LOCK'))).toBe(false);
  });

  it('says what is wrong with bad input, as a UsageError', async () => {
    // The parser's own words differ between V8 versions (Node 24 adds "(line 1 column 2)"): match the start.
    const badJson = await keyvent('append', 'k', 'T', '{bad', '-s', store).catch((error: unknown) => error);
    expect(badJson).toBeInstanceOf(UsageError);
    expect((badJson as Error).message).toMatch(/^<data> is not valid JSON: Expected property name or '}' in JSON at position 1/);
    await expect(keyvent('streams', '-s', 'postgres://x')).rejects.toThrow(/"postgres:\/\/x" is not a store URL\nStores are named by URL:/);
    await expect(keyvent('streams', '-s', 'level:')).rejects.toThrow('level: needs a directory, e.g. level:./data');
  });
});

describe('keyvent tail --all and consumers on a LevelDB store (the change feed)', () => {
  const location = join(root, 'feed');
  const store = `level:${location}`;
  const low = keysInSlices('low', [0, 511], 3);
  const high = keysInSlices('high', [512, 1023], 3);

  beforeAll(async () => {
    // One commit per line, in this order: low-a#1, high-a#1, low-b#1, high-b#1, low-a#2, ...
    for (let i = 0; i < 3; i++) {
      await keyvent('append', low[i]!, 'Opened', `{"i":${i}}`, '-s', store);
      await keyvent('append', high[i]!, 'Opened', `{"i":${i}}`, '-s', store);
    }
    await keyvent('append', low[0]!, 'Closed', '{}', '-s', store);
  });

  it('tail --all --from start prints the events of every stream in commit order, the key first, and stops at --limit (at once, whatever the --interval)', async () => {
    const started = Date.now();
    const lines = await keyvent('tail', '--all', '--from', 'start', '--limit', '3', '--interval', '3600000', '-s', store);
    // Not the hour of --interval (the margin is for a busy machine).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => line.split(/\s+/).slice(0, 3))).toEqual([[low[0], '1', 'Opened'], [high[0], '1', 'Opened'], [low[1], '1', 'Opened']]);
    expect(lines[0]).toMatch(new RegExp(`^${low[0]}\\s+1  Opened\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  \\{"i":0\\}$`));
  });

  it('tail --all --slices keeps the streams of its slices; --json adds the position, increasing', async () => {
    const events = (await keyvent('tail', '--all', '--from', 'start', '--slices', '0-511', '--limit', '4', '--json', '-s', store)).map((line) => JSON.parse(line) as FeedEvent);
    expect(events.map((event) => `${event.key}#${event.sequence}`)).toEqual([`${low[0]}#1`, `${low[1]}#1`, `${low[2]}#1`, `${low[0]}#2`]);
    for (const event of events) expect(event).toMatchObject({ type: expect.any(String), id: expect.any(String), timestamp: expect.any(String), position: expect.stringMatching(/^[0-9a-f]{44}$/) });
    expect(events.map((event) => event.position)).toEqual(events.map((event) => event.position).sort());
  });

  it('tail --all (from the end by default) and tail <key> stop cleanly on SIGINT and SIGTERM: exit 0, store closed, no listener left', async () => {
    for (const [signal, args] of [['SIGINT', ['tail', '--all']], ['SIGTERM', ['tail', '--all', '--from', 'start']], ['SIGINT', ['tail', low[0]!, '--from', '1']]] as const) {
      const lines: string[] = [];
      const started = Date.now();
      const run = createProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'keyvent', ...args, '--interval', '3600000', '-s', store]);
      await waitFor(() => process.listenerCount(signal) > 0);
      await sleep(200);
      process.emit(signal, signal);
      await run;
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(0);
      // From the end, nothing was appended: nothing printed; from the start, the 7 events; tail <key> --from 1, the 2 of low-a.
      expect(lines).toHaveLength(args.length === 2 ? 0 : args[1] === '--all' ? 7 : 2);
      // Closed: LevelDB refuses a second open of a directory in one process.
      const again = await openStore(store, { create: false });
      await again.close();
    }
  });

  it('a usage error (exit 2) for a key with --all, neither, a --from or --slices of the other form, and a bad range; nothing opened', async () => {
    const missing = `level:${join(root, 'tail-usage-never-made')}`;
    for (const [args, message] of [
      [['tail', 'k', '--all'], 'tail takes a <key> or --all, not both (got "k" and --all)'],
      [['tail'], 'tail needs a <key> (one stream) or --all (every stream)'],
      [['tail', 'k', '--from', 'start'], 'tail <key> --from takes a sequence; --from start is for tail --all'],
      [['tail', '--all', '--from', '3'], 'tail --all --from takes start or end, not a sequence (3): sequences number the events of one stream'],
      [['tail', 'k', '--slices', '0-9'], '--slices is for tail --all (tail <key> follows one stream)'],
    ] as const) {
      const error = await keyvent(...args, '-s', missing).catch((caught: unknown) => caught);
      expect(error).toEqual(new UsageError(message));
      expect(describeFailure(error).exitCode).toBe(2);
    }
    for (const range of ['512-511', '0-1024', '7', 'a-b', '-1-3']) {
      expect(await keyventProcess(['tail', '--all', '--slices', range, '-s', missing])).toMatchObject({
        exitCode: 2,
        stdout: '',
        stderr: expect.stringContaining(`${range} is not a slice range: use FROM-TO, whole numbers with 0 <= FROM <= TO <= 1023, e.g. 0-511\n`),
      });
    }
    expect(existsSync(join(root, 'tail-usage-never-made'))).toBe(false);
  });

  it('consumers lists each checkpoint row: consumer, range, worker, lease, settled commit, commits behind, records; --json every field', async () => {
    // A consumer split in two ranges, run until it handled everything, then stopped (its lease released).
    const opened = await openStore(store, { create: false });
    const handled: FeedEvent[] = [];
    const workers = ([[0, 511], [512, 1023]] as const).map((slices, i) =>
      createConsumer(opened, { name: 'projector', slices, worker: `w-${i + 1}`, pollMs: 20, handler: (events) => void handled.push(...events) }),
    );
    await waitFor(() => handled.length === 7);
    await Promise.all(workers.map((worker) => worker.stop()));
    await opened.close();
    await keyvent('append', high[0]!, 'Closed', '{}', '-s', store);

    // Rows written by hand: a lease still held with records (as a worker that is running or was killed leaves it), and a row of another format.
    const driver = createLevelDriver({ location });
    const until = Date.now() + 60_000;
    expect(await driver.feed!.saveCheckpoint('held#0-1023', JSON.stringify({ v: 1, ps: '', pl: '', r: [['0123456789abcdef', 3, 1], ['fedcba9876543210', 1, 2]], worker: 'w-9', until }), 1)).toBe(true);
    expect(await driver.feed!.saveCheckpoint('odd#0-9', '{"v":2}', 1)).toBe(true);
    await driver.close();

    const table = await keyvent('consumers', '-s', store);
    // What is left of the lease: at most 60 s, less what the rows and the command took (not a speed: a bracket).
    const left = Number(/^(\d+\.\d)s left$/.exec(table[1]!.split(/\s{2,}/)[3]!)?.[1]);
    expect(left).toBeLessThanOrEqual(60);
    expect(left).toBeGreaterThanOrEqual((until - Date.now()) / 1000 - 0.1);
    expect(table[0]).toMatch(/^CONSUMER\s+SLICES\s+WORKER\s+LEASE\s+SETTLED\s+LAG\s+RECORDS$/);
    expect(table.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      ['held', '0-1023', 'w-9', expect.stringMatching(/^\d+\.\ds left$/), 'commit 0', '8 commits', '2'],
      ['odd', '0-9', '?', '?', 'not a checkpoint this version of keyvent reads', '?', '?'],
      ['projector', '0-511', 'w-1', 'released', 'commit 7', '1 commits', expect.stringMatching(/^\d$/)],
      ['projector', '512-1023', 'w-2', 'released', 'commit 7', '1 commits', expect.stringMatching(/^\d$/)],
    ]);

    const rows = (await keyvent('consumers', '-s', store, '--json')).map((line) => JSON.parse(line));
    expect(rows.map((row) => row.name)).toEqual(['held#0-1023', 'odd#0-9', 'projector#0-511', 'projector#512-1023']);
    expect(rows[0]).toEqual({
      name: 'held#0-1023',
      consumer: 'held',
      slices: [0, 1023],
      worker: 'w-9',
      lease: 'held',
      leaseUntil: new Date(until).toISOString(),
      leaseLeftMs: expect.any(Number),
      settledPosition: '',
      settledAt: null,
      settledCommit: 0,
      livePosition: '',
      liveAt: null,
      lagMs: null,
      commitsBehind: 8,
      records: 2,
      version: 1,
    });
    expect(rows[1]).toMatchObject({ consumer: 'odd', slices: [0, 9], error: 'not a checkpoint this version of keyvent reads', version: 1 });
    expect(rows[2]).toMatchObject({ consumer: 'projector', slices: [0, 511], worker: 'w-1', lease: 'released', leaseUntil: null, leaseLeftMs: 0, settledCommit: 7, commitsBehind: 1 });
    expect(rows[2].settledPosition).toMatch(/^0000000000000[0-9a-f]{31}$/);
  });

  it('consumers and tail --all on a driver without a change feed: one line, exit 1', async () => {
    jest.doMock('@keyvent/level', () => {
      const real = jest.requireActual<typeof import('@keyvent/level')>('@keyvent/level');
      return { ...real, createLevelDriver: (...args: Parameters<typeof real.createLevelDriver>) => ({ ...real.createLevelDriver(...args), feed: undefined }) };
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await jest.isolateModulesAsync(async () => {
        const { runKeyvent } = await import('../src/run-keyvent.js');
        for (const args of [['consumers'], ['tail', '--all', '--limit', '1']]) {
          expect(await runKeyvent(['node', 'keyvent', ...args, '-s', store])).toBe(1);
        }
      });
      expect(stderr.mock.calls.map(([text]) => String(text))).toEqual(Array(2).fill('keyvent: [level] the driver does not support the change feed (feed)\n'));
    } finally {
      stderr.mockRestore();
      jest.dontMock('@keyvent/level');
    }
  });
});

describe('keyvent on DynamoDB Local, by URL', () => {
  let backend: RunningBackend<'dynamodb'>;
  beforeAll(async () => {
    backend = await startBackend('dynamodb');
  }, 60_000);
  afterAll(() => backend?.stop());
  const dynamodb = (table: string) => `dynamodb://${new URL(backend.connection.endpoint).host}/${table}`;

  it('the commands that only read create no table: a missing one is one line naming createDynamoDbTable', async () => {
    const host = new URL(backend.connection.endpoint).host;
    const line = `keyvent: [dynamodb] no table "cli-typo-table" at ${host}; this command creates nothing: create it with createDynamoDbTable(client, "cli-typo-table") from @keyvent/dynamodb, or append to it or copy into it with keyvent`;
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1'], ['tail', '--all', '--limit', '1'], ['consumers']]) {
      expect(await failureText(...args, '-s', dynamodb('cli-typo-table'))).toBe(line);
    }
    expect(await failureText('copy', dynamodb('cli-typo-table'), dynamodb('cli-typo-target'), '--no-progress')).toBe(line);
    const client = new DynamoDBClient(backend.connection);
    try {
      for (const table of ['cli-typo-table', 'cli-typo-target']) {
        await expect(client.send(new DescribeTableCommand({ TableName: table }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      }
    } finally {
      client.destroy();
    }
    // append creates it.
    expect(await keyvent('append', 'k', 'T', '1', '-s', dynamodb('cli-typo-table'))).toEqual(['appended k#1 (T)']);
    expect(await keyvent('streams', '-s', dynamodb('cli-typo-table'))).toEqual(['k']);
  }, 60_000);

  it('copies a LevelDB store to DynamoDB with ids and timestamps, resumes, and verifies', async () => {
    const source = `level:${join(root, 'copy-source')}`;
    const target = dynamodb('cli-copy');
    const level = await openStore(source);
    for (let s = 0; s < 20; s++) {
      for (let version = 0; version < 30; version += 6) {
        await level.append(`acct/${s}`, Array.from({ length: 6 }, (_, i) => ({ type: 'Deposited', data: { n: version + i } })), { expectedVersion: version });
      }
    }
    const original = [];
    for await (const event of level.readStream('acct/7')) original.push(event);
    await level.close();

    // A copy interrupted after part of one stream: the target already holds its first commit.
    const partial = await openStore(target);
    await partial.importEvents('acct/7', original.slice(0, 6));
    await partial.close();

    const lines = await keyvent('copy', source, target, '--no-progress');
    expect(lines).toEqual(['copied 594 events of 20 streams (6 already in the target)', 'verified: 20 streams, 600 events; counts and SHA-256 checksums match']);
    const copied = (await keyvent('read', 'acct/7', '-s', target, '--json')).map((line) => JSON.parse(line));
    expect(copied).toEqual(JSON.parse(JSON.stringify(original)));

    expect(await keyvent('copy', source, target, '--no-progress')).toEqual([
      'copied 0 events of 20 streams (600 already in the target)',
      'verified: 20 streams, 600 events; counts and SHA-256 checksums match',
    ]);
  }, 60_000);

  it('refuses to copy onto a stream that has other events; verification names a stream whose data differ', async () => {
    const source = `level:${join(root, 'copy-conflict')}`;
    const target = dynamodb('cli-copy-conflict');
    await keyvent('append', 'a', 'T', '1', '-s', source);
    await keyvent('append', 'a', 'T', '1', '-s', target);
    await expect(keyvent('copy', source, target, '--no-progress')).rejects.toThrow(new CopyError('stream "a": event 1 differs between source and target'));
    await keyvent('append', 'b', 'T', '1', '-s', source);
    await keyvent('append', 'b', 'T', '2', '-s', target);
    await keyvent('append', 'b', 'T', '3', '-s', target);
    await expect(keyvent('copy', source, target, '--no-progress', '--prefix', 'b')).rejects.toThrow('stream "b": the target has 2 events, the source 1');

    // Same ids, other data: nothing to copy, but the checksums differ.
    await keyvent('append', 'c', 'T', '{"amount":100}', '-s', source);
    const [event] = (await keyvent('read', 'c', '-s', source, '--json')).map((line) => JSON.parse(line));
    const store = await openStore(target);
    await store.importEvents('c', [{ ...event, data: { amount: 1000 } }]);
    await store.close();
    const lines: string[] = [];
    await expect(createProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'keyvent', 'copy', source, target, '--no-progress', '--prefix', 'c'])).rejects.toThrow(
      new CopyError('verification failed: 1 of 1 streams differ'),
    );
    expect(lines[1]).toMatch(/^mismatch: "c": source 1 events sha256 [0-9a-f]{12}, target 1 events sha256 [0-9a-f]{12}$/);
  }, 60_000);

  it('tails a stream: prints what another writer appends, then stops at --limit', async () => {
    {
      const store = dynamodb('cli-tail');
      await keyvent('append', 'orders', 'Placed', '{"n":1}', '-s', store);
      const tail = keyvent('tail', 'orders', '-s', store, '--interval', '20', '--limit', '2', '--json');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await keyvent('append', 'orders', 'Placed', '{"n":2}', '-s', store);
      await keyvent('append', 'orders', 'Placed', '{"n":3}', '-s', store);
      const lines = (await tail).map((line) => JSON.parse(line));
      expect(lines.map((event) => [event.sequence, event.data.n])).toEqual([[2, 2], [3, 3]]);
    }
  }, 60_000);

  it('tail --all prints the events of several streams appended while it runs, then stops at --limit', async () => {
    const store = dynamodb('cli-tail-all');
    await (await openStore(store)).close(); // an empty table: from the end (the default) also shows the last 10 s
    const tail = keyvent('tail', '--all', '-s', store, '--interval', '20', '--limit', '4', '--json');
    await sleep(300);
    for (const key of ['orders-1', 'orders-2', 'carts-1']) await keyvent('append', key, 'Placed', `{"key":"${key}"}`, '-s', store);
    await keyvent('append', 'orders-1', 'Paid', '{}', '-s', store);
    await keyvent('append', 'orders-1', 'Shipped', '{}', '-s', store); // past the limit
    const events = (await tail).map((line) => JSON.parse(line) as FeedEvent);
    expect(events.map((event) => `${event.key}#${event.sequence} ${event.type}`).sort()).toEqual(['carts-1#1 Placed', 'orders-1#1 Placed', 'orders-1#2 Paid', 'orders-2#1 Placed']);
    for (const event of events) expect(event.position).toMatch(/^[0-9a-f]{44}$/);
  }, 60_000);

  it('tail --all --slices prints only the streams of its slices', async () => {
    const store = dynamodb('cli-tail-slices');
    await (await openStore(store)).close();
    const [inside1, inside2] = keysInSlices('in', [100, 399], 2);
    const [outside] = keysInSlices('out', [400, 1023], 1);
    const tail = keyvent('tail', '--all', '--slices', '100-399', '-s', store, '--interval', '20', '--limit', '2');
    await sleep(300);
    for (const key of [outside!, inside1!, outside!, inside2!]) await keyvent('append', key, 'T', '{}', '-s', store);
    expect((await tail).map((line) => line.split(/\s+/).slice(0, 2).join('#')).sort()).toEqual([`${inside1}#1`, `${inside2}#1`].sort());
  }, 60_000);

  it('consumers shows a running consumer (lease held, settled time, lag, stream records), then released; stamped drivers', async () => {
    const url = dynamodb('cli-consumers');
    const store = await openStore(url);
    try {
      for (const key of ['mail-1', 'mail-2', 'mail-3']) await store.append(key, { type: 'Queued', data: {} });
      const handled: FeedEvent[] = [];
      const consumer = createConsumer(store, { name: 'mailer', worker: 'w-1', pollMs: 20, handler: (events) => void handled.push(...events) });
      await waitFor(() => handled.length === 3);
      await sleep(100); // its checkpoint, written after the batch
      const before = Date.now();
      const [row] = (await keyvent('consumers', '-s', url, '--json')).map((line) => JSON.parse(line));
      const after = Date.now();
      expect(row).toMatchObject({ name: 'mailer#0-1023', consumer: 'mailer', slices: [0, 1023], worker: 'w-1', lease: 'held', settledCommit: null, commitsBehind: null, records: 3 });
      // The settled pass reads 10 s behind the clock (settleMs): the three streams are records above it, handled by the live pass.
      expect(row.leaseLeftMs).toBeGreaterThan(5_000);
      expect(row.lagMs).toBeGreaterThanOrEqual(9_000);
      expect(row.lagMs).toBeLessThan(30_000);
      // settledAt + lagMs is the command's clock when it read the row: within the call.
      expect(Date.parse(row.settledAt) + row.lagMs).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(row.settledAt) + row.lagMs).toBeLessThanOrEqual(after + 1);
      const table = await keyvent('consumers', '-s', url);
      expect(table[1]).toMatch(/^mailer\s+0-1023\s+w-1\s+\d+\.\ds left\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+\.\ds\s+3$/);
      await consumer.stop();
      expect(JSON.parse((await keyvent('consumers', '-s', url, '--json'))[0]!)).toMatchObject({ lease: 'released', leaseLeftMs: 0, records: 3 });
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('keyvent on Azurite, by URL', () => {
  let backend: RunningBackend<'azure-tables'>;
  beforeAll(async () => {
    backend = await startBackend('azure-tables');
    process.env.KEYVENT_AZURE_TABLES_CONNECTION = backend.connection.connectionString;
  }, 60_000);
  afterAll(async () => {
    delete process.env.KEYVENT_AZURE_TABLES_CONNECTION;
    await backend?.stop();
  });

  it('the commands that only read create no table: a missing one is one line naming createAzureTablesTable', async () => {
    const line =
      'keyvent: [azure-tables] no table "clitypotable"; this command creates nothing: create it with createAzureTablesTable(connectionString, "clitypotable") from @keyvent/azure-tables, or append to it or copy into it with keyvent';
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1'], ['tail', '--all', '--limit', '1'], ['consumers']]) {
      expect(await failureText(...args, '-s', 'azure-tables:clitypotable')).toBe(line);
    }
    const client = TableClient.fromConnectionString(backend.connection.connectionString, 'clitypotable', { allowInsecureConnection: true });
    await expect(client.listEntities().byPage().next()).rejects.toMatchObject({ statusCode: 404 });
    expect(await keyvent('append', 'k', 'T', '1', '-s', 'azure-tables:clitypotable')).toEqual(['appended k#1 (T)']);
    expect(await keyvent('read', 'k', '-s', 'azure-tables:clitypotable', '--json')).toHaveLength(1);
  });
});

describe('keyvent on MongoDB, by URL', () => {
  let backend: RunningBackend<'mongodb'>;
  beforeAll(async () => {
    backend = await startBackend('mongodb');
  }, 60_000);
  afterAll(() => backend?.stop());
  const mongodb = (database: string) => `${backend.connection.uri.replace(/\/$/, '')}/${database}`;

  it('the commands that only read create nothing: a database without the collection is one line naming createMongoDbIndexes', async () => {
    const line =
      'keyvent: [mongodb] no collection "events" in database "clitypo"; this command creates nothing: create it with createMongoDbIndexes(collection) from @keyvent/mongodb, or append to it or copy into it with keyvent';
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1'], ['tail', '--all', '--limit', '1'], ['consumers']]) {
      expect(await failureText(...args, '-s', mongodb('clitypo'))).toBe(line);
    }
    const client = new MongoClient(backend.connection.uri);
    try {
      expect(await client.db('clitypo').listCollections().toArray()).toEqual([]);
      expect(await keyvent('append', 'k', 'T', '1', '-s', mongodb('clitypo'))).toEqual(['appended k#1 (T)']);
      expect((await client.db('clitypo').collection('events').listIndexes().toArray()).map(({ name }) => name)).toContain('stream_sequences');
    } finally {
      await client.close();
    }
    expect(await keyvent('streams', '-s', mongodb('clitypo'))).toEqual(['k']);
  });
});

describe('secrets in store URLs and connection strings', () => {
  const failureOf = async (args: string[]) => {
    const error = await keyvent(...args).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeDefined();
    return describeFailure(error);
  };

  it('never prints the password of a MongoDB URL, whether the server is unreachable or the URL is refused', async () => {
    const unreachable = await failureOf(['streams', '-s', 'mongodb://keyvent:s3cr3t-pw@127.0.0.1:9/app?serverSelectionTimeoutMS=300']);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.text).toMatch(/^keyvent: \[mongodb\] cannot open mongodb:\/\/keyvent:\*\*\*@127\.0\.0\.1:9\/app/);
    expect(unreachable.text.split('\n')).toHaveLength(1);
    const refused = await failureOf(['streams', '-s', 'postgres://keyvent:s3cr3t-pw@db/app']);
    expect(refused.exitCode).toBe(2);
    for (const { text } of [unreachable, refused]) expect(text).not.toContain('s3cr3t-pw');
  });

  it('never prints the Azure account key of the connection string', async () => {
    const key = 'c2VjcmV0LWFjY291bnQta2V5LW5vdC1mb3ItZXJyb3Jz';
    process.env.KEYVENT_AZURE_TABLES_CONNECTION = `DefaultEndpointsProtocol=http;AccountName=acme;AccountKey=${key};TableEndpoint=http://127.0.0.1:9/acme;`;
    try {
      const failure = await failureOf(['streams', '-s', 'azure-tables:events']);
      expect(failure.exitCode).toBe(1);
      expect(failure.text).not.toContain(key);
    } finally {
      delete process.env.KEYVENT_AZURE_TABLES_CONNECTION;
    }
  }, 60_000);
});
