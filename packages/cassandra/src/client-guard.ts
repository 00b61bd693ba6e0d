import type { Client } from 'cassandra-driver';

/** The part of cassandra-driver's Host the guard touches. */
interface Host {
  address: string;
  shutdown(waitForPending: boolean): Promise<void>;
  getInFlight?(): number;
  pool?: { isClosing?(): boolean };
}

/** The part of cassandra-driver's (internal) ControlConnection the guard touches. */
interface ControlConnection {
  _refresh(hostIterator?: unknown): Promise<void>;
  _isShuttingDown?: boolean;
  _reconnectionSchedule?: Iterator<number>;
  log?(level: string, message: string, error?: unknown): void;
}

const GUARDED = Symbol.for('keyvent.cassandra.controlConnectionGuarded');
/** After a refresh that failed in a way the client does not handle itself, the next one is this much later. */
const RETRY_MS = 1_000;

/**
 * Keeps two defects of cassandra-driver 4.x (checked on 4.10.0) that a reset connection sets off from
 * reaching the users of a keyvent Cassandra store: an unhandled TypeError that ends the process, and
 * connection pools that are never shut down and keep the process alive after `client.shutdown()`.
 * Feature-detected: on a client without these internals it does nothing. Idempotent.
 */
export function guardClient(client: Client): void {
  serializeControlConnectionRefreshes(client);
  shutDownReplacedHosts(client);
}

const controlOf = (client: Client) => (client as unknown as { controlConnection?: ControlConnection & { [GUARDED]?: true } }).controlConnection;

/**
 * Runs the client's control-connection refreshes one at a time, and keeps a refresh's failure from
 * reaching the process as an unhandled rejection.
 *
 * Why: cassandra-driver 4.x (checked on 4.10.0, lib/control-connection.js) starts a refresh from each
 * set of health listeners that fires (a host going down, the control socket closing) and from each
 * reconnection it schedules with `setTimeout(() => this._refresh(), delay)`, with nothing to stop two
 * from running together. Each refresh begins with `this.connection = null`, so one refresh's catch
 * block, `this._triedHosts[this.connection.endpoint] = err`, or `_setHealthListeners`
 * (`this.connection.once(…)`), can run after another nulled the field: a `TypeError: Cannot read
 * properties of null (reading 'endpoint')` (or `'once'`), unhandled when that refresh came
 * from the timer, which ends a Node process. Every refresh that succeeds also adds its own health
 * listeners to the host (hence "11 down listeners added to [Host]" warnings), so each later reset
 * starts one refresh per set, and the races multiply. Resets of the control connection are ordinary in
 * production (a node restarted, an idle timeout, a load balancer), so this guard is always on.
 *
 * A refresh asked for while one runs is run once after it (not dropped: the running one may already
 * have passed the point where it would notice the new failure). The driver's own retries within a
 * refresh (same query plan, `hostIterator` given) pass straight through. Feature-detected: on a client
 * without this internal shape it does nothing.
 */
function serializeControlConnectionRefreshes(client: Client): void {
  const control = controlOf(client);
  if (!control || typeof control._refresh !== 'function' || control[GUARDED]) return;
  control[GUARDED] = true;
  const refresh = control._refresh.bind(control);
  let running: Promise<void> | undefined;
  let again = false;
  const delays = takeOverReconnectionDelays(control);

  async function serially(): Promise<void> {
    // Never settle before `running` holds this promise (a refresh asked for during a shutdown would
    // otherwise leave a settled promise in `running`, and every later refresh folded into it).
    await undefined;
    try {
      do {
        again = false;
        if (control!._isShuttingDown) return;
        await Promise.resolve()
          .then(() => refresh())
          .catch((error: unknown) => {
            control!.log?.('error', '[keyvent] a control connection refresh failed; trying again', error);
            const timer = setTimeout(() => void control!._refresh(), RETRY_MS);
            timer.unref();
          });
      } while (again);
    } finally {
      running = undefined;
    }
  }

  control._refresh = (hostIterator?: unknown) => {
    if (hostIterator !== undefined) return refresh(hostIterator);
    const delay = delays.take();
    if (delay > 0) {
      // The driver's reconnection, scheduled with a delay of 0 (below): waited out here, on a timer that
      // does not hold the process, and not run at all once the client shuts down.
      return new Promise<void>((resolve) => setTimeout(resolve, delay).unref()).then(() => (control._isShuttingDown ? undefined : control._refresh()));
    }
    if (running) {
      again = true;
      return running;
    }
    return (running = serially());
  };
}

/**
 * The driver schedules a failed control connection's next try with `setTimeout(() => this._refresh(),
 * delay)`, a delay of up to the reconnection policy's maximum (10 minutes by default), on a timer it
 * keeps no handle of and never clears: after an outage it holds a process that closed its store until
 * it fires. The schedule the driver reads the delay from is wrapped so that it reads 0; the delay it
 * would have been is kept for the guard's `_refresh`, which waits it out on an unref'd timer.
 */
function takeOverReconnectionDelays(control: ControlConnection) {
  const pending: number[] = [];
  const wrap = (schedule: Iterator<number> | undefined): Iterator<number> | undefined =>
    schedule && typeof schedule.next === 'function'
      ? {
          next: () => {
            const step = schedule.next();
            if (!step.done && typeof step.value === 'number' && step.value > 0) pending.push(step.value);
            return step.done ? step : { done: false, value: 0 };
          },
        }
      : schedule;
  let current = wrap(control._reconnectionSchedule);
  // The driver assigns a new schedule after each successful connect.
  Object.defineProperty(control, '_reconnectionSchedule', {
    configurable: true,
    get: () => current,
    set: (schedule: Iterator<number> | undefined) => void (current = wrap(schedule)),
  });
  return { take: () => pending.shift() ?? 0 };
}

/**
 * Shuts down a host the client replaced. When the control connection finds no host with an open connection
 * (every pool reset at once), it connects again from the contact points as on first connect, and
 * `_setLocalInfo` puts a new Host object for the node it reached into `client.hosts` in place of the old
 * one. The map emits `remove` for the old one, on which the client only drops its listeners: its
 * connection pool lives on, reconnecting with timers of up to the reconnection policy's maximum (10
 * minutes by default) and holding sockets to a live node, one orphan pool per such reconnect; 300 resets
 * through the fault proxy left 265 of them, and the process alive minutes after shutdown. A host removed
 * from the map is shut down here: at once when nothing is in flight on it (a drain would leave the
 * driver's ref'd fallback timer of `readTimeout` behind), else draining. Left alone: a host whose pool
 * is closing already, and every host while the control connection itself is shutting down (a failed
 * connect's reset, which shuts their pools itself).
 *
 * Left as it is: the driver builds its token map once, at first connect, so after a replacement the map
 * still names the old Host object, now shut down: token-aware routing to that node is lost for the
 * client's life (requests go to the other replicas and to the live object through the query plan's
 * other hosts). Rebuilding it here (`metadata.buildTokens`) broke routing altogether in the reset
 * storm: the new Host has no tokens yet when it is added.
 */
function shutDownReplacedHosts(client: Client): void {
  const hosts = (client as unknown as { hosts?: { on?: (event: string, listener: (host: Host) => void) => unknown; [GUARDED]?: true } }).hosts;
  if (!hosts || typeof hosts.on !== 'function' || hosts[GUARDED]) return;
  hosts[GUARDED] = true;
  const control = controlOf(client);
  hosts.on('remove', (host) => {
    if (typeof host?.shutdown !== 'function' || control?._isShuttingDown || host.pool?.isClosing?.()) return;
    const draining = (host.getInFlight?.() ?? 1) > 0;
    Promise.resolve()
      .then(() => host.shutdown(draining))
      .catch(() => {});
  });
}
