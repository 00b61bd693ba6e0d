import { createRequire } from 'node:module';

interface Manifest {
  version: string;
  peerDependencies: Readonly<Record<string, string>>;
}

/** This package's package.json, read at run time: the one source of the CLI's version and of its peer dependencies' ranges. */
export const manifest = createRequire(import.meta.url)('../package.json') as Manifest;
