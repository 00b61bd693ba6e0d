import { DriverError } from './errors.js';

/** How {@link runBackendRequest} words and marks a transient failure. */
export interface BackendRequestOptions {
  /** Its message (default: the error's own). */
  describe?: (error: Error) => string;
  /** Whether the request was sent and may still be running on the backend (see `DriverError.inDoubt`). */
  inDoubt?: (error: unknown) => boolean;
}

/**
 * For drivers: runs one backend request, turning a failure that `isTransient` accepts (throttling, a
 * timeout before anything was sent, a briefly unreachable cluster) into a retryable `DriverError`,
 * which the core retries with backoff. Other failures pass through unchanged.
 *
 * @example
 * ```ts
 * const rows = await runBackendRequest('cassandra', 'a read', () => client.execute(query, params), isTransient);
 * ```
 */
export async function runBackendRequest<T>(
  driver: string,
  what: string,
  request: () => Promise<T>,
  isTransient: (error: unknown) => boolean,
  options: BackendRequestOptions = {},
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isTransient(error)) throw error;
    const message = (options.describe ?? ((e: Error) => e.message))(error as Error);
    throw new DriverError(driver, `${what} failed: ${message}`, { cause: error, retryable: true, inDoubt: options.inDoubt?.(error) ?? false });
  }
}
