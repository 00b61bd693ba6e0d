import type { ClassicLevel } from 'classic-level';
import { DriverError } from '@keyvent/core';

/**
 * Opens a database the driver created, waiting for the open classic-level starts by itself (or
 * trying again if that failed). A failure becomes a `DriverError` that names the directory: left to
 * classic-level, every later call would only say "Database is not open".
 */
export async function openDatabase(db: ClassicLevel<string, string>, location: string): Promise<void> {
  try {
    await db.open();
  } catch (error) {
    throw new DriverError('level', `cannot open directory ${JSON.stringify(location)}: ${reason(error)}`, { cause: error });
  }
}

function reason(error: unknown): string {
  // classic-level throws LEVEL_DATABASE_NOT_OPEN with LevelDB's own error as the cause.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause?.code !== 'LEVEL_LOCKED') return String(cause?.message ?? (error as Error).message);
  if (String(cause.message).includes('already held by process')) {
    return 'it is already open in this process; give every driver the same ClassicLevel through the `db` option';
  }
  return 'it is in use by another process (LevelDB allows one process per directory); stop that process or use another directory';
}
