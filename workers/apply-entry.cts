// piscina loads its task file with require() first. On Node 20, require() of
// an ES module takes an experimental path that has aborted the process
// (a V8 fatal error while instantiating the module graph); this CommonJS entry
// makes piscina's require() plain, and loads the real (ESM) worker with import().
import type { ApplyReply, ApplyTask } from '../src/cluster/apply-protocol.js';

type Handler = (task: ApplyTask) => Promise<ApplyReply>;
let handler: Promise<Handler> | null = null;

module.exports = async (task: ApplyTask): Promise<ApplyReply> => {
  handler ??= import('./apply.js').then((m: { default: Handler }) => m.default);
  return (await handler)(task);
};
