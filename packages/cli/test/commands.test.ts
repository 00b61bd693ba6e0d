import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { startBackend, type RunningBackend } from '@keyvent/testing';
import { CopyError } from '../src/copy.js';
import { UsageError } from '../src/errors.js';
import { describeFailure } from '../src/failure.js';
import { createProgram } from '../src/program.js';
import { openStore } from '../src/store-url.js';

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
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1']]) expect(await failureText(...args, '-s', `level:${missing}`)).toBe(line);
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
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1']]) expect(await failureText(...args, '-s', dynamodb('cli-typo-table'))).toBe(line);
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
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1']]) expect(await failureText(...args, '-s', 'azure-tables:clitypotable')).toBe(line);
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
    for (const args of [['streams'], ['read', 'k'], ['tail', 'k', '--limit', '1']]) expect(await failureText(...args, '-s', mongodb('clitypo'))).toBe(line);
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
