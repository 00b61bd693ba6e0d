#!/usr/bin/env node
import { isKeyventError } from '@keyvent/core';
import { createProgram } from './program.js';

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // A user's mistake or a refused operation is one clear line; anything else keeps its stack.
    console.error(isKeyventError(error) ? `keyvent: ${error.message}` : error);
    process.exitCode = 1;
  });
