import { randomUUID } from 'node:crypto';
import type { DriverLimits, EventStore, KeyValueDriver, NewEvent, ReadOptions, StoredEvent } from '@keyvent/core';
import type { FaultInjector, FaultOptions } from './faults.js';

/** The test functions the suite registers with: Jest's and Vitest's globals fit as they are. */
export interface TestApi {
  describe: (name: string, body: () => void) => void;
  it: (name: string, test: () => Promise<void>, timeout?: number) => void;
  beforeAll: (hook: () => Promise<void>, timeout?: number) => void;
  afterAll: (hook: () => Promise<void>, timeout?: number) => void;
}

export interface ConformanceOptions {
  /** The driver's name in test titles. */
  name: string;
  /** Makes a driver on the real backend. Called once for the suite, and again by the lifecycle cases. */
  createDriver: () => KeyValueDriver | Promise<KeyValueDriver>;
  /** Length of the long-stream cases. Default 10,000. */
  longStreamLength?: number;
  /** Timeout of each case in milliseconds. Default 60,000. */
  timeout?: number;
  /**
   * A way to lose requests and replies between a driver and the backend (the `faults` concern runs
   * only with it): every server backend should run it, through `startFaultProxy` of `@keyvent/testing`
   * or a fault injector of its own.
   */
  faults?: FaultOptions;
}

/** What each concern's cases share: the test API, the suite's store and driver, and helpers. */
export interface SuiteContext {
  it: (name: string, test: () => Promise<void>, timeout?: number) => void;
  options: Required<Omit<ConformanceOptions, 'faults'>> & Pick<ConformanceOptions, 'faults'>;
  store: () => EventStore;
  driver: () => KeyValueDriver;
  limits: () => DriverLimits;
  /** The largest commit the driver takes (at most 100), for building long streams. */
  commitSize: () => number;
  /** The driver through the fault injector, its injector, and a store on it without faults. */
  faulty: () => { driver: KeyValueDriver; injector: FaultInjector; store: EventStore };
}

/** A stream key no other case (or concurrent run) uses. */
export function uniqueKey(label: string): string {
  return `conformance/${label}/${randomUUID()}`;
}

export function makeEvents(count: number, type = 'Tested', start = 1): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type, data: { n: start + i } }));
}

export async function readAll(store: EventStore, key: string, options?: ReadOptions): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const event of store.readStream(key, options)) events.push(event);
  return events;
}

export const sequencesOf = (events: readonly StoredEvent[]) => events.map((event) => event.sequence);

export function range(from: number, to: number): number[] {
  return from > to ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Appends `length` events in commits of `commitSize`, each at its exact expected version. */
export async function appendMany(store: EventStore, key: string, length: number, commitSize: number): Promise<void> {
  for (let version = 0; version < length; version += commitSize) {
    const count = Math.min(commitSize, length - version);
    await store.append(key, makeEvents(count, 'Tested', version + 1), { expectedVersion: version });
  }
}

/** Closes `store`; says `'closed'`, or `'still pending'` if close has not settled within `waitMs` (a hang). */
export async function closeWithin(store: EventStore, waitMs: number): Promise<'closed' | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    store.close().then(() => 'closed' as const),
    new Promise<'still pending'>((resolve) => (timer = setTimeout(resolve, waitMs, 'still pending'))),
  ]);
  clearTimeout(timer);
  return outcome;
}

/** Polls until `condition` holds, failing after `timeoutMs`: for asynchronous deliveries, a bound on a busy machine, not a speed. */
export async function eventually(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs `action`, which must fail with an error that `guard` accepts; returns that error. */
export async function expectError<T>(action: () => Promise<unknown>, guard: (error: unknown) => error is T, what: string): Promise<T> {
  let outcome: unknown;
  try {
    outcome = await action();
  } catch (error) {
    if (guard(error)) return error;
    throw new Error(`expected ${what}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  throw new Error(`expected ${what}, but the call succeeded with ${JSON.stringify(outcome)?.slice(0, 200)}`);
}

/**
 * A driver that forwards to the suite's driver, with some callbacks replaced, and never closes it: for
 * cases that count or disturb calls on the real backend.
 */
/** A driver's settings (not calls), which a wrapper passes on as they are. */
export const DRIVER_SETTINGS = ['limits', 'atomicPriorCheck', 'preferredPageSize', 'listingDelayMs'] as const;

export function wrapDriver(driver: KeyValueDriver, overrides: Partial<Pick<KeyValueDriver, 'putEvents' | 'checkSequence'>>): KeyValueDriver {
  const wrapped: KeyValueDriver = {
    name: driver.name,
    checkSequence: overrides.checkSequence ?? ((key, sequence) => driver.checkSequence(key, sequence)),
    fetchEvents: (key, after, limit, options) => driver.fetchEvents(key, after, limit, options),
    putEvents: overrides.putEvents ?? ((events, options) => driver.putEvents(events, options)),
    close: async () => {},
  };
  for (const name of DRIVER_SETTINGS) {
    if (driver[name] !== undefined) Object.assign(wrapped, { [name]: driver[name] });
  }
  if (driver.listKeys) wrapped.listKeys = (options) => driver.listKeys!(options);
  if (driver.lastSequence) wrapped.lastSequence = (key) => driver.lastSequence!(key);
  return wrapped;
}
