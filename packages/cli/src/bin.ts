#!/usr/bin/env node
import { describeFailure } from './failure.js';
import { createProgram } from './program.js';

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const { text, exitCode } = describeFailure(error);
    console.error(text);
    process.exitCode = exitCode;
  });
