#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { BACKENDS, cliArguments, prepareBackend, type Backend } from './backends.js';

const keyventBin = fileURLToPath(import.meta.resolve('@keyvent/cli')).replace(/index\.js$/, 'bin.js');

/** Runs the real `keyvent` command (its progress bar shows when stderr is a terminal). */
function keyvent(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [keyventBin, ...args], { stdio: 'inherit', env: process.env });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const program = new Command('copy-check')
  .description('seeds a LevelDB store (streams x events, commits of 10) and copies it with `keyvent copy` to a backend')
  .addOption(new Option('-b, --backend <name>', 'the target').choices(BACKENDS).default('dynamodb'))
  .option('--streams <n>', 'streams in the source', Number, 1000)
  .option('--events <n>', 'events per stream', Number, 100)
  .action(async (options: { backend: Backend; streams: number; events: number }) => {
    const source = await prepareBackend('level');
    const target = await prepareBackend(options.backend);
    try {
      const store = await source.open();
      const seeding = performance.now();
      for (let s = 0; s < options.streams; s++) {
        for (let version = 0; version < options.events; version += 10) {
          const events = Array.from({ length: Math.min(10, options.events - version) }, (_, i) => ({
            type: 'Deposited',
            data: { account: s, amount: version + i, memo: 'x'.repeat(40) },
            metadata: { correlationId: `seed-${s}-${version}` },
          }));
          await store.append(`account/${String(s).padStart(5, '0')}`, events, { expectedVersion: version });
        }
      }
      await store.close();
      console.log(`seeded ${options.streams} streams x ${options.events} events in ${((performance.now() - seeding) / 1000).toFixed(1)} s (${source.url})`);
      console.log(`target: ${target.description} (${target.url})`);
      const started = performance.now();
      const code = await keyvent(['copy', source.url, target.url]);
      console.log(`keyvent copy exited ${code} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      process.exitCode = code;
    } finally {
      await target.stop();
      await source.stop();
    }
  });

await program.parseAsync(cliArguments(process.argv));
