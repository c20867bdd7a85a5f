// Messages between the runtime and the Paxos log thread (workers/paxos-log.ts),
// which owns paxos.db so that its fsync never blocks the event loop.

import type { AcceptedEntry, Ballot, Slot } from '../paxos/types.js';

export type LogTask =
  | { readonly op: 'open'; readonly path: string }
  | { readonly op: 'persist'; readonly promised: Ballot | null; readonly accepted: readonly AcceptedEntry[] }
  | { readonly op: 'compact'; readonly through: Slot }
  | { readonly op: 'read'; readonly fromSlot: Slot; readonly toSlot: Slot }
  | { readonly op: 'close' };

export type LogReply =
  | { readonly op: 'open'; readonly promised: Ballot; readonly accepted: readonly AcceptedEntry[]; readonly firstSlot: Slot }
  | { readonly op: 'persist' }
  | { readonly op: 'compact'; readonly firstSlot: Slot }
  | { readonly op: 'read'; readonly entries: readonly AcceptedEntry[] }
  | { readonly op: 'close' }
  | { readonly op: 'error'; readonly message: string };
