import { backOff } from 'exponential-backoff';
import type { KeyValueDriver } from './driver.js';
import { DriverError, isDriverError, isKeyventError, StoreClosedError } from './errors.js';
import { driverSpans } from './tracing.js';

/** How the core retries a driver call that failed with a retryable `DriverError` (throttling, a transient clash). */
export interface RetryOptions {
  /** Tries in all, the first included. Default 5; 1 turns retries off. */
  attempts?: number;
  /** The first delay in milliseconds, doubled each time, with full jitter. Default 25. */
  firstDelayMs?: number;
  /** The longest delay in milliseconds. Default 2,000. */
  maxDelayMs?: number;
}

/**
 * The one gate through which the core calls a driver: tracks the store's operations so that close
 * refuses new ones and lets those in flight finish, and turns any non-keyvent failure into a
 * `DriverError` that names the driver and the operation.
 */
export function createDriverGate(driver: KeyValueDriver, retry: RetryOptions = {}) {
  let closing: Promise<void> | undefined;
  let closed = false;
  // Operations in flight; once close has begun they only finish, and the last one to settle wakes it.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const settled = () => {
    if (--inFlight === 0) drained?.();
  };
  /** The retries that may follow a first attempt, of `attempts` in all: the first after `firstDelayMs` (jittered), then doubling. */
  const retriesAfter = (attempts: number) => ({
    numOfAttempts: Math.max(1, attempts) - 1,
    delayFirstAttempt: true,
    startingDelay: retry.firstDelayMs ?? 25,
    maxDelay: retry.maxDelayMs ?? 2000,
    jitter: 'full' as const,
    retry: isRetryable,
  });
  const retries = retriesAfter(retry.attempts ?? 5);
  const patientRetries = retriesAfter((retry.attempts ?? 5) * 2);
  const spans = driverSpans(driver.name);

  /**
   * Runs one of the store's operations: refused once close has begun; close waits for it otherwise.
   * A failure always comes as a rejection, even one `run` throws before it returns a promise.
   */
  function operation<T>(run: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new StoreClosedError(driver.name));
    let running: Promise<T>;
    try {
      running = run();
    } catch (error) {
      return Promise.reject(error);
    }
    inFlight++;
    running.then(settled, settled);
    return running;
  }

  /**
   * Calls the driver; retries a retryable DriverError with exponential backoff and jitter, bounded;
   * `patient` doubles the attempts (for the read that settles a failed commit: its answer is worth the
   * wait, as the alternative is telling the caller the outcome is unknown). The first attempt runs bare:
   * the backoff machinery, and the promises it makes, start only after a retryable failure.
   */
  function call<T>(operation: string, run: () => Promise<T>, patient = false): Promise<T> {
    return attempt(operation, run, 1).catch((error: unknown) => {
      const options = patient ? patientRetries : retries;
      if (options.numOfAttempts === 0 || !isRetryable(error)) throw error;
      let number = 1;
      return backOff(() => attempt(operation, run, ++number), options);
    });
  }

  /** One attempt of a driver call, a client span (`dynamodb.putEvents`, attribute `keyvent.attempt`). */
  function attempt<T>(operation: string, run: () => Promise<T>, number: number): Promise<T> {
    return spans.request(operation, { 'keyvent.attempt': number }, () => callOnce(operation, run));
  }

  async function callOnce<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (closed) throw new StoreClosedError(driver.name);
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

  /** Refuses new operations, waits for those in flight, runs `beforeClose` (publication), closes the driver. */
  function close(beforeClose: () => Promise<void>): Promise<void> {
    closing ??= (async () => {
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await beforeClose();
      closed = true;
      await driver.close();
    })();
    return closing;
  }

  return { operation, call, lastSequence, close, isClosing: () => closing !== undefined, spans };
}

const isRetryable = (error: unknown) => isDriverError(error) && error.retryable;

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
