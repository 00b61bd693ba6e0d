import { InvalidArgumentError } from 'commander';
import { FEED_SLICES, type ExpectedVersion } from '@keyvent/core';

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

/** The highest slice: streams are spread over slices 0..1023. */
const LAST_SLICE = FEED_SLICES - 1;

/** `tail --all --slices`: `FROM-TO`, both ends included, 0 <= FROM <= TO <= 1023 (a range of the change feed's slices). */
export function sliceRange(value: string): [number, number] {
  const match = /^(\d{1,4})-(\d{1,4})$/.exec(value);
  const [from, to] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!(from <= to && to <= LAST_SLICE)) {
    throw new InvalidArgumentError(`${value} is not a slice range: use FROM-TO, whole numbers with 0 <= FROM <= TO <= ${LAST_SLICE}, e.g. 0-511`);
  }
  return [from, to];
}

/** `tail --from`: a sequence (`tail <key>`), or `start` or `end` (`tail --all`); which fits which is checked with the key. */
export function tailFrom(value: string): number | 'start' | 'end' {
  if (value === 'start' || value === 'end') return value;
  return wholeNumber(value, 'a sequence, start or end', 1, Number.MAX_SAFE_INTEGER, "a whole number >= 1 (tail <key>), or 'start' or 'end' (tail --all)");
}
