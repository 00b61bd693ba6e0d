import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import { redactSecrets, type EventStore, type ExpectedVersion, type NewEvent, type StoredEvent } from '@keyvent/core';
import { Presets, SingleBar } from 'cli-progress';
import { benchTable } from './bench/table.js';
import { FULL, QUICK, runWorkloads } from './bench/workloads.js';
import { checkAppend } from './check-append.js';
import { copyStore, CopyError, verifyCopy } from './copy.js';
import { runDemo } from './demo/run-demo.js';
import { CommandError } from './errors.js';
import { parseJsonArgument } from './json-argument.js';
import { manifest } from './manifest.js';
import { expectedVersion, interval, listLimit, positive, sequence } from './option-values.js';
import { readStdin } from './read-stdin.js';
import { openStore, STORE_URL_HELP, type OpenStoreOptions } from './store-url.js';

const DEMO_STORE = join('.keyvent-data', 'demo');

/** One line per event: sequence, type, timestamp, data (cut to fit a terminal). */
function formatEvent(event: StoredEvent): string {
  const data = JSON.stringify(event.data);
  const shown = data.length > 80 ? `${data.slice(0, 77)}...` : data;
  return `${String(event.sequence).padStart(6)}  ${event.type.padEnd(20)}  ${event.timestamp}  ${shown}`;
}

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

  /** Runs `run` on the store, then closes it. Only the commands that write pass `create: true`. */
  async function withStore(url: string, options: Required<OpenStoreOptions>, run: (store: EventStore) => Promise<void>): Promise<void> {
    const store = await openStore(url, options);
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  program
    .command('demo')
    .description('run a small bank-account app on the embedded LevelDB store and explain each step')
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

  storeCommand('tail <key>')
    .description('print new events of a stream as they are stored (polls; Ctrl-C stops)')
    .addOption(storeOption())
    .option('--from <sequence>', 'start at this sequence (default: after the current head)', sequence)
    .option('--interval <ms>', 'how often to look for new events (up to 3600000)', interval, 500)
    .option('-n, --limit <n>', 'stop after this many events', positive('a limit'))
    .option('--json', 'one JSON object per line')
    .action(async (key: string, options: { store: string; from?: number; interval: number; limit?: number; json?: boolean }) => {
      await withStore(options.store, { create: false }, async (store) => {
        let next = options.from ?? (await store.streamVersion(key)) + 1;
        for (let printed = 0; ; ) {
          for await (const event of store.readStream(key, { from: next })) {
            print(options.json ? JSON.stringify(event) : formatEvent(event));
            next = event.sequence + 1;
            if (++printed === options.limit) return;
          }
          await new Promise((resolve) => setTimeout(resolve, options.interval));
        }
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
