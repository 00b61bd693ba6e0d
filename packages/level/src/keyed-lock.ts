/** Runs `task` (an async function) once every earlier task of the same key has settled. */
export type RunExclusive = <T>(key: string, task: () => Promise<T>) => Promise<T>;

/**
 * Runs tasks one at a time per key (and concurrently across keys). LevelDB has no conditional write,
 * so the driver makes "check, then write" atomic by letting one commit per stream run at a time.
 */
export function createKeyedLock(): RunExclusive {
  const tails = new Map<string, Promise<void>>();

  return function runExclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key);
    // Uncontended, the usual case, the task starts at once.
    const current = previous ? previous.then(task, task) : task();
    const release = () => {
      if (tails.get(key) === tail) tails.delete(key);
    };
    const tail = current.then(release, release);
    tails.set(key, tail);
    return current;
  };
}

// On globalThis under a registered symbol, so that two installed copies of @keyvent/level share one
// registry; the version in the name keeps a future change of shape from meeting this one.
const registryKey = Symbol.for('@keyvent/level.streamLocks.v1');

/**
 * The per-stream lock of one database object, shared by every driver on it in this process. A lock
 * per driver would let two drivers on one `db` both pass the check and overwrite each other's commit.
 * One object per directory is all a process can hold (classic-level locks the directory, also against
 * a second object in the same process), and one process per directory, so this lock covers every writer.
 */
export function streamLockOf(db: object): RunExclusive {
  const global = globalThis as { [registryKey]?: WeakMap<object, RunExclusive> };
  const registry = (global[registryKey] ??= new WeakMap());
  let lock = registry.get(db);
  if (!lock) registry.set(db, (lock = createKeyedLock()));
  return lock;
}
