/**
 * Runs tasks one at a time per key (and concurrently across keys). LevelDB has no conditional write,
 * so the driver makes "check, then write" atomic by letting one commit per stream run at a time;
 * classic-level locks the directory, so this process is the only writer.
 */
export function createKeyedLock() {
  const tails = new Map<string, Promise<unknown>>();

  return async function runExclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const current = previous.then(task, task);
    const tail = current.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
