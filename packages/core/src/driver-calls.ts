import type { KeyValueDriver } from './driver.js';
import { DriverError, isKeyventError, StoreClosedError } from './errors.js';

/**
 * The one gate through which the core calls a driver: refuses calls after close and turns any
 * non-keyvent failure into a `DriverError` that names the driver and the operation.
 */
export function createDriverGate(driver: KeyValueDriver) {
  let closing: Promise<void> | undefined;

  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (closing) throw new StoreClosedError(driver.name);
    try {
      return await run();
    } catch (error) {
      if (isKeyventError(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DriverError(driver.name, `${operation} failed: ${reason}`, { cause: error });
    }
  }

  /** The stream's last sequence: one read where the driver offers it, else a search with `checkSequence`. */
  async function lastSequence(key: string): Promise<number> {
    if (driver.lastSequence) return call('lastSequence', () => driver.lastSequence!(key));
    return searchLastSequence((sequence) => call('checkSequence', () => driver.checkSequence(key, sequence)));
  }

  function close(beforeClose: () => Promise<void>): Promise<void> {
    closing ??= beforeClose().then(() => driver.close());
    return closing;
  }

  return { call, lastSequence, close };
}

/** Finds the last existing sequence by galloping then bisecting: about 2·log2(n) checks. */
export async function searchLastSequence(exists: (sequence: number) => Promise<boolean>): Promise<number> {
  if (!(await exists(1))) return 0;
  let low = 1;
  let high = 2;
  while (await exists(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await exists(middle)) low = middle;
    else high = middle;
  }
  return low;
}
