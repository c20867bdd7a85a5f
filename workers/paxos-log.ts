// The Paxos log thread: owns paxos.db (SqlitePaxosLog) and does each persist
// — one transaction, one fsync — off the event loop, so the node keeps
// reading sockets and batching proposals while the disk works. Requests are
// handled one at a time, in order.

import { parentPort } from 'node:worker_threads';
import type { LogReply, LogTask } from '../src/cluster/log-protocol.js';
import { SqlitePaxosLog } from '../src/storage/sqlite-paxos-log.js';

const port = parentPort;
if (port === null) throw new Error('workers/paxos-log.ts runs as a worker thread');

let log: SqlitePaxosLog | null = null;

function requireLog(): SqlitePaxosLog {
  if (log === null) throw new Error('paxos log used before open');
  return log;
}

function handle(task: LogTask): LogReply {
  try {
    switch (task.op) {
      case 'open': {
        log = SqlitePaxosLog.open(task.path);
        const state = log.load();
        return { op: 'open', promised: state.promised, accepted: state.accepted, firstSlot: log.firstSlot() };
      }
      case 'persist':
        requireLog().persist(task.promised, task.accepted);
        return { op: 'persist' };
      case 'compact':
        requireLog().compact(task.through);
        return { op: 'compact', firstSlot: requireLog().firstSlot() };
      case 'read':
        return { op: 'read', entries: requireLog().read(task.fromSlot, task.toSlot) };
      case 'close':
        log?.close();
        log = null;
        return { op: 'close' };
    }
  } catch (error) {
    return { op: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

port.on('message', (task: LogTask) => port.postMessage(handle(task)));
