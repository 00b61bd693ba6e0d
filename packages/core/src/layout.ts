import { StoreLayoutError } from './errors.js';

/**
 * A driver's check of the store's layout version, run once before its first write or listing: a store
 * written by another layout is refused before anything is written to it. A failed check (the backend was
 * unreachable) runs again on the next call.
 */
export function layoutCheck(driver: string, expected: string, where: string, readFound: () => Promise<string | undefined>): () => Promise<void> {
  let checked: Promise<void> | undefined;
  return () =>
    (checked ??= (async () => {
      const found = await readFound();
      if (found !== expected) throw new StoreLayoutError(driver, found, expected, where);
    })().catch((error: unknown) => {
      checked = undefined;
      throw error;
    }));
}
