#!/usr/bin/env node
import { isKeyventError } from '@keyvent/core';
import { CopyError } from './copy.js';
import { createProgram } from './program.js';
import { UsageError } from './store-url.js';

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // A user's mistake (exit 2) or a refused operation (exit 1) is one clear line; anything else keeps its stack.
    if (error instanceof UsageError) {
      console.error(`keyvent: ${error.message}`);
      process.exitCode = 2;
    } else if (error instanceof CopyError) {
      console.error(`keyvent: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(isKeyventError(error) ? `keyvent: ${error.message.replace(/^\[keyvent\] /, '')}` : error);
      process.exitCode = 1;
    }
  });
