import { InvalidArgumentError } from 'commander';
import type { ExpectedVersion } from '@keyvent/core';

// The core's MAX_LIST_LIMIT (packages/core/src/store.ts), which it does not export: listStreams refuses more.
const MAX_LIST_LIMIT = 10_000;
// An hour. setTimeout takes at most 2^31 - 1 ms (24.8 days) and, beyond, fires after 1 ms: a busy poll.
const MAX_INTERVAL_MS = 3_600_000;

/** Digits only, from `min` to `max`: `Number()` would also take '', ' 5', '0x10' and '1e3'. */
function wholeNumber(value: string, what: string, min: number, max = Number.MAX_SAFE_INTEGER, forms = wholeNumbers(min, max)): number {
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) throw new InvalidArgumentError(`${value} is not ${what}: use ${forms}`);
  return number;
}

const wholeNumbers = (min: number, max: number) => (max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`);

/** An event's sequence (`--from`, `--to`), refused in the core's words: `0 is not a sequence: use a whole number >= 1`. */
export const sequence = (value: string): number => wholeNumber(value, 'a sequence', 1);

/** How many of something (`tail --limit`, `--concurrency`): a whole number >= 1. */
export const positive = (what: string) => (value: string): number => wholeNumber(value, what, 1);

/** `streams --limit`: from 1 to 10,000, the most the core lists at once (so that more is a usage error, exit 2). */
export const listLimit = (value: string): number => wholeNumber(value, 'a limit', 1, MAX_LIST_LIMIT);

/** `tail --interval`, in milliseconds: from 1 to 3,600,000 (an hour), within what setTimeout can wait. */
export const interval = (value: string): number => wholeNumber(value, 'an interval in milliseconds', 1, MAX_INTERVAL_MS);

/** An expected version: a whole number >= 0 or one of the core's sentinels, each listed when the value is none of them. */
export function expectedVersion(value: string): ExpectedVersion {
  if (value === 'any' || value === 'exists' || value === 'no_stream') return value;
  return wholeNumber(value, 'a version', 0, Number.MAX_SAFE_INTEGER, "a whole number >= 0, 'no_stream', 'exists' or 'any'");
}
