import { ValidationError } from './errors.js';

/** The longest stream key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Refuses a stream key that is not a non-empty, well-formed string of at most 1,024 UTF-8 bytes. */
export function assertStreamKey(key: unknown, path = 'key'): asserts key is string {
  if (typeof key !== 'string') throw new ValidationError(path, `must be a string, got ${typeof key}`);
  if (key.length === 0) throw new ValidationError(path, 'must not be empty');
  if (!key.isWellFormed()) throw new ValidationError(path, 'contains a lone surrogate (not valid Unicode)');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new ValidationError(path, `is ${bytes} UTF-8 bytes; the limit is ${MAX_KEY_BYTES}`);
  }
}

/**
 * Orders keys by code point, which is also UTF-8 byte order: the order `listKeys` must return.
 * (JavaScript's default string order compares UTF-16 units, which differs above U+FFFF.)
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * The least string greater, in code point order, than every string that starts with `prefix`: its last
 * code point raised by one (past the surrogates, which are not code points of text), after dropping
 * trailing U+10FFFF. Undefined when there is none (an empty prefix, or one of U+10FFFF only).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0 && points[points.length - 1] === '\u{10ffff}') points.pop();
  const last = points.pop();
  if (last === undefined) return undefined;
  const raised = last.codePointAt(0)! + 1;
  return points.join('') + String.fromCodePoint(raised === 0xd800 ? 0xe000 : raised);
}

/** Where keyvent keeps streams of its own: `$snapshot/<key>` (or `$snapshot#<hash>` for a long key) holds a stream's snapshots. */
export const SNAPSHOT_STREAM_PREFIXES = ['$snapshot/', '$snapshot#'] as const;

/**
 * Is `key` one of keyvent's own streams (snapshots)? They stay out of the change feed, consumers and
 * `listStreams`: what a reader of domain events sees is the domain's streams only.
 */
export const isInternalStream = (key: string): boolean => SNAPSHOT_STREAM_PREFIXES.some((prefix) => key.startsWith(prefix));
