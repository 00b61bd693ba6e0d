import { createHash } from 'node:crypto';

/**
 * Positions in the change feed. A position is `(stamp, key hash, sequence)` as 44 hex digits (14 + 16 +
 * 14), so that string order is position order on every backend and in every language. The stamp is
 * microseconds since the epoch from the writer's clock (stamped drivers) or the driver's own commit
 * counter (exact drivers); the key hash orders the commits of one stamp; the sequence orders one
 * stream's events. Positions are opaque to users and comparable only within one store.
 */
export const FEED_SLICES = 1024;
const STAMP_DIGITS = 14;
const HASH_DIGITS = 16;
const SEQUENCE_DIGITS = 14;
export const POSITION_LENGTH = STAMP_DIGITS + HASH_DIGITS + SEQUENCE_DIGITS;
const HIGHEST_TAIL = 'f'.repeat(HASH_DIGITS + SEQUENCE_DIGITS);

/** Where a stream sits in the feed: its slice (0..1023) and the hash that orders it within a stamp. */
export interface FeedKey {
  slice: number;
  hash: string;
}

/** The slice and hash of a stream key: the top 10 bits and bytes 2..9 of the SHA-256 of its UTF-8 bytes. */
export function feedKeyOf(key: string): FeedKey {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return { slice: (digest[0]! << 2) | (digest[1]! >> 6), hash: digest.toString('hex', 2, 10) };
}

/** The position of event `sequence` of a stream with key hash `hash`, committed at `stamp`. */
export const feedPosition = (stamp: number, hash: string, sequence: number): string =>
  stamp.toString(16).padStart(STAMP_DIGITS, '0') + hash + sequence.toString(16).padStart(SEQUENCE_DIGITS, '0');

/** The highest position at `stamp`: everything stamped at or before it sorts at or below. */
export const positionAtStamp = (stamp: number): string => stamp.toString(16).padStart(STAMP_DIGITS, '0') + HIGHEST_TAIL;

/** The position before every other. */
export const FEED_START = '';

/** The stamp a position carries (0 for the start). */
export const stampOf = (position: string): number => (position === FEED_START ? 0 : parseInt(position.slice(0, STAMP_DIGITS), 16));

/** The part of a position shared by all the events of one commit: a driver reading whole commits starts at it. */
export const commitPrefixOf = (position: string): string => position.slice(0, STAMP_DIGITS + HASH_DIGITS);

/** The position of event `sequence` of the commit at `position` (the position of any of its events). */
export const positionInCommit = (position: string, sequence: number): string =>
  commitPrefixOf(position) + sequence.toString(16).padStart(SEQUENCE_DIGITS, '0');

/** The sequence a position carries. */
export const sequenceOf = (position: string): number => parseInt(position.slice(STAMP_DIGITS + HASH_DIGITS), 16);

/**
 * For a driver reading whole commits: the sequence after which to read the commit whose first event is at
 * `first`, for a page after `after`: `after`'s own when the page resumes inside this commit, else the one
 * before the commit (all of it).
 */
export const resumeInCommit = (after: string, first: string): number =>
  commitPrefixOf(after) === commitPrefixOf(first) ? sequenceOf(after) : sequenceOf(first) - 1;

/** Is `value` a position this version wrote (or the start)? */
export const isFeedPosition = (value: unknown): value is string =>
  value === FEED_START || (typeof value === 'string' && value.length === POSITION_LENGTH && /^[0-9a-f]+$/.test(value));

/**
 * Stamps in microseconds from `clock` (milliseconds), strictly increasing within one clock: two commits
 * of one process never share a stamp, and a clock stepped back never makes a stamp go back.
 */
export function createStamper(clock: () => number = Date.now): () => number {
  let last = 0;
  return () => (last = Math.max(Math.floor(clock() * 1000), last + 1));
}
