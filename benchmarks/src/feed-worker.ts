#!/usr/bin/env node
// A process of the feed show (feed-show.ts), run until killed:
//   writer   <url> <config JSON>: appends commits of 1-3 events at 'any' to the show's streams, and prints
//            a line per acknowledged commit (with how long the append took); with `feedOffMs`, every other
//            period of that length it writes through a store with the feed off (a rolling upgrade's old writer);
//   consumer <url> <config JSON>: a consumer of the feed whose handler appends each batch to a log file,
//            synced, before returning (so the log holds at least what was checkpointed); with `startAt`, it
//            starts at that time (two workers started in the same millisecond), and prints `refused` if its
//            range is refused.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { openStoreAndDriver } from '@keyvent/cli';
import { createConsumer, createStore, type FeedOptions } from '@keyvent/core';

export interface WorkerConfig {
  feed: FeedOptions & { skewMs?: number };
  /** writer: the show's stream keys. */
  keys?: string[];
  /** writer: writes with the feed off every other period of this many ms. */
  feedOffMs?: number;
  /** consumer: when to start, ms since the epoch. */
  startAt?: number;
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
// The same backend with the feed off: its commits carry no position.
const feedOff = createStore({ ...driver, feed: undefined, close: async () => {} });
const began = Date.now();
const writerNow = () => (config.feedOffMs && Math.floor((Date.now() - began) / config.feedOffMs) % 2 === 1 ? feedOff : store);

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
          const result = await writerNow().append(key, Array.from({ length: size }, (_, i) => ({ type: 'Shown', data: { i }, id: `${commit}/${i}` })));
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
  if (config.startAt) await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.startAt! - Date.now())));
  const consumer = createConsumer(store, {
    name: config.name!,
    slices: config.slices,
    worker: config.worker,
    batchSize: 50,
    pollMs: 100,
    handler: (events) => line({ run, batch: ++batch, at: Date.now(), events: events.map((event) => [event.key, event.sequence, event.id]) }),
    onError: (error) => process.stderr.write(`consumer ${config.name}: ${String(error)}\n`),
  });
  consumer.done.catch((error: unknown) => process.stdout.write(`refused ${String(error).replace(/\n/g, ' ')}\n`));
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    closeSync(log);
    process.exit(0);
  });
} else {
  throw new Error(`unknown role ${role}`);
}
