import { describeFailure, ExitCode } from './failure.js';
import { createProgram } from './program.js';

/**
 * Runs the `keyvent` command on `argv` as the binary does and resolves to its exit code (see
 * {@link describeFailure}). Whatever it prints on failure goes to stderr with its secrets masked:
 * commander's own messages (printed, masked, by the program before it rejects) and keyvent's errors.
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
    const { text, exitCode } = describeFailure(error);
    if (text) process.stderr.write(`${text}\n`);
    return exitCode;
  }
}

/**
 * Ends the process as Unix tools do when the reader of `stdout` goes away (`keyvent read … | head` closes
 * the pipe after its lines: Node then fails the next write with EPIPE): at once, with exit code 141
 * (128 + SIGPIPE), so that under `set -o pipefail` a command that did not finish does not pass for one
 * that succeeded. EPIPE on `stderr` is ignored, as nothing can be reported there any more. Other errors
 * of either stream stay errors.
 *
 * @example
 * ```ts
 * exitWhenPipeCloses(process.stdout, process.stderr);
 * ```
 */
export function exitWhenPipeCloses(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
  const onError = (closed: () => void) => (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed();
  };
  stdout.on('error', onError(() => process.exit(ExitCode.pipeClosed)));
  stderr.on('error', onError(() => undefined));
}
