/** What a following command (`tail`) waits on: SIGINT (Ctrl-C) or SIGTERM, after which it stops cleanly. */
export interface StopSignal {
  /** True once a signal came. */
  readonly received: boolean;
  /** Settles at the first signal. */
  readonly stopped: Promise<void>;
  /** Waits `ms` milliseconds, or until a signal comes; leaves no timer behind either way. */
  pause(ms: number): Promise<void>;
  /** Stops listening: the signals have their default effect again (the process ends). */
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Listens for SIGINT and SIGTERM until `dispose`, so that a follower can finish what it prints, close
 * its store and exit 0 instead of being killed. Only the first signal is taken: a second one (a command
 * that does not stop) ends the process as usual.
 *
 * @example
 * ```ts
 * const signal = stopSignal();
 * try {
 *   while (!signal.received) await signal.pause(500);
 * } finally {
 *   signal.dispose();
 * }
 * ```
 */
export function stopSignal(): StopSignal {
  let received = false;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const dispose = () => {
    for (const name of SIGNALS) process.removeListener(name, onSignal);
  };
  function onSignal() {
    received = true;
    dispose();
    wake();
  }
  for (const name of SIGNALS) process.on(name, onSignal);
  return {
    get received() {
      return received;
    },
    stopped,
    pause(ms) {
      let timer: NodeJS.Timeout | undefined;
      const slept = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      return Promise.race([slept, stopped]).finally(() => clearTimeout(timer));
    },
    dispose,
  };
}
