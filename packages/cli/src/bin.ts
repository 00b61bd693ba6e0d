#!/usr/bin/env node
import { exitWhenPipeCloses, runKeyvent } from './run-keyvent.js';

exitWhenPipeCloses(process.stdout, process.stderr);
process.exitCode = await runKeyvent(process.argv);
