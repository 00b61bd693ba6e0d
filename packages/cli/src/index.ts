export { createProgram } from './program.js';
export { runDemo, type DemoOptions } from './demo/run-demo.js';
export { BankAccount, accountEvents, type AccountEvent } from './demo/bank-account.js';
export { openStore, openStoreAndDriver, STORE_URL_HELP, type OpenedStore, type OpenStoreOptions } from './store-url.js';
export { CommandError, UsageError } from './errors.js';
export { allStreams, copyStore, verifyCopy, CopyError, type CopyOptions, type CopyReport, type VerifyReport } from './copy.js';
export { envelopes, keyventOps, type BenchEvent, type BenchTarget, type Ops } from './bench/ops.js';
export { FULL, QUICK, runWorkloads, type Row, type Sizes } from './bench/workloads.js';
export { benchTable } from './bench/table.js';
