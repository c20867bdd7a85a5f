// The history checkers of the fault tests, in one import.
export * from './history.js';
export * from './verdict.js';
export * from './linearizability.js';
export * from './register.js';
export * from './bank.js';
export * from './set.js';
export * from './summary.js';
export * from './simulate.js';
