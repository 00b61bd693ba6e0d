import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { isInternalStream } from './keys.js';
import type { StoredEvent } from './types.js';
import { assertSequence } from './validation.js';

export type EventHandler = (event: StoredEvent) => void | Promise<void>;

/** Why the store stopped delivering to a subscriber that had not unsubscribed. */
export interface SubscriptionDropped {
  /** `overflow`: a commit would have passed `maxBacklog`; `close-timeout`: close's deadline passed first. */
  reason: 'overflow' | 'close-timeout';
  /** How many committed events this subscriber will never receive (the overflowing commit included). */
  undelivered: number;
  /** The first of them, to catch up from the store with `readStream` (events of other streams may follow it). */
  firstUndelivered: { key: string; sequence: number } | undefined;
}

export interface SubscribeOptions {
  /** Called when the handler throws or rejects; the event stays committed. Defaults to `console.error`. */
  onError?: (error: unknown, event: StoredEvent) => void;
  /**
   * The most events that may wait for this subscriber (or one commit, if that is larger). A commit that
   * would pass it drops the subscription (see `onDropped`) instead of growing memory without bound.
   * Default 10,000.
   */
  maxBacklog?: number;
  /**
   * Called once if the store stops delivering to this subscriber: its backlog overflowed, or the store
   * closed before the handler took everything (see `StoreOptions.closeTimeoutMs`). Defaults to `console.error`.
   */
  onDropped?: (dropped: SubscriptionDropped) => void;
}

const DEFAULT_MAX_BACKLOG = 10_000;

/** One subscriber's queue: committed events wait here, in order, for its handler. */
function createSubscriber(handler: EventHandler, options: SubscribeOptions, remove: () => void) {
  const maxBacklog = options.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  assertSequence(maxBacklog, 'maxBacklog');
  const onError = options.onError ?? ((error, event) => console.error(`[keyvent] subscriber failed on ${event.key}#${event.sequence}:`, error));
  const onDropped =
    options.onDropped ??
    ((dropped) => console.error(`[keyvent] subscription dropped (${dropped.reason}), ${dropped.undelivered} event(s) undelivered`));
  let queue: StoredEvent[] = [];
  let head = 0;
  let running: Promise<void> | undefined;
  let active = true;

  async function run(): Promise<void> {
    // Yield first: a loop whose handlers all throw synchronously would otherwise finish, and clear
    // `running`, before `offer` stores its promise, which would then stay set for ever (and `idle` spin).
    await undefined;
    while (active && head < queue.length) {
      const event = queue[head++]!;
      if (head > 1024 && head * 2 > queue.length) (queue = queue.slice(head)), (head = 0);
      try {
        await handler(event);
      } catch (error) {
        report(() => onError(error, event), error);
      }
    }
    running = undefined;
  }

  function drop(reason: SubscriptionDropped['reason'], extra: readonly StoredEvent[] = []): void {
    if (!active) return;
    const left = [...queue.slice(head), ...extra];
    active = false;
    queue = [];
    head = 0;
    remove();
    const first = left[0];
    const dropped = { reason, undelivered: left.length, firstUndelivered: first && { key: first.key, sequence: first.sequence } };
    report(() => onDropped(dropped), reason);
  }

  return {
    /** Queues a commit's events, or drops the subscription if they would pass the bound. */
    offer(events: readonly StoredEvent[]): void {
      if (!active) return;
      // An empty queue takes any one commit: a commit larger than the bound must not drop an idle subscriber.
      const waiting = queue.length - head;
      if (waiting > 0 && waiting + events.length > maxBacklog) return drop('overflow', events);
      for (const event of events) queue.push(event);
      // Handlers run in a context of their own: the delivery loop outlives the append whose span is
      // active when it starts, and its handlers serve later commits of any stream.
      running ??= context.with(ROOT_CONTEXT, run);
    },
    /** Resolves when everything queued so far was handled. */
    idle: async () => {
      while (running) await running;
    },
    busy: () => running !== undefined,
    drop,
    stop: () => void (active = false),
  };
}

type Subscriber = ReturnType<typeof createSubscriber>;

function report(callback: () => void, original: unknown): void {
  try {
    callback();
  } catch (secondary) {
    console.error("[keyvent] a subscriber's callback threw:", secondary, 'while handling', original);
  }
}

interface InFlightCommit {
  base: number;
  /** Made when a later commit of the stream first has to wait for this one (most never do). */
  settled?: Promise<void>;
  settle?: () => void;
}

const settledOf = (commit: InFlightCommit) => (commit.settled ??= new Promise<void>((resolve) => (commit.settle = resolve)));

/**
 * Delivers committed events to subscribers, each through its own bounded queue, in sequence order per
 * stream. Acknowledgements can arrive in any order (a commit at a lower base may even be issued later
 * and land first), so a commit is published only once every commit of the same stream through this
 * store that is still in flight when it is acknowledged, at a lower base, has settled.
 */
export function createPublisher() {
  const subscribers = new Set<Subscriber>();
  const inFlight = new Map<string, InFlightCommit[]>();
  /** Publications waiting for an earlier commit of their stream to settle. */
  const held = new Set<Promise<void>>();
  let closed = false;

  function subscribe(handler: EventHandler, options: SubscribeOptions = {}): () => void {
    const subscriber: Subscriber = createSubscriber(handler, options, () => subscribers.delete(subscriber));
    if (!closed) subscribers.add(subscriber);
    return () => {
      subscriber.stop();
      subscribers.delete(subscriber);
    };
  }

  /**
   * Runs `commit` (which writes events after `base`) and publishes what it returns once every commit of
   * the stream at a lower base, in flight when it returns, has settled (a commit stays in flight until it
   * is published). The caller gets the result at once; only publication waits.
   */
  async function track<T extends { events: StoredEvent[] }>(key: string, base: number, commit: () => Promise<T>): Promise<T> {
    const entry: InFlightCommit = { base };
    const commits = inFlight.get(key) ?? [];
    if (commits.push(entry) === 1) inFlight.set(key, commits);
    const release = () => {
      if (commits.length === 1) inFlight.delete(key);
      else commits.splice(commits.indexOf(entry), 1);
      entry.settle?.();
    };
    let result: T;
    try {
      result = await commit();
    } catch (error) {
      release();
      throw error;
    }
    // Judged now, not when the commit started: one issued later at a lower base may still be in flight.
    const earlier = commits.filter((other) => other.base < base).map(settledOf);
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
    // keyvent's own streams (snapshots) are no domain events: subscribers, like consumers, do not see them.
    if (closed || isInternalStream(events[0]!.key)) return;
    for (const subscriber of subscribers) subscriber.offer(events);
  }

  /**
   * Stops publishing once every event committed so far has been handed to the subscribers' handlers,
   * or, after `timeoutMs`, drops the subscriptions still busy (their `onDropped` says what they missed).
   */
  async function close(timeoutMs: number): Promise<void> {
    while (held.size > 0) await Promise.all(held);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...subscribers].map((subscriber) => subscriber.idle())), deadline]);
    clearTimeout(timer);
    closed = true;
    for (const subscriber of subscribers) {
      if (subscriber.busy()) subscriber.drop('close-timeout');
      else subscriber.stop();
    }
    subscribers.clear();
  }

  return { subscribe, track, close };
}
