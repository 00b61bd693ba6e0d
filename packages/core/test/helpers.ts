import { createConsumer, createMemoryDriver, createStore, type Consumer, type ConsumerOptions, type FeedEvent, type KeyValueDriver, type MemoryDriverOptions } from '@keyvent/core';

export type CallLog = Record<string, number>;

/** A memory driver that counts each callback, optionally stripped of some optional capabilities. */
export function countingDriver(
  options: MemoryDriverOptions & { without?: ('lastSequence' | 'listKeys' | 'atomicPriorCheck')[] } = {},
): { driver: KeyValueDriver; calls: CallLog } {
  const inner = createMemoryDriver(options);
  const calls: CallLog = {};
  const counted = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      calls[name] = (calls[name] ?? 0) + 1;
      return fn(...args);
    };
  const driver: KeyValueDriver = {
    ...inner,
    checkSequence: counted('checkSequence', inner.checkSequence),
    fetchEvents: counted('fetchEvents', inner.fetchEvents),
    putEvents: counted('putEvents', inner.putEvents),
    lastSequence: counted('lastSequence', inner.lastSequence!),
    listKeys: counted('listKeys', inner.listKeys!),
  };
  for (const capability of options.without ?? []) delete (driver as { [K in typeof capability]?: unknown })[capability];
  return { driver, calls };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve function, to hold a driver call or a handler until the test lets it go. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Whether `promise` settles within `ms`; the timer is cleared either way, so nothing keeps Jest waiting. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `condition` holds; fails after `ms`. For deliveries that happen in the background. */
export async function eventually(condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
}

const runningConsumers: Consumer[] = [];

/** Has `stopConsumers` stop a consumer a test started itself. */
export const stopAfterTest = (consumer: Consumer) => void runningConsumers.push(consumer);

/** Stops the consumers `consumerFixture` started: for `afterEach`. */
export const stopConsumers = () => Promise.all(runningConsumers.splice(0).map((consumer) => consumer.stop()));

/** A store on the memory driver (an exact feed: no settle delay), and consumers of one name on it. */
export function consumerFixture() {
  const driver = createMemoryDriver();
  const store = createStore(driver);
  function follow(options: Partial<ConsumerOptions> = {}) {
    const seen: FeedEvent[] = [];
    const consumer = createConsumer(store, { name: 'projection', pollMs: 10, handler: (events) => void seen.push(...events), ...options });
    runningConsumers.push(consumer);
    return { seen, consumer };
  }
  /** The worker named in a range's checkpoint row, once a worker has claimed it. */
  async function holder(row: string): Promise<string | undefined> {
    const found = await driver.feed!.loadCheckpoint(row);
    return found && (JSON.parse(found.value) as { worker: string }).worker;
  }
  /** Has a worker claimed a range (written a range's row, `<name>#<from>-<to>`)? */
  const claimed = async () => (await driver.feed!.listCheckpoints()).some((row) => /#\d+-\d+$/.test(row.name));
  return { driver, store, follow, holder, claimed };
}
