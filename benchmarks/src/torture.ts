#!/usr/bin/env node
import { Command, Option } from 'commander';
import { runTorture } from '@keyvent/conformance';
import { BACKENDS, cliArguments, prepareBackend, type Backend } from './backends.js';

const program = new Command('torture')
  .description('32 writers appending at exact versions to the same streams; then every stream is checked')
  .addOption(new Option('-b, --backend <name>', 'the backend').choices(BACKENDS).makeOptionMandatory())
  .option('-w, --writers <n>', 'concurrent writers', Number, 32)
  .option('-s, --streams <n>', 'streams they share', Number, 8)
  .option('-a, --appends <n>', 'successful appends per writer', Number, 100)
  .action(async (options: { backend: Backend; writers: number; streams: number; appends: number }) => {
    const backend = await prepareBackend(options.backend);
    console.log(`torture on ${backend.name}: ${backend.description}`);
    const store = await backend.open();
    try {
      const report = await runTorture(store, { writers: options.writers, streams: options.streams, appendsPerWriter: options.appends });
      const seconds = report.durationMs / 1000;
      console.log(
        `${options.writers} writers, ${options.streams} streams: ${report.appends} appends acknowledged ` +
          `(${report.acknowledgedEvents} events), ${report.conflicts} refused with ConcurrencyError and retried, ` +
          `${seconds.toFixed(1)} s (${Math.round(report.appends / seconds)} appends/s)`,
      );
      console.log(`read back: ${report.storedEvents} events; problems: ${report.problems.length}`);
      for (const problem of report.problems.slice(0, 20)) console.log(`  ${problem}`);
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    } finally {
      await store.close();
      await backend.stop();
    }
  });

await program.parseAsync(cliArguments(process.argv));
