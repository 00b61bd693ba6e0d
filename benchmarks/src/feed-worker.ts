#!/usr/bin/env node
// A process of the feed show (feed-show.ts), run until killed:
//   writer   <url> <config JSON>: appends commits of 1-3 events at 'any' to the show's streams, and prints
//            a line per acknowledged commit (with how long the append took);
//   consumer <url> <config JSON>: a consumer of the feed whose handler appends each batch to a log file,
//            synced, before returning (so the log holds at least what was checkpointed).
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { openStoreAndDriver } from '@keyvent/cli';
import { createConsumer, createStore, type FeedOptions } from '@keyvent/core';

export interface WorkerConfig {
  feed: FeedOptions & { skewMs?: number };
  /** writer: the show's stream keys. */
  keys?: string[];
  /** consumer: its name, slices, worker name and log file. */
  name?: string;
  slices?: [number, number];
  worker?: string;
  log?: string;
}

const [role, url, json] = process.argv.slice(2);
const config = JSON.parse(json!) as WorkerConfig;
const { skewMs = 0, ...timings } = config.feed;
const { driver } = await openStoreAndDriver(url!);
const store = createStore(driver, { feed: { ...timings, clock: () => Date.now() - skewMs } });

if (role === 'writer') {
  const keys = config.keys!;
  process.stdout.write('ready\n');
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const key = keys[Math.floor(Math.random() * keys.length)]!;
        const commit = randomUUID();
        const size = 1 + Math.floor(Math.random() * 3);
        const started = Date.now();
        try {
          const result = await store.append(key, Array.from({ length: size }, (_, i) => ({ type: 'Shown', data: { i }, id: `${commit}/${i}` })));
          // A pipe's writes are synchronous on Linux: once the append resolved, the line is out before a kill.
          process.stdout.write(`ack ${JSON.stringify({ key, first: result.version - size + 1, ids: result.events.map((event) => event.id), ms: Date.now() - started })}\n`);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }),
  );
} else if (role === 'consumer') {
  const log = openSync(config.log!, 'a');
  const run = randomUUID();
  let batch = 0;
  const line = (value: unknown) => {
    writeSync(log, `${JSON.stringify(value)}\n`);
    fsyncSync(log);
  };
  line({ start: run });
  createConsumer(store, {
    name: config.name!,
    slices: config.slices,
    worker: config.worker,
    batchSize: 50,
    pollMs: 100,
    handler: (events) => line({ run, batch: ++batch, at: Date.now(), events: events.map((event) => [event.key, event.sequence, event.id]) }),
    onError: (error) => process.stderr.write(`consumer ${config.name}: ${String(error)}\n`),
  });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    closeSync(log);
    process.exit(0);
  });
} else {
  throw new Error(`unknown role ${role}`);
}
