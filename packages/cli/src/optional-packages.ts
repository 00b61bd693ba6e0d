import { DriverError } from '@keyvent/core';
import { manifest } from './manifest.js';

/**
 * The packages each server's URL scheme needs beside the CLI. They are optional peer dependencies of
 * `@keyvent/cli`: installed by the user who needs them, so that inspecting a LevelDB store does not pull every SDK.
 */
export const SCHEME_PACKAGES = {
  dynamodb: ['@keyvent/dynamodb', '@aws-sdk/client-dynamodb'],
  mongodb: ['@keyvent/mongodb', 'mongodb'],
  cassandra: ['@keyvent/cassandra', 'cassandra-driver'],
  'azure-tables': ['@keyvent/azure-tables', '@azure/data-tables'],
} as const;

export type ServerScheme = keyof typeof SCHEME_PACKAGES;

/**
 * Runs `load` (the scheme's dynamic imports). When one of the scheme's packages is not installed,
 * fails with one line saying what to `npm install`, with the ranges of the CLI's peer dependencies.
 *
 * @example
 * ```ts
 * const [{ MongoClient }, { createMongoDbDriver }] = await importSchemePackages('mongodb', () => Promise.all([import('mongodb'), import('@keyvent/mongodb')]));
 * ```
 */
export async function importSchemePackages<T>(scheme: ServerScheme, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, SCHEME_PACKAGES[scheme])) throw error;
    const specs = SCHEME_PACKAGES[scheme].map(installSpec).join(' ');
    throw new DriverError(scheme, `${scheme} stores need packages that are not installed: npm install ${specs} (beside @keyvent/cli; with -g if it is global)`, { cause: error });
  }
}

/** Node's error for a missing package (ERR_MODULE_NOT_FOUND from `import`, MODULE_NOT_FOUND from `require`) naming one of `names`. */
function isMissingPackage(error: unknown, names: readonly string[]): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return names.some((name) => String(message).includes(`'${name}'`));
}

/** `name@range` with the CLI's peer range; the bare name for a `workspace:` range (this repository, before publishing rewrites it). */
function installSpec(name: string): string {
  const range = manifest.peerDependencies[name];
  return range === undefined || range.startsWith('workspace:') ? name : `${name}@${range}`;
}
