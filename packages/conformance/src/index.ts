import { createStore, type EventStore, type KeyValueDriver } from '@keyvent/core';
import { appendCases } from './append.js';
import { concurrencyCases } from './concurrency.js';
import type { ConformanceOptions, SuiteContext, TestApi } from './context.js';
import { dataCases } from './data.js';
import { faultCases } from './faults.js';
import { FEED_SKEW_MS, FEED_TIMINGS, feedCases } from './feed.js';
import { hostileInputCases } from './hostile.js';
import { importCases } from './import.js';
import { retryCases } from './retries.js';
import { snapshotCases } from './snapshots.js';
import { keyCases } from './keys.js';
import { lifecycleCases } from './lifecycle.js';
import { limitCases } from './limits.js';
import { listCases } from './list.js';
import { readCases } from './read.js';
import { subscribeCases } from './subscribe.js';

export type { ConformanceOptions, TestApi } from './context.js';
export type { FaultInjector, FaultOptions } from './faults.js';
export { hostileCases } from './hostile.js';
export { runTorture, type TortureOptions, type TortureReport } from './torture.js';

const concerns = {
  append: appendCases,
  concurrency: concurrencyCases,
  read: readCases,
  list: listCases,
  keys: keyCases,
  data: dataCases,
  limits: limitCases,
  subscribe: subscribeCases,
  import: importCases,
  snapshots: snapshotCases,
  retries: retryCases,
  hostile: hostileInputCases,
  lifecycle: lifecycleCases,
};

/**
 * Registers the keyvent conformance suite for one driver: every rule an event store must keep, run
 * against the real backend. Call it from a test file of your driver; Jest's and Vitest's globals fit.
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, it } from '@jest/globals';
 * import { registerConformanceSuite } from '@keyvent/conformance';
 *
 * registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
 *   name: 'my-driver',
 *   createDriver: () => createMyDriver({ endpoint: process.env.MY_ENDPOINT! }),
 * });
 * ```
 */
export function registerConformanceSuite(api: TestApi, options: ConformanceOptions): void {
  const settings: SuiteContext['options'] = { longStreamLength: 10_000, timeout: 60_000, ...options };
  let driver: KeyValueDriver | undefined;
  let store: EventStore | undefined;
  let faulty: ReturnType<SuiteContext['faulty']> | undefined;
  const context: SuiteContext = {
    it: (name, test, timeout) => api.it(name, test, timeout ?? settings.timeout),
    options: settings,
    store: () => store ?? fail('store'),
    driver: () => driver ?? fail('driver'),
    limits: () => context.driver().limits ?? {},
    commitSize: () => Math.min(100, context.limits().maxEventsPerCommit ?? 100),
    faulty: () => faulty ?? fail('faulty driver'),
  };

  api.describe(`keyvent conformance: ${settings.name}`, () => {
    api.beforeAll(async () => {
      driver = await settings.createDriver();
      store = createStore(driver);
    }, settings.timeout);
    api.afterAll(async () => {
      await store?.close();
    }, settings.timeout);
    for (const [concern, register] of Object.entries(concerns)) api.describe(concern, () => register(context));
    api.describe('feed', () => registerFeedCases(api, context, settings));
    const faults = settings.faults;
    if (faults) {
      api.describe('faults', () => {
        api.beforeAll(async () => {
          const faultyDriver = await faults.createDriver();
          faulty = { driver: faultyDriver, injector: faults.injector(), store: createStore(faultyDriver) };
        }, settings.timeout);
        api.afterAll(async () => {
          await faulty?.store.close();
        }, settings.timeout);
        faultCases(context);
      });
    }
  });
}

/**
 * The change feed, on stores with short feed timings over drivers of their own (one of them with a clock
 * that runs behind). A driver without a feed is held to refusing it with NotSupportedError.
 */
function registerFeedCases(api: TestApi, context: SuiteContext, settings: SuiteContext['options']) {
  let feedStore: EventStore | undefined;
  let skewedStore: EventStore | undefined;
  let feedDriver: KeyValueDriver | undefined;
  api.beforeAll(async () => {
    if (!context.driver().feed) return;
    const driver = (feedDriver = await settings.createDriver());
    feedStore = createStore(driver, { feed: FEED_TIMINGS });
    // The same driver (a memory driver's data is its own), left open for the feed store to close.
    skewedStore = createStore({ ...driver, close: async () => {} }, { feed: { ...FEED_TIMINGS, clock: () => Date.now() - FEED_SKEW_MS } });
  }, settings.timeout);
  api.afterAll(async () => {
    await Promise.all([feedStore?.close(), skewedStore?.close()]);
  }, settings.timeout);
  feedCases({
    ...context,
    feedStore: () => feedStore ?? fail('feed store'),
    skewedStore: () => skewedStore ?? fail('skewed store'),
    feedDriver: () => feedDriver ?? fail('feed driver'),
  });
}

function fail(what: string): never {
  throw new Error(`[keyvent] [conformance] the suite's ${what} is not ready: did createDriver fail in beforeAll?`);
}
