import { createMemoryDriver, createStore, isConcurrencyError, isValidationError, type ExpectedVersion, type NewEvent } from '@keyvent/core';
import { UsageError } from './errors.js';

// The core's names for what `append` passes it, and the arguments they come from.
const ARGUMENTS: Record<string, string> = {
  key: '<key>',
  'events[0].type': '<type>',
  'events[0].data': '<data>',
  'events[0].metadata': '--metadata',
  expectedVersion: '--expected-version',
};
const CORE_PATH = /^\[keyvent\] (key|events\[0\]\.(?:type|data|metadata)|expectedVersion)\b/;

/**
 * Checks an append by the core's own rules (the key with `assertStreamKey`, the type, data and metadata,
 * an expected version whose event would pass sequence 2^53 - 1) on an empty in-memory store, before the
 * real store is opened: `append` creates a missing store, and a refusal that needs no store must not
 * leave one behind. A refusal is a `UsageError` (exit 2) that names the argument. Left to the real store:
 * the expected version against its stream, and its driver's size limits (exit 1, once it is open).
 *
 * @example
 * ```ts
 * await checkAppend('cart-1', { type: '', data: {} }, 'any'); // throws UsageError: <type>: must be a non-empty string
 * ```
 */
export async function checkAppend(key: string, event: NewEvent, expectedVersion: ExpectedVersion): Promise<void> {
  const scratch = createStore(createMemoryDriver());
  try {
    await scratch.append(key, event, { expectedVersion });
  } catch (error) {
    if (isValidationError(error)) throw new UsageError(error.message.replace(CORE_PATH, (_, path: string) => ARGUMENTS[path]!));
    // The scratch store is empty: its conflicts ('exists', a version > 0) say nothing of the real store.
    if (!isConcurrencyError(error)) throw error;
  } finally {
    await scratch.close();
  }
}
