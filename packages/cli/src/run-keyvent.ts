import { describeFailure } from './failure.js';
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
  // On Node 20 the AWS SDK warns, in eight lines on stderr, that its releases after January 2027 need
  // Node 22: news for whoever picks the SDK's version (this package's ranges), noise under each command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
 * Ends the process quietly when the reader of `stream` goes away (`keyvent read … | head` closes the pipe
 * after its lines: Node then fails the next write with EPIPE), as Unix tools do; other errors stay errors.
 *
 * @example
 * ```ts
 * exitWhenPipeCloses(process.stdout);
 * ```
 */
export function exitWhenPipeCloses(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
