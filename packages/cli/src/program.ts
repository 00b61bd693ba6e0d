import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { redactSecrets, type EventStore, type ExpectedVersion, type JsonValue, type StoredEvent } from '@keyvent/core';
import { Presets, SingleBar } from 'cli-progress';
import { benchTable } from './bench/table.js';
import { FULL, QUICK, runWorkloads } from './bench/workloads.js';
import { copyStore, CopyError, verifyCopy } from './copy.js';
import { runDemo } from './demo/run-demo.js';
import { openStore, STORE_URL_HELP, UsageError } from './store-url.js';

const DEMO_STORE = join('.keyvent-data', 'demo');

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new InvalidArgumentError('expected a whole number');
  return number;
}

function expectedVersion(value: string): ExpectedVersion {
  if (value === 'any' || value === 'exists' || value === 'no_stream') return value;
  return wholeNumber(value);
}

function json(value: string, what: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/** One line per event: sequence, type, timestamp, data (cut to fit a terminal). */
function formatEvent(event: StoredEvent): string {
  const data = JSON.stringify(event.data);
  const shown = data.length > 80 ? `${data.slice(0, 77)}...` : data;
  return `${String(event.sequence).padStart(6)}  ${event.type.padEnd(20)}  ${event.timestamp}  ${shown}`;
}

/**
 * The `keyvent` command. Built as a function so tests can run it without a process; `print` receives
 * every line of output. Commander's own messages go to stderr with their secrets masked (they quote
 * what was typed, a store URL with its password); a command-line mistake and `--help` reject
 * `parseAsync` with commander's `CommanderError` (its `exitCode`) instead of exiting the process.
 */
export function createProgram(print: (line: string) => void = console.log): Command {
  // Set before the subcommands are added: each copies them from its parent when it is created.
  const program = new Command('keyvent')
    .description('keyvent: an event store on the key-value and table stores you already run')
    .addHelpText('after', `\n${STORE_URL_HELP}`)
    .showHelpAfterError('(run keyvent --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(redactSecrets(text)) })
    .exitOverride();

  const storeOption = () =>
    new Option('-s, --store <url>', 'the store (see the URLs below)').env('KEYVENT_STORE').default(`level:${DEMO_STORE}`);

  async function withStore(url: string, run: (store: EventStore) => Promise<void>): Promise<void> {
    const store = await openStore(url);
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

  program
    .command('streams')
    .description('list stream keys in code point order')
    .addOption(storeOption())
    .option('-p, --prefix <prefix>', 'only keys that start with this')
    .option('--after <key>', 'only keys after this one (for paging)')
    .option('-n, --limit <n>', 'at most this many keys', wholeNumber, 1000)
    .action(async (options: { store: string; prefix?: string; after?: string; limit: number }) => {
      await withStore(options.store, async (store) => {
        const keys = await store.listStreams({ prefix: options.prefix, startAfter: options.after, limit: options.limit });
        for (const key of keys) print(key);
      });
    });

  program
    .command('read <key>')
    .description('print the events of a stream')
    .addOption(storeOption())
    .option('--from <sequence>', 'first sequence (inclusive)', wholeNumber)
    .option('--to <sequence>', 'last sequence (inclusive)', wholeNumber)
    .option('--backward', 'newest first')
    .option('--json', 'one JSON object per line, every field')
    .action(async (key: string, options: { store: string; from?: number; to?: number; backward?: boolean; json?: boolean }) => {
      await withStore(options.store, async (store) => {
        const events = store.readStream(key, { from: options.from, to: options.to, direction: options.backward ? 'backward' : 'forward' });
        for await (const event of events) print(options.json ? JSON.stringify(event) : formatEvent(event));
      });
    });

  program
    .command('append <key> <type> <data>')
    .description('append one event; <data> is JSON')
    .addOption(storeOption())
    .option('-e, --expected-version <version>', "a number, 'no_stream', 'exists' or 'any'", expectedVersion, 'any')
    .option('-m, --metadata <json>', 'metadata, as a JSON object')
    .action(async (key: string, type: string, data: string, options: { store: string; expectedVersion: ExpectedVersion; metadata?: string }) => {
      const event = { type, data: json(data, '<data>') };
      const metadata = options.metadata === undefined ? undefined : json(options.metadata, '--metadata');
      await withStore(options.store, async (store) => {
        const result = await store.append(key, metadata === undefined ? event : { ...event, metadata: metadata as never }, {
          expectedVersion: options.expectedVersion,
        });
        print(`appended ${key}#${result.version} (${type})`);
      });
    });

  program
    .command('tail <key>')
    .description('print new events of a stream as they are stored (polls; Ctrl-C stops)')
    .addOption(storeOption())
    .option('--from <sequence>', 'start at this sequence (default: after the current head)', wholeNumber)
    .option('--interval <ms>', 'how often to look for new events', wholeNumber, 500)
    .option('-n, --limit <n>', 'stop after this many events', wholeNumber)
    .option('--json', 'one JSON object per line')
    .action(async (key: string, options: { store: string; from?: number; interval: number; limit?: number; json?: boolean }) => {
      await withStore(options.store, async (store) => {
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

  program
    .command('copy <from> <to>')
    .description('copy every stream into another store, keeping sequences, ids and timestamps; resumable; then verify')
    .option('-p, --prefix <prefix>', 'only streams whose keys start with this')
    .option('-c, --concurrency <n>', 'streams copied at once', wholeNumber, 8)
    .option('--no-verify', 'skip the final comparison of counts and checksums')
    .option('--no-progress', 'no progress bar')
    .action(async (fromUrl: string, toUrl: string, options: { prefix?: string; concurrency: number; verify: boolean; progress: boolean }) => {
      await withStore(fromUrl, (from) =>
        withStore(toUrl, async (to) => {
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

  program
    .command('bench')
    .description("run keyvent's benchmark workloads on a store and print the figures (pnpm bench adds the raw clients)")
    .addOption(storeOption())
    .option('--quick', 'small sizes: a smoke test, not a measurement')
    .action(async (options: { store: string; quick?: boolean }) => {
      await withStore(options.store, async (store) => {
        const rows = await runWorkloads({ store }, options.quick ? QUICK : FULL, print);
        for (const line of benchTable(rows)) print(line);
      });
    });

  return program;
}
