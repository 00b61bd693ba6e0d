export { createProgram } from './program.js';
export { runDemo, type DemoOptions } from './demo/run-demo.js';
export { BankAccount, accountEvents, type AccountEvent } from './demo/bank-account.js';
