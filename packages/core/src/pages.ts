import type { StoredEvent } from './types.js';
import { eventBytes } from './validation.js';

/** The bytes at which a store's reads end a page by default (`StoreOptions.readPageBytes`). */
export const READ_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * A read page's byte budget, for drivers (`FetchOptions.maxBytes`; none: never full): `add` each event as
 * it is decoded; once `full`, the page ends there (it holds at least one event, whatever its size). The
 * size is `eventBytes`, which the core measures again to tell a page ended by its bytes from the end of
 * the stream.
 */
export function pageBudget(maxBytes: number = Infinity) {
  type Measured = Pick<StoredEvent, 'type' | 'data' | 'metadata'>;
  let bytes = 0;
  // Events counted by an upper bound of their size, measured only once the bounds come near the page's bytes.
  let unmeasured: Measured[] = [];
  let bounds = 0;
  return {
    /**
     * Counts an event; true once the page has reached its bytes. `atMost`, an upper bound of its size
     * that costs less than measuring it (the length in bytes of its stored text), spares the measure
     * while the page is far from full.
     */
    add(event: Measured, atMost?: number): boolean {
      if (atMost === undefined) bytes += eventBytes(event);
      else {
        unmeasured.push(event);
        bounds += atMost;
      }
      if (bytes + bounds >= maxBytes && unmeasured.length > 0) {
        for (const each of unmeasured) bytes += eventBytes(each);
        unmeasured = [];
        bounds = 0;
      }
      return bytes >= maxBytes;
    },
    get full() {
      return bytes >= maxBytes;
    },
  };
}

/** Did a page short of its limit stop at the byte bound it was read with (so the stream may go on)? */
export function endedByBytes(page: readonly StoredEvent[], maxBytes: number): boolean {
  if (page.length === 0) return false;
  let bytes = 0;
  for (const event of page) bytes += eventBytes(event);
  return bytes >= maxBytes;
}

/**
 * The events in (after, after + count] however the driver pages them: it reads on after a page ended by
 * its bytes, until `count` events or a page short of what it asked for without reaching them.
 */
export async function fetchRange(
  fetch: (after: number, limit: number) => Promise<StoredEvent[]>,
  after: number,
  count: number,
  maxBytes: number,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let next = after; events.length < count; ) {
    const page = await fetch(next, count - events.length);
    events.push(...page);
    if (!endedByBytes(page, maxBytes)) break;
    next += page.length;
  }
  return events;
}
