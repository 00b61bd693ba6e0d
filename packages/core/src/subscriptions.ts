import type { StoredEvent } from './types.js';

export type EventHandler = (event: StoredEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Called when the handler throws or rejects; the event stays committed. Defaults to `console.error`. */
  onError?: (error: unknown, event: StoredEvent) => void;
}

interface Subscriber {
  handler: EventHandler;
  onError: (error: unknown, event: StoredEvent) => void;
}

interface InFlightCommit {
  base: number;
  settled: Promise<void>;
}

/**
 * Delivers committed events to subscribers one at a time, in commit order per stream. A commit's
 * acknowledgement can overtake an earlier commit's on the wire, so a commit is published only after
 * every earlier commit of the same stream in flight through this store has settled.
 */
export function createPublisher() {
  const subscribers = new Set<Subscriber>();
  const inFlight = new Map<string, Set<InFlightCommit>>();
  let delivery: Promise<void> = Promise.resolve();
  /** Publications waiting for an earlier commit of their stream to settle. */
  const held = new Set<Promise<void>>();

  function subscribe(handler: EventHandler, options: SubscribeOptions = {}): () => void {
    const subscriber: Subscriber = {
      handler,
      onError:
        options.onError ??
        ((error, event) => console.error(`[keyvent] subscriber failed on ${event.key}#${event.sequence}:`, error)),
    };
    subscribers.add(subscriber);
    return () => void subscribers.delete(subscriber);
  }

  /**
   * Runs `commit` (which writes events after `base`) and publishes what it returns once every earlier
   * commit of the stream has settled. The caller gets the result at once; only publication waits.
   */
  async function track<T extends { events: StoredEvent[] }>(key: string, base: number, commit: () => Promise<T>): Promise<T> {
    let settle!: () => void;
    const entry: InFlightCommit = { base, settled: new Promise<void>((resolve) => (settle = resolve)) };
    const commits = inFlight.get(key) ?? new Set();
    const earlier = [...commits].filter((other) => other.base < base).map((other) => other.settled);
    commits.add(entry);
    inFlight.set(key, commits);
    const release = () => {
      commits.delete(entry);
      if (commits.size === 0) inFlight.delete(key);
      settle();
    };
    let result: T;
    try {
      result = await commit();
    } catch (error) {
      release();
      throw error;
    }
    if (earlier.length === 0) {
      publish(result.events);
      release();
    } else {
      const waiting = Promise.all(earlier).then(() => {
        publish(result.events);
        release();
        held.delete(waiting);
      });
      held.add(waiting);
    }
    return result;
  }

  function publish(events: StoredEvent[]): void {
    if (subscribers.size === 0) return;
    const targets = [...subscribers];
    delivery = delivery.then(() => deliver(targets, events));
  }

  async function deliver(targets: Subscriber[], events: StoredEvent[]): Promise<void> {
    for (const event of events) {
      for (const subscriber of targets) {
        if (!subscribers.has(subscriber)) continue;
        try {
          await subscriber.handler(event);
        } catch (error) {
          report(subscriber, error, event);
        }
      }
    }
  }

  function report(subscriber: Subscriber, error: unknown, event: StoredEvent): void {
    try {
      subscriber.onError(error, event);
    } catch (secondary) {
      console.error('[keyvent] a subscriber\'s onError threw:', secondary, 'while handling', error);
    }
  }

  /** Resolves once every event committed so far has been delivered. */
  async function drained(): Promise<void> {
    while (held.size > 0) await Promise.all(held);
    await delivery;
  }

  return { subscribe, track, drained };
}
