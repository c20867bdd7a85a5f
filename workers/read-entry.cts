// CommonJS entry for piscina: see apply-entry.cts for why.
import type { ReadReply, ReadTask } from '../src/cluster/read-protocol.js';

type Handler = (task: ReadTask) => Promise<ReadReply>;
let handler: Promise<Handler> | null = null;

module.exports = async (task: ReadTask): Promise<ReadReply> => {
  handler ??= import('./read.js').then((m: { default: Handler }) => m.default);
  return (await handler)(task);
};
