import { DriverError } from './errors.js';

/**
 * For drivers: runs one backend request, turning a failure that `isTransient` accepts (throttling, a
 * timeout before anything was sent, a briefly unreachable cluster) into a retryable `DriverError`,
 * which the core retries with backoff; `describe` words its message (default: the error's own). Other
 * failures pass through unchanged.
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
  describe: (error: Error) => string = (error) => error.message,
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isTransient(error)) throw error;
    throw new DriverError(driver, `${what} failed: ${describe(error as Error)}`, { cause: error, retryable: true });
  }
}
