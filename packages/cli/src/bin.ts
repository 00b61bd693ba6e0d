#!/usr/bin/env node
import { runKeyvent } from './run-keyvent.js';

process.exitCode = await runKeyvent(process.argv);
