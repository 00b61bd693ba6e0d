import { join } from 'node:path';
import { Command } from 'commander';
import { runDemo } from './demo/run-demo.js';

/** The `keyvent` command. Built as a function so tests can run it without a process. */
export function createProgram(print: (line: string) => void = console.log): Command {
  const program = new Command('keyvent')
    .description('keyvent: an event store on the key-value and table stores you already run')
    .showHelpAfterError('(run keyvent --help for usage)');

  program
    .command('demo')
    .description('run a small bank-account app on the embedded LevelDB store and explain each step')
    .option('--data <dir>', 'where the LevelDB store lives', join('.keyvent-data', 'demo'))
    .action(async (options: { data: string }) => {
      await runDemo({ location: options.data, print });
    });

  return program;
}
