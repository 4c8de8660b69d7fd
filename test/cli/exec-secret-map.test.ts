// Which variable gets which secret: flag and secrets-file parsing, pure.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { exitStatus } from '../../src/cli/exec-child.js';
import {
  distinctPaths,
  namesFor,
  parseSecretFlags,
  parseSecretsFile,
} from '../../src/cli/exec-secret-map.js';

describe('parseSecretFlags', () => {
  it('maps names to paths in order', () => {
    const map = parseSecretFlags(['DB=app/db', '_X1=app/x.y-z', 'AGAIN=app/db']);
    expect([...map]).toEqual([
      ['DB', 'app/db'],
      ['_X1', 'app/x.y-z'],
      ['AGAIN', 'app/db'],
    ]);
    expect(distinctPaths(map)).toEqual(['app/db', 'app/x.y-z']);
    expect(namesFor(map, 'app/db')).toEqual(['DB', 'AGAIN']);
  });

  it.each([
    ['no equals sign', 'DB'],
    ['empty name', '=app/db'],
    ['name starting with a digit', '1DB=app/db'],
    ['name with a dash', 'DB-PASS=app/db'],
    ['name with a space', 'DB PASS=app/db'],
    ['empty path', 'DB='],
    ['traversal', 'DB=../etc/passwd'],
    ['leading slash', 'DB=/app/db'],
    ['encoded slash', 'DB=app%2Fdb'],
    ['non-ASCII', 'DB=app/d\u00e9'],
    ['a second equals sign', 'DB=app/db=1'],
  ])('refuses %s', (_name, spec) => {
    expect(() => parseSecretFlags([spec])).toThrow(UsageError);
  });

  it('refuses one name twice', () => {
    expect(() => parseSecretFlags(['A=x', 'A=y'])).toThrow(/A is requested more than once/);
  });
});

describe('parseSecretsFile', () => {
  it('reads a mapping of names to paths, with or without !var', () => {
    const map = parseSecretsFile(
      '# comment\nDB_PASSWORD: payments/db-password\nAPI_KEY: !var payments/api/key\n',
      'secrets.yml',
    );
    expect(Object.fromEntries(map)).toEqual({
      DB_PASSWORD: 'payments/db-password',
      API_KEY: 'payments/api/key',
    });
    expect(parseSecretsFile('', 'empty.yml').size).toBe(0);
  });

  it.each([
    ['a list', '- a/b\n', /expected a mapping/],
    ['a nested value', 'A:\n  b: c\n', /must be a secret path/],
    ['a number', 'A: 3\n', /must be a secret path/],
    ['a summon !file tag', 'A: !file payments/x\n', /Unresolved tag|not supported/],
    ['a summon !str tag', 'A: !str literal\n', /Unresolved tag|not supported/],
    ['a duplicate key', 'A: x/y\nA: x/z\n', /unique/],
    ['an alias', 'A: &p x/y\nB: *p\n', /must be a secret path/],
    ['a bad name', 'bad-name: x/y\n', /not a valid environment variable name/],
    ['a bad path', 'A: x/../y\n', /invalid secret path/],
    ['broken YAML', 'A: [x\n', /secrets.yml/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseSecretsFile(text, 'secrets.yml')).toThrow(message);
  });

  it('refuses a name the flags already set', () => {
    const map = parseSecretFlags(['A=x/y']);
    expect(() => parseSecretsFile('A: x/z\n', 'f.yml', map)).toThrow(
      /A is requested more than once/,
    );
  });

  it('refuses an oversized file', () => {
    expect(() => parseSecretsFile(`# ${'x'.repeat(70_000)}\n`, 'big.yml')).toThrow(/larger than/);
  });
});

describe('exitStatus', () => {
  it('is the exit code, or 128 + signal number', () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGTERM')).toBe(128 + os.constants.signals.SIGTERM);
    expect(exitStatus(null, 'SIGKILL')).toBe(128 + os.constants.signals.SIGKILL);
  });
});
