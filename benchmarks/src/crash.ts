#!/usr/bin/env node
import { Command, Option } from 'commander';
import { cliArguments } from './backends.js';
import { CRASHABLE, runCrashTest, type Crashable } from './crash-test.js';

const program = new Command('crash')
  .description('SIGKILL the backend in the middle of commits, restart it on its data, and check what survived')
  .addOption(new Option('-b, --backend <name>', 'the backend').choices(CRASHABLE).makeOptionMandatory())
  .option('-k, --kills <n>', 'how many times to kill it', Number, 50)
  .option('-s, --streams <n>', 'streams written at once', Number, 8)
  .option('-w, --write-ms <min-max>', 'how long commits flow before each kill, a random time in this range (ms)', '300-1500')
  .action(async (options: { backend: Crashable; kills: number; streams: number; writeMs: string }) => {
    const range = /^(\d+)-(\d+)$/.exec(options.writeMs);
    if (!range || Number(range[1]) > Number(range[2])) program.error(`--write-ms wants a range in milliseconds such as 300-1500, not ${options.writeMs}`);
    const writeMs: [number, number] = [Number(range![1]), Number(range![2])];
    const report = await runCrashTest(options.backend, { ...options, writeMs, log: console.log });
    for (const problem of [...report.lost, ...report.partial].slice(0, 20)) console.log(`  ${problem}`);
    console.log(
      `${options.backend}: ${report.kills} kills, ${report.acknowledged} commits acknowledged, ${report.storedEvents} events stored ` +
        `(${report.unacknowledgedStored} commits stored whose acknowledgement a kill cut off); ` +
        `acknowledged commits lost: ${report.lost.length}; partly visible commits: ${report.partial.length}`,
    );
    process.exitCode = report.lost.length + report.partial.length > 0 ? 1 : 0;
  });

await program.parseAsync(cliArguments(process.argv));
