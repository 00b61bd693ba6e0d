#!/usr/bin/env node
import { exitWhenPipeCloses, runKeyvent } from './run-keyvent.js';

exitWhenPipeCloses(process.stdout);
process.exitCode = await runKeyvent(process.argv);
