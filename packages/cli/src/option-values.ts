import { InvalidArgumentError } from 'commander';
import type { ExpectedVersion } from '@keyvent/core';

/** Digits only: `Number()` would also take '', ' 5', '0x10' and '1e3'. */
function wholeNumber(value: string, min: number, what: string, forms = `a whole number >= ${min}`): number {
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min) throw new InvalidArgumentError(`${value} is not ${what}: use ${forms}`);
  return number;
}

/** An event's sequence (`--from`, `--to`), refused in the core's words: `0 is not a sequence: use a whole number >= 1`. */
export const sequence = (value: string): number => wholeNumber(value, 1, 'a sequence');

/** How many of something (`--limit`, `--concurrency`), or milliseconds (`--interval`): a whole number >= 1. */
export const positive = (what: string) => (value: string): number => wholeNumber(value, 1, what);

/** An expected version: a whole number >= 0 or one of the core's sentinels, each listed when the value is none of them. */
export function expectedVersion(value: string): ExpectedVersion {
  if (value === 'any' || value === 'exists' || value === 'no_stream') return value;
  return wholeNumber(value, 0, 'a version', "a whole number >= 0, 'no_stream', 'exists' or 'any'");
}
