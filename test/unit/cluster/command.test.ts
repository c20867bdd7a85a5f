import { describe, expect, it } from 'vitest';
import { CommandDecodeError, decodeCommand, encodeCommand, type Command } from '../../../src/cluster/command.js';

describe('log commands', () => {
  it('round-trip every parameter type', () => {
    const command: Command = {
      origin: { node: 3, session: 2 ** 40 + 7, seq: 12 },
      statements: [
        { sql: 'INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7)', params: [null, true, 1.5, 'text', 2n ** 63n - 1n, new Uint8Array([0, 255, 7]), Number.NaN] },
        { sql: 'UPDATE t SET a = 1', params: [] },
      ],
      time: 1_700_000_000_123,
    };
    const decoded = decodeCommand(encodeCommand(command));
    expect(decoded.origin).toEqual(command.origin);
    expect(decoded.time).toBe(command.time);
    expect(decoded.statements[1]).toEqual(command.statements[1]);
    const params = decoded.statements[0]!.params;
    expect(params.slice(0, 5)).toEqual([null, true, 1.5, 'text', 2n ** 63n - 1n]);
    expect(params[5]).toEqual(new Uint8Array([0, 255, 7]));
    expect(Number.isNaN(params[6])).toBe(true);
  });

  it('refuses bytes that are not a command', () => {
    for (const text of ['', 'nope', '{}', '{"o":[1,2],"s":[]}', '{"o":[1,2,3],"s":[["x",[{"q":"1"}]]]}']) {
      expect(() => decodeCommand(new TextEncoder().encode(text))).toThrow(CommandDecodeError);
    }
  });
});
