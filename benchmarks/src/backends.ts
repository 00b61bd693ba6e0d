import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@keyvent/cli';
import type { EventStore } from '@keyvent/core';
import { startBackend, type BackendName, type RunningBackend } from '@keyvent/testing';

/** Every backend the tools run on: the four servers and the two embedded stores. */
export const BACKENDS = ['memory', 'level', 'dynamodb', 'azure-tables', 'cassandra', 'mongodb'] as const;
export type Backend = (typeof BACKENDS)[number];

const SERVERS: readonly string[] = ['dynamodb', 'azure-tables', 'cassandra', 'mongodb'] satisfies BackendName[];

/** A backend made ready for a tool: its store URL (for `openStore`), what it runs on, and how to stop it. */
export interface PreparedBackend {
  name: Backend;
  description: string;
  /** The store URL, with a fresh table / keyspace / database / directory named `namespace`. */
  url: string;
  server?: RunningBackend;
  open(): Promise<EventStore>;
  stop(): Promise<void>;
}

/** The store URL of a running server; a fresh namespace each time so that runs never see each other's data. */
export function storeUrl(server: Pick<RunningBackend, 'name' | 'connection'>, namespace: string): string {
  switch (server.name) {
    case 'dynamodb': {
      const { endpoint, credentials } = server.connection as RunningBackend<'dynamodb'>['connection'];
      process.env.AWS_ACCESS_KEY_ID ??= credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY ??= credentials.secretAccessKey;
      return `dynamodb://${new URL(endpoint).host}/${namespace}`;
    }
    case 'azure-tables':
      process.env.KEYVENT_AZURE_TABLES_CONNECTION = (server.connection as RunningBackend<'azure-tables'>['connection']).connectionString;
      return `azure-tables:${namespace}`;
    case 'cassandra': {
      const { contactPoints, localDataCenter } = server.connection as RunningBackend<'cassandra'>['connection'];
      return `cassandra://${contactPoints[0]}/${namespace}?dc=${encodeURIComponent(localDataCenter)}`;
    }
    case 'mongodb': {
      const url = new URL((server.connection as RunningBackend<'mongodb'>['connection']).uri);
      url.pathname = `/${namespace}`;
      return url.toString();
    }
  }
}

/** Starts (or finds) the backend and names a fresh namespace on it. */
export async function prepareBackend(name: Backend, namespace = `k${Date.now().toString(36)}`): Promise<PreparedBackend> {
  if (!(BACKENDS as readonly string[]).includes(name)) throw new Error(`unknown backend ${JSON.stringify(name)}: use one of ${BACKENDS.join(', ')}`);
  if (name === 'memory') return { name, description: 'in memory', url: 'memory:', open: () => openStore('memory:'), stop: async () => {} };
  if (name === 'level') {
    const directory = await mkdtemp(join(tmpdir(), 'keyvent-level-'));
    const url = `level:${directory}`;
    return { name, description: `LevelDB (classic-level) in ${directory}`, url, open: () => openStore(url), stop: () => rm(directory, { recursive: true, force: true }) };
  }
  if (!SERVERS.includes(name)) throw new Error(`no server for ${name}`);
  const server = await startBackend(name as BackendName);
  const url = storeUrl(server, namespace);
  return { name, description: server.description, url, server, open: () => openStore(url), stop: () => server.stop() };
}

/** `pnpm x -- --flag` hands the `--` on: drop it so the flags are parsed as flags. */
export const cliArguments = (argv: string[]): string[] => argv.filter((value, i) => !(i === 2 && value === '--'));
