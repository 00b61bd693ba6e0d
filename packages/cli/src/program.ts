import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import { redactSecrets, type EventStore, type ExpectedVersion, type KeyValueDriver, type NewEvent } from '@keyvent/core';
import { Presets, SingleBar } from 'cli-progress';
import { benchTable } from './bench/table.js';
import { FULL, QUICK, runWorkloads } from './bench/workloads.js';
import { checkAppend } from './check-append.js';
import { copyStore, CopyError, verifyCopy } from './copy.js';
import { runDemo } from './demo/run-demo.js';
import { CommandError, UsageError } from './errors.js';
import { consumerTable, listConsumers, tailAll } from './feed-commands.js';
import { formatEvent } from './format-event.js';
import { parseJsonArgument } from './json-argument.js';
import { manifest } from './manifest.js';
import { expectedVersion, interval, listLimit, positive, sequence, sliceRange, tailFrom } from './option-values.js';
import { readStdin } from './read-stdin.js';
import { stopSignal } from './stop-signal.js';
import { openStoreAndDriver, STORE_URL_HELP, type OpenStoreOptions } from './store-url.js';

const DEMO_STORE = join('.keyvent-data', 'demo');

/**
 * The `keyvent` command. Built as a function so tests can run it without a process; `print` receives
 * every line of output, `stdin` is where `append … -` reads its data. Commander's own messages go to
 * stderr with their secrets masked (they quote what was typed, a store URL with its password); a
 * command-line mistake, `--help` and `--version` reject `parseAsync` with commander's `CommanderError`
 * instead of exiting the process.
 */
export function createProgram(print: (line: string) => void = console.log, stdin: Readable = process.stdin): Command {
  // Set before the subcommands are added: each copies them from its parent when it is created.
  const program = new Command('keyvent')
    .description('keyvent: an event store on the key-value and table stores you already run')
    .version(manifest.version)
    .addHelpText('after', `\n${STORE_URL_HELP}`)
    .showHelpAfterError('(run keyvent --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(redactSecrets(text)) })
    .exitOverride();

  /** A command on stores: its help ends with the store URL forms. */
  const storeCommand = (nameAndArgs: string) => program.command(nameAndArgs).addHelpText('after', `\n${STORE_URL_HELP}`);
  const storeOption = () =>
    new Option('-s, --store <url>', 'the store (see the URLs below)').env('KEYVENT_STORE').default(`level:${DEMO_STORE}`);

  /** Runs `run` on the store (and its driver), then closes it. Only the commands that write pass `create: true`. */
  async function withStore(url: string, options: Required<OpenStoreOptions>, run: (store: EventStore, driver: KeyValueDriver) => Promise<void>): Promise<void> {
    const { store, driver } = await openStoreAndDriver(url, options);
    try {
      await run(store, driver);
    } finally {
      await store.close();
    }
  }

  program
    .command('demo')
    .description('run a small bank-account app, and a read model fed by the change feed, on the embedded LevelDB store and explain each step')
    .option('--data <dir>', 'where the LevelDB store lives', DEMO_STORE)
    .action(async (options: { data: string }) => {
      await runDemo({ location: options.data, print });
    });

  storeCommand('streams')
    .description('list stream keys in code point order')
    .addOption(storeOption())
    .option('-p, --prefix <prefix>', 'only keys that start with this')
    .option('--after <key>', 'only keys after this one (for paging)')
    .option('-n, --limit <n>', 'at most this many keys (up to 10000)', listLimit, 1000)
    .action(async (options: { store: string; prefix?: string; after?: string; limit: number }) => {
      await withStore(options.store, { create: false }, async (store) => {
        const keys = await store.listStreams({ prefix: options.prefix, startAfter: options.after, limit: options.limit });
        for (const key of keys) print(key);
      });
    });

  storeCommand('read <key>')
    .description('print the events of a stream; a stream that does not exist is an error (exit code 1)')
    .addOption(storeOption())
    .option('--from <sequence>', 'first sequence (inclusive)', sequence)
    .option('--to <sequence>', 'last sequence (inclusive)', sequence)
    .option('--backward', 'newest first')
    .option('--json', 'one JSON object per line, every field')
    .action(async (key: string, options: { store: string; from?: number; to?: number; backward?: boolean; json?: boolean }) => {
      await withStore(options.store, { create: false }, async (store) => {
        let printed = 0;
        for await (const event of store.readStream(key, { from: options.from, to: options.to, direction: options.backward ? 'backward' : 'forward' })) {
          print(options.json ? JSON.stringify(event) : formatEvent(event));
          printed++;
        }
        // Nothing in range of a stream that exists is an empty answer, not an error.
        if (printed === 0 && (await store.streamVersion(key)) === 0) {
          throw new CommandError(`stream ${JSON.stringify(key)} does not exist (keyvent streams lists the streams)`);
        }
      });
    });

  storeCommand('append <key> <type> <data>')
    .description('append one event; <data> is JSON, or - to read it from stdin')
    .addOption(storeOption())
    .option('-e, --expected-version <version>', "a number, 'no_stream', 'exists' or 'any'", expectedVersion, 'any')
    .option('-m, --metadata <json>', 'metadata, as a JSON object')
    .action(async (key: string, type: string, data: string, options: { store: string; expectedVersion: ExpectedVersion; metadata?: string }) => {
      const event: NewEvent = { type, data: parseJsonArgument(data === '-' ? await readStdin(stdin) : data, '<data>') };
      if (options.metadata !== undefined) event.metadata = parseJsonArgument(options.metadata, '--metadata') as NewEvent['metadata'];
      // Before the store is opened, which creates it: a refusal that needs no store leaves none behind.
      await checkAppend(key, event, options.expectedVersion);
      await withStore(options.store, { create: true }, async (store) => {
        const result = await store.append(key, event, { expectedVersion: options.expectedVersion });
        print(`appended ${key}#${result.version} (${type})`);
      });
    });

  storeCommand('tail [key]')
    .description('print new events of a stream, or with --all of every stream (the change feed), as they are stored (polls; Ctrl-C stops)')
    .addOption(storeOption())
    .option('-a, --all', 'follow every stream: the change feed, read by an ephemeral consumer that writes nothing to the store')
    .option('--from <from>', 'tail <key>: the first sequence (default: after the current head); tail --all: start or end (default: end)', tailFrom)
    .option('--slices <from-to>', 'tail --all: only streams of these slices (0-1023, both ends included), e.g. 0-511', sliceRange)
    .option('--interval <ms>', 'how often to look for new events (up to 3600000)', interval, 500)
    .option('-n, --limit <n>', 'stop after this many events', positive('a limit'))
    .option('--json', 'one JSON object per line (with --all, the position in the feed too)')
    .action(async (key: string | undefined, options: { store: string; all?: boolean; from?: number | 'start' | 'end'; slices?: [number, number]; interval: number; limit?: number; json?: boolean }) => {
      // Checked before the store is opened: a mistake in the command line opens nothing.
      if (options.all) {
        if (key !== undefined) throw new UsageError(`tail takes a <key> or --all, not both (got ${JSON.stringify(key)} and --all)`);
        if (typeof options.from === 'number') throw new UsageError(`tail --all --from takes start or end, not a sequence (${options.from}): sequences number the events of one stream`);
        const from = options.from ?? 'end';
        await withStore(options.store, { create: false }, (store) => tailAll(store, { ...options, from }, print));
        return;
      }
      if (key === undefined) throw new UsageError('tail needs a <key> (one stream) or --all (every stream)');
      if (typeof options.from === 'string') throw new UsageError(`tail <key> --from takes a sequence; --from ${options.from} is for tail --all`);
      if (options.slices) throw new UsageError('--slices is for tail --all (tail <key> follows one stream)');
      const from = options.from;
      await withStore(options.store, { create: false }, async (store) => {
        const signal = stopSignal();
        try {
          let next = from ?? (await store.streamVersion(key)) + 1;
          for (let printed = 0; !signal.received; ) {
            for await (const event of store.readStream(key, { from: next })) {
              print(options.json ? JSON.stringify(event) : formatEvent(event));
              next = event.sequence + 1;
              if (++printed === options.limit || signal.received) return;
            }
            await signal.pause(options.interval);
          }
        } finally {
          signal.dispose();
        }
      });
    });

  storeCommand('consumers')
    .description("list the change feed's consumers (their checkpoint rows): slice range, worker, lease, settled position, lag, stream records; reads only")
    .addOption(storeOption())
    .option('--json', 'one JSON object per line, every field')
    .action(async (options: { store: string; json?: boolean }) => {
      await withStore(options.store, { create: false }, async (_, driver) => {
        const rows = await listConsumers(driver);
        for (const line of options.json ? rows.map((row) => JSON.stringify(row)) : consumerTable(rows)) print(line);
      });
    });

  storeCommand('copy <from> <to>')
    .description('copy every stream into another store (created if missing), keeping sequences, ids and timestamps; resumable; then verify')
    .option('-p, --prefix <prefix>', 'only streams whose keys start with this')
    .option('-c, --concurrency <n>', 'streams copied at once', positive('a concurrency'), 8)
    .option('--no-verify', 'skip the final comparison of counts and checksums')
    .option('--no-progress', 'no progress bar')
    .action(async (fromUrl: string, toUrl: string, options: { prefix?: string; concurrency: number; verify: boolean; progress: boolean }) => {
      await withStore(fromUrl, { create: false }, (from) =>
        withStore(toUrl, { create: true }, async (to) => {
          const bar = options.progress
            ? new SingleBar({ format: 'copy |{bar}| {percentage}% | {value}/{total} events | {streams} streams | ETA {eta_formatted}', etaBuffer: 100 }, Presets.shades_classic)
            : undefined;
          let started = false;
          const report = await copyStore(from, to, {
            prefix: options.prefix,
            concurrency: options.concurrency,
            onProgress: ({ total, done, streams }) => (started ? bar?.update(done) : (bar?.start(total, done, { streams }), (started = true))),
          }).finally(() => bar?.stop());
          print(`copied ${report.copied} events of ${report.streams} streams (${report.alreadyThere} already in the target)`);
          if (!options.verify) return;
          const check = await verifyCopy(from, to, { prefix: options.prefix, concurrency: options.concurrency });
          for (const mismatch of check.mismatches) print(`mismatch: ${mismatch}`);
          if (check.mismatches.length > 0) throw new CopyError(`verification failed: ${check.mismatches.length} of ${check.streams} streams differ`);
          print(`verified: ${check.streams} streams, ${check.events} events; counts and SHA-256 checksums match`);
        }),
      );
    });

  storeCommand('bench')
    .description("run keyvent's benchmark workloads on a store (created if missing) and print the figures (pnpm bench adds the raw clients)")
    .addOption(storeOption())
    .option('--quick', 'small sizes: a smoke test, not a measurement')
    .action(async (options: { store: string; quick?: boolean }) => {
      await withStore(options.store, { create: true }, async (store) => {
        const rows = await runWorkloads({ store }, options.quick ? QUICK : FULL, print);
        for (const line of benchTable(rows)) print(line);
      });
    });

  return program;
}
