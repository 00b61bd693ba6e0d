import { CommanderError } from 'commander';
import { describeFailure } from './failure.js';
import { createProgram } from './program.js';

/**
 * Runs the `keyvent` command on `argv` as the binary does and resolves to its exit code. Whatever it
 * prints on failure goes to stderr with its secrets masked: commander's own messages (printed, masked,
 * by the program before it rejects) and keyvent's errors (through {@link describeFailure}).
 *
 * @example
 * ```ts
 * process.exitCode = await runKeyvent(process.argv);
 * ```
 */
export async function runKeyvent(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const { text, exitCode } = describeFailure(error);
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}
