import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchTarget, Ops } from '@keyvent/cli';
import { keyventOps } from '@keyvent/cli';

export interface ListingSizes {
  /** Streams in the store, under one prefix, in 100 groups. */
  streams: number;
  pageSize: number;
  /** Times the first page under a group's prefix is read. */
  firstPages: number;
  /** Pages read by a listing that scans (layout 1's), whose every page costs the whole prefix. */
  scanPages: number;
}

export const LISTING_FULL: ListingSizes = { streams: 100_000, pageSize: 1_000, firstPages: 20, scanPages: 3 };
export const LISTING_QUICK: ListingSizes = { streams: 2_000, pageSize: 100, firstPages: 5, scanPages: 2 };

export interface ListingRow {
  backend: string;
  workload: string;
  by: string;
  /** Streams listed per second, per round (one round for a scan). */
  rates: number[];
  pages: number;
  p50ms: number;
  p99ms: number;
  requestsPerPage?: number;
  note?: string;
}

const GROUPS = 100;
const CONCURRENCY = 32;
/** Longer than any listing delay a driver declares (DynamoDB's index: 1 s). */
const SETTLE_MS = 1_500;

/**
 * Listing at scale on one backend: `streams` streams under one prefix (100 groups of `streams / 100`),
 * then the whole prefix listed in pages of `pageSize` (three rounds), and the first page under one
 * group's prefix (`firstPages` times), by keyvent and by the raw client's listing. A raw listing that
 * scans the prefix on every page (layout 1's, on Cassandra and Azure Tables) reads `scanPages` pages of
 * the whole listing: each costs the same, so the whole listing costs that times the number of pages.
 */
export async function listingCost(target: BenchTarget, sizes: ListingSizes, log: (line: string) => void): Promise<ListingRow[]> {
  const run = `listing-${Date.now().toString(36)}`;
  // No character a driver escapes, so that the raw listings compare keys as they are.
  const keyOf = (i: number) => `${run}:g${String(i % GROUPS).padStart(2, '0')}:${String(i).padStart(7, '0')}`;
  const sides: [string, Ops][] = [['keyvent', keyventOps(target.store)]];
  if (target.raw?.listPage) sides.push([`raw client: ${target.rawListing?.how ?? 'its own listing'}`, target.raw]);
  const writers = target.rawSeparate && target.raw ? [keyventOps(target.store), target.raw] : [keyventOps(target.store)];
  const started = performance.now();
  for (const writer of writers) {
    for (let next = 0; next < sizes.streams; ) {
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < sizes.streams) await writer.appendNew(keyOf(next++), [{ type: 'Opened', data: { n: 1 } }]);
      }));
    }
  }
  log(`  listing: ${sizes.streams.toLocaleString('en')} streams written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  await sleep(SETTLE_MS);

  const rows: ListingRow[] = [];
  const whole = `list ${sizes.streams.toLocaleString('en')} streams in pages of ${sizes.pageSize.toLocaleString('en')}`;
  const first = `the first page (${sizes.pageSize.toLocaleString('en')}) under a prefix among ${sizes.streams.toLocaleString('en')} streams`;
  for (const [by, ops] of sides) {
    const listPage = ops.listPage!;
    const scans = by !== 'keyvent' && target.rawListing?.scans === true;
    const rounds = scans ? 1 : 3;
    const latencies: number[] = [];
    const rates: number[] = [];
    let requests = 0;
    for (let round = 0; round < rounds; round++) {
      let listed = 0;
      let seconds = 0;
      let last: string | undefined;
      for (let page = 0; scans ? page < sizes.scanPages : true; page++) {
        const before = target.requests?.() ?? 0;
        const time = performance.now();
        const keys = await listPage(`${run}:`, last, sizes.pageSize);
        const elapsed = performance.now() - time;
        requests += (target.requests?.() ?? 0) - before;
        latencies.push(elapsed);
        seconds += elapsed / 1000;
        listed += keys.length;
        if (keys.length < sizes.pageSize) break;
        last = keys[keys.length - 1];
      }
      if (!scans && listed !== sizes.streams) throw new Error(`${by} listed ${listed} of ${sizes.streams} streams`);
      rates.push(listed / seconds);
    }
    rows.push(row(target, whole, by, rates, latencies, requests, scans ? `${sizes.scanPages} of ${sizes.streams / sizes.pageSize} pages read: each scans the whole prefix` : undefined));

    const firstLatencies: number[] = [];
    let firstRequests = 0;
    const prefix = `${run}:g42:`;
    for (let i = 0; i < sizes.firstPages; i++) {
      const before = target.requests?.() ?? 0;
      const time = performance.now();
      const keys = await listPage(prefix, undefined, sizes.pageSize);
      firstLatencies.push(performance.now() - time);
      firstRequests += (target.requests?.() ?? 0) - before;
      if (keys.length !== Math.min(sizes.pageSize, sizes.streams / GROUPS) || !keys.every((key) => key.startsWith(prefix))) throw new Error(`${by}: a wrong first page`);
    }
    const firstRates = [Math.min(sizes.pageSize, sizes.streams / GROUPS) / (median(firstLatencies) / 1000)];
    rows.push(row(target, first, by, firstRates, firstLatencies, firstRequests));
  }
  for (const each of rows) log(`  ${each.workload} | ${each.by}: ${Math.round(median(each.rates))} streams/s, page p50 ${each.p50ms.toFixed(1)} ms, ${each.requestsPerPage?.toFixed(1) ?? '—'} requests a page`);
  return rows;
}

function row(target: BenchTarget, workload: string, by: string, rates: number[], latencies: number[], requests: number, note?: string): ListingRow {
  const sorted = [...latencies].sort((a, b) => a - b);
  const result: ListingRow = {
    backend: target.backend, workload, by, rates, pages: latencies.length,
    p50ms: sorted[Math.floor(sorted.length * 0.5)]!, p99ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
  };
  if (target.requests) result.requestsPerPage = requests / latencies.length;
  if (note) result.note = note;
  return result;
}

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
