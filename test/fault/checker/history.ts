// The history format of the fault tests: one JSON object per line, each an
// event of a client operation (invoke, then ok / fail / info), in the manner
// of Jepsen. This module parses and writes history files and pairs every
// invocation with its completion so that checkers can work on operations.
//
// Semantics the checkers rely on:
//   ok    the operation happened, with the recorded result;
//   fail  the operation definitely did not happen;
//   info  indeterminate: it may or may not have happened, at any time after
//         its invocation (timeouts, SQLSTATE 40003). It never completes.
// An invocation with no completion at the end of the history is indeterminate too.
// Events of negative process numbers belong to the fault injector (nemesis):
// they are kept aside and never paired.

import { readFile, writeFile } from 'node:fs/promises';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const EVENT_TYPES = ['invoke', 'ok', 'fail', 'info'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type CompletionType = Exclude<EventType, 'invoke'>;

/** Keys name the object an operation acts on (a register, an account...). */
export type Key = string | number;

/** One line of a history file. */
export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  /** The operation's function: `read`, `write`, `cas`, `transfer`, `add`... */
  readonly f: string;
  readonly key?: Key;
  readonly value: JsonValue;
  /** Monotonic clock (ns or ms); only its order matters to the checkers. */
  readonly time: number;
  /** Position of the event in the history; strictly increasing. */
  readonly index: number;
  /** Why an operation failed or is indeterminate, e.g. a SQLSTATE. */
  readonly error?: string;
}

/** A malformed line of a history file. `line` is 1-based. */
export class HistoryParseError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly text: string,
    readonly source?: string,
  ) {
    super(`${source ?? 'history'}:${line}: ${reason} (line: ${abbreviate(text, 120)})`);
    this.name = 'HistoryParseError';
  }
}

/** A history whose lines parse but whose events do not form valid operations. */
export class HistoryStructureError extends Error {
  constructor(
    readonly eventIndex: number,
    readonly reason: string,
  ) {
    super(`history event index ${eventIndex}: ${reason}`);
    this.name = 'HistoryStructureError';
  }
}

function abbreviate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** Parses one line; throws HistoryParseError naming the first problem found. */
export function parseHistoryLine(text: string, line: number, source?: string): HistoryEvent {
  const fail = (reason: string): never => {
    throw new HistoryParseError(line, reason, text, source);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(parsed)) return fail('expected a JSON object');
  const { process, type, f, key, value, time, index, error } = parsed;
  if (typeof process !== 'number' || !Number.isSafeInteger(process)) fail('"process" must be an integer');
  if (!isEventType(type)) fail(`"type" must be one of ${EVENT_TYPES.join(', ')}`);
  if (typeof f !== 'string' || f.length === 0) fail('"f" must be a non-empty string');
  if (key !== undefined && typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
    fail('"key", when present, must be a string or a number');
  }
  if (typeof time !== 'number' || !Number.isFinite(time)) fail('"time" must be a finite number');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    fail('"index" must be a non-negative integer');
  }
  if (error !== undefined && typeof error !== 'string') fail('"error", when present, must be a string');
  return makeEvent({
    process: process as number,
    type: type as EventType,
    f: f as string,
    key: key as Key | undefined,
    value: value === undefined ? null : (value as JsonValue),
    time: time as number,
    index: index as number,
    error: error as string | undefined,
  });
}

/** Builds an event without `undefined` optional fields, so it round-trips through JSON unchanged. */
function makeEvent(fields: {
  process: number;
  type: EventType;
  f: string;
  key: Key | undefined;
  value: JsonValue;
  time: number;
  index: number;
  error: string | undefined;
}): HistoryEvent {
  const event: { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] } = {
    process: fields.process,
    type: fields.type,
    f: fields.f,
    value: fields.value,
    time: fields.time,
    index: fields.index,
  };
  if (fields.key !== undefined) event.key = fields.key;
  if (fields.error !== undefined) event.error = fields.error;
  return event;
}

/** Parses a whole history (blank lines are skipped). */
export function parseHistory(text: string, source?: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.length === 0) continue;
    events.push(parseHistoryLine(line, i + 1, source));
  }
  return events;
}

/** One event as one JSON line, fields in a fixed order for readable diffs. */
export function formatHistoryEvent(event: HistoryEvent): string {
  const ordered: Record<string, JsonValue> = { process: event.process, type: event.type, f: event.f };
  if (event.key !== undefined) ordered['key'] = event.key;
  ordered['value'] = event.value;
  ordered['time'] = event.time;
  ordered['index'] = event.index;
  if (event.error !== undefined) ordered['error'] = event.error;
  return JSON.stringify(ordered);
}

export function formatHistory(events: readonly HistoryEvent[]): string {
  return events.map((e) => `${formatHistoryEvent(e)}\n`).join('');
}

export async function readHistoryFile(path: string): Promise<HistoryEvent[]> {
  return parseHistory(await readFile(path, 'utf8'), path);
}

export async function writeHistoryFile(path: string, events: readonly HistoryEvent[]): Promise<void> {
  await writeFile(path, formatHistory(events), 'utf8');
}

/** An invocation together with its completion. */
export interface Operation {
  readonly process: number;
  readonly f: string;
  readonly key?: Key;
  readonly invoke: HistoryEvent;
  /** Absent when the history ended while the operation was pending. */
  readonly completion?: HistoryEvent;
  /** `info` also when the completion is missing. */
  readonly outcome: CompletionType;
  /** The completion's value (null when there is no completion). */
  readonly result: JsonValue;
  readonly error?: string;
}

export interface PairedHistory {
  /** In invocation order. */
  readonly operations: readonly Operation[];
  /** Fault-injector events (negative process numbers), in history order. */
  readonly nemesis: readonly HistoryEvent[];
}

/** Sorts events by index and checks that the order is sane. */
export function orderEvents(events: readonly HistoryEvent[]): HistoryEvent[] {
  const sorted = [...events].sort((a, b) => a.index - b.index);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.index === prev.index) throw new HistoryStructureError(cur.index, 'two events share this index');
    if (cur.time < prev.time) {
      throw new HistoryStructureError(
        cur.index,
        `time goes backwards (${cur.time} after ${prev.time} at index ${prev.index}); the clock must be monotonic`,
      );
    }
  }
  return sorted;
}

/**
 * Pairs invocations with completions, per process. A process has at most one
 * operation in flight; after an `info` it may invoke again (the indeterminate
 * operation stays open forever, so it is not "in flight" from the process's view).
 */
export function pairHistory(events: readonly HistoryEvent[]): PairedHistory {
  const sorted = orderEvents(events);
  const pending = new Map<number, number>(); // process → slot in `slots`
  const slots: { invoke: HistoryEvent; completion?: HistoryEvent }[] = [];
  const nemesis: HistoryEvent[] = [];
  for (const event of sorted) {
    if (event.process < 0) {
      nemesis.push(event);
      continue;
    }
    const open = pending.get(event.process);
    if (event.type === 'invoke') {
      if (open !== undefined) {
        throw new HistoryStructureError(
          event.index,
          `process ${event.process} invoked ${event.f} while its ${slots[open]!.invoke.f} from index ${slots[open]!.invoke.index} was still pending`,
        );
      }
      pending.set(event.process, slots.length);
      slots.push({ invoke: event });
      continue;
    }
    if (open === undefined) {
      throw new HistoryStructureError(event.index, `process ${event.process} completed ${event.f} (${event.type}) without invoking it`);
    }
    const slot = slots[open]!;
    checkCompletionMatches(slot.invoke, event);
    slot.completion = event;
    pending.delete(event.process);
  }
  return { operations: slots.map((s) => toOperation(s.invoke, s.completion)), nemesis };
}

function checkCompletionMatches(invoke: HistoryEvent, completion: HistoryEvent): void {
  if (completion.f !== invoke.f) {
    throw new HistoryStructureError(
      completion.index,
      `completion f "${completion.f}" does not match invocation f "${invoke.f}" (index ${invoke.index})`,
    );
  }
  if (completion.key !== undefined && invoke.key !== undefined && String(completion.key) !== String(invoke.key)) {
    throw new HistoryStructureError(
      completion.index,
      `completion key ${JSON.stringify(completion.key)} does not match invocation key ${JSON.stringify(invoke.key)}`,
    );
  }
}

function toOperation(invoke: HistoryEvent, completion: HistoryEvent | undefined): Operation {
  const key = invoke.key ?? completion?.key;
  const error = completion?.error;
  const op: { -readonly [K in keyof Operation]: Operation[K] } = {
    process: invoke.process,
    f: invoke.f,
    invoke,
    outcome: completion === undefined ? 'info' : (completion.type as CompletionType),
    result: completion === undefined ? null : completion.value,
  };
  if (key !== undefined) op.key = key;
  if (completion !== undefined) op.completion = completion;
  if (error !== undefined) op.error = error;
  return op;
}

/**
 * Records a history as a harness runs: assigns indices and times, and fills
 * the completion's f and key from the pending invocation. Used by the fault
 * harness and by tests to write hand-made histories.
 */
export class HistoryRecorder {
  private readonly recorded: HistoryEvent[] = [];
  private readonly inFlight = new Map<number, HistoryEvent>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  invoke(process: number, f: string, key: Key | undefined, value: JsonValue = null): HistoryEvent {
    if (this.inFlight.has(process)) throw new Error(`process ${process} already has an operation in flight`);
    const event = this.append(process, 'invoke', f, key, value, undefined);
    this.inFlight.set(process, event);
    return event;
  }

  /** Completes `process`'s pending operation. The value defaults to the invocation's. */
  complete(process: number, type: CompletionType, value?: JsonValue, error?: string): HistoryEvent {
    const invoke = this.inFlight.get(process);
    if (invoke === undefined) throw new Error(`process ${process} has no operation in flight`);
    this.inFlight.delete(process);
    return this.append(process, type, invoke.f, invoke.key, value === undefined ? invoke.value : value, error);
  }

  ok(process: number, value?: JsonValue): HistoryEvent {
    return this.complete(process, 'ok', value);
  }

  fail(process: number, value?: JsonValue, error?: string): HistoryEvent {
    return this.complete(process, 'fail', value, error);
  }

  info(process: number, value?: JsonValue, error?: string): HistoryEvent {
    return this.complete(process, 'info', value, error);
  }

  /** A fault-injector event; `process` must be negative. */
  nemesis(process: number, f: string, value: JsonValue = null): HistoryEvent {
    if (process >= 0) throw new Error('nemesis events use negative process numbers');
    return this.append(process, 'info', f, undefined, value, undefined);
  }

  events(): readonly HistoryEvent[] {
    return this.recorded;
  }

  private append(
    process: number,
    type: EventType,
    f: string,
    key: Key | undefined,
    value: JsonValue,
    error: string | undefined,
  ): HistoryEvent {
    const event = makeEvent({ process, type, f, key, value, time: this.clock(), index: this.recorded.length, error });
    this.recorded.push(event);
    return event;
  }
}

/** A clock for hand-made histories: 0, 1, 2, ... */
export function counterClock(): () => number {
  let t = 0;
  return () => t++;
}

/** Lets checkers accept raw events or an already paired history. */
export function isPairedHistory(history: readonly HistoryEvent[] | PairedHistory): history is PairedHistory {
  return !Array.isArray(history);
}
