// Safe YAML reading: limits against resource exhaustion and the YAML features a policy never needs.
import { describe, expect, it } from 'vitest';
import { DEFAULT_YAML_LIMITS, readYamlDocument } from '../../src/policy/safe-yaml.js';
import { compile, fixture, problemsOf } from './policy-test-helpers.js';

/** Hang guard for the bombs: each is rejected in milliseconds; this only stops a runaway. */
const HANG_GUARD_MS = 20_000;

describe('resource limits', () => {
  it(
    'rejects a document over 1 MiB before parsing it',
    () => {
      const text = `workloads: []\n# ${'x'.repeat(DEFAULT_YAML_LIMITS.maxBytes)}\n`;
      const problems = problemsOf(() => readYamlDocument(text));
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path).toBe('');
    },
    HANG_GUARD_MS,
  );

  it(
    'accepts an alias-free document under 1 MiB however many values it has',
    () => {
      // Over 100,000 tiny values, up to 1 KiB short of the limit: refused by a token limit
      // before; the size is the only bound now.
      const items: string[] = [];
      let bytes = 40;
      while (bytes < DEFAULT_YAML_LIMITS.maxBytes - 1024) {
        const item = `p${items.length}`;
        items.push(item);
        bytes += item.length + 2;
      }
      const tiny = `grants:\n  - to: key:admin\n    read: [${items.join(', ')}]\n`;
      expect(Buffer.byteLength(tiny)).toBeLessThan(DEFAULT_YAML_LIMITS.maxBytes);
      expect(items.length).toBeGreaterThan(100_000);
      const value = readYamlDocument(tiny).value as { grants: { read: string[] }[] };
      expect(value.grants[0]?.read).toHaveLength(items.length);
    },
    HANG_GUARD_MS,
  );

  it('counts the size limit in UTF-8 bytes and lets a caller lower it', () => {
    const text = `a: "${'é'.repeat(600)}"`; // 1,200+ bytes, 600-odd characters
    expect(
      problemsOf(() => readYamlDocument(text, { ...DEFAULT_YAML_LIMITS, maxBytes: 1000 })),
    ).toHaveLength(1);
    expect(readYamlDocument(text, { ...DEFAULT_YAML_LIMITS, maxBytes: 2000 }).value).toBeDefined();
  });

  it.each([
    ['flow sequences', '['.repeat(500_000) + ']'.repeat(500_000)],
    ['flow mappings', '{a: '.repeat(200_000) + '1' + '}'.repeat(200_000)],
    ['unclosed flow sequences', '['.repeat(1_000_000)],
    ['compact block sequences', '- '.repeat(400_000) + 'x\n'],
    [
      'indented block mappings',
      Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'),
    ],
  ])(
    'rejects deep nesting of %s',
    (_name, text) => {
      const problems = problemsOf(() => readYamlDocument(text));
      expect(problems.map((p) => p.path)).toEqual(['']);
    },
    HANG_GUARD_MS,
  );

  it('accepts nesting up to the limit and rejects one level more', () => {
    const nested = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    expect(readYamlDocument(nested(DEFAULT_YAML_LIMITS.maxDepth)).value).toBeDefined();
    expect(
      problemsOf(() => readYamlDocument(nested(DEFAULT_YAML_LIMITS.maxDepth + 1))),
    ).toHaveLength(1);
  });

  it(
    'rejects the billion-laughs document (fixture) through compilePolicy',
    () => {
      const problems = problemsOf(() => compile(fixture('billion-laughs.yaml')));
      expect(problems).toHaveLength(1);
    },
    HANG_GUARD_MS,
  );

  it(
    'rejects a wide alias bomb that stays under the alias count',
    () => {
      // 60 aliases, each to a list of 5,000 strings: 300,000 values from a 30 KB document.
      const list = Array.from({ length: 5000 }, () => 'x').join(', ');
      const text = `base: &b [${list}]\ncopies: [${Array.from({ length: 60 }, () => '*b').join(', ')}]\n`;
      expect(problemsOf(() => readYamlDocument(text))).toHaveLength(1);
    },
    HANG_GUARD_MS,
  );

  it('rejects a self-referencing alias', () => {
    expect(problemsOf(() => readYamlDocument('a: &a [*a]\n'))).toHaveLength(1);
  });

  it('allows a few aliases, and none when maxAliasCount is 0', () => {
    const text = 'labels: &l {app: api}\nagain: *l\n';
    const value = readYamlDocument(text).value as Record<string, Record<string, string>>;
    expect(value.again?.app).toBe('api');
    const problems = problemsOf(() =>
      readYamlDocument(text, { ...DEFAULT_YAML_LIMITS, maxAliasCount: 0 }),
    );
    expect(problems.map((p) => p.path)).toEqual(['again']);
  });

  it('rejects an alias with no anchor', () => {
    expect(problemsOf(() => readYamlDocument('a: *nowhere\n')).map((p) => p.path)).toEqual(['a']);
  });
});

describe('YAML features a policy never needs', () => {
  it('rejects every explicit tag, each at its own path', () => {
    const text =
      'a: !custom x\nb: !!binary aGk=\nc: !!str plain\nd: !!map {x: 1}\ne: !!js/function "f"\n';
    expect(problemsOf(() => readYamlDocument(text)).map((p) => p.path)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
  });

  it('rejects directives', () => {
    expect(problemsOf(() => readYamlDocument('%YAML 1.1\n---\na: 1\n'))).toHaveLength(1);
    expect(
      problemsOf(() => readYamlDocument('%TAG !e! tag:example.com,2000:\n---\na: 1\n')),
    ).toHaveLength(1);
  });

  it('rejects several documents', () => {
    expect(problemsOf(() => readYamlDocument('a: 1\n---\nb: 2\n'))).toHaveLength(1);
  });

  it('rejects an empty document', () => {
    expect(problemsOf(() => readYamlDocument(''))).toHaveLength(1);
    expect(problemsOf(() => readYamlDocument('# only a comment\n'))).toHaveLength(1);
  });

  it('rejects syntax errors with a line and column', () => {
    const [problem] = problemsOf(() => readYamlDocument('a: 1\nb: c: d\n'));
    expect(problem?.line).toBe(2);
    expect(problem?.column).toBeTypeOf('number');
  });

  it('rejects non-string keys, pointing at each key', () => {
    const text = '1: one\ntrue: yes\nnull: nothing\n? [a, b]\n: list\n"ok": fine\n';
    const problems = problemsOf(() => readYamlDocument(text));
    expect(problems.map((p) => p.line)).toEqual([1, 2, 3, 4]);
  });

  it('rejects duplicate keys at the duplicate', () => {
    const problems = problemsOf(() => readYamlDocument('groups:\n  a: []\n  b: []\n  a: [x]\n'));
    expect(problems).toEqual([expect.objectContaining({ path: 'groups.a', line: 4, column: 3 })]);
  });

  it('treats YAML 1.1 booleans and merge keys as plain strings and keys', () => {
    const value = readYamlDocument('a: yes\nb: on\nbase: &b {x: 1}\nm:\n  <<: *b\n')
      .value as Record<string, unknown>;
    expect(value.a).toBe('yes');
    expect(value.b).toBe('on');
    expect(Object.keys(value.m as object)).toEqual(['<<']);
  });

  it('keeps __proto__ an ordinary key', () => {
    const value = readYamlDocument('__proto__: {polluted: true}\n').value as Record<
      string,
      unknown
    >;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads JSON', () => {
    const value = readYamlDocument(fixture('example.json')).value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['workloads', 'groups', 'grants']);
  });

  it('locates values by property path', () => {
    const doc = readYamlDocument(
      'workloads:\n  - namespace: a\n    labels: {"app.kubernetes.io/name": x}\n',
    );
    expect(doc.locate('workloads[0].namespace')).toEqual({ line: 2, column: 5 });
    expect(doc.locate('workloads[0].labels["app.kubernetes.io/name"]')).toEqual({
      line: 3,
      column: 14,
    });
    expect(doc.locate('workloads[1]')).toBeUndefined();
    expect(doc.locate('')).toEqual({ line: 1, column: 1 });
  });

  it('locates keys that need quoting, and values reached through an alias at their anchor', () => {
    const doc = readYamlDocument(
      'base: &b {x: [one, two]}\ncopy: *b\n"say \\"hi\\"\\\\": {"a.b": 1}\n',
    );
    expect(Object.keys(doc.value as object)).toEqual(['base', 'copy', 'say "hi"\\']);
    expect(doc.locate('["say \\"hi\\"\\\\"]["a.b"]')).toEqual({ line: 3, column: 18 });
    expect(doc.locate('copy.x[1]')).toEqual({ line: 1, column: 20 });
    expect(doc.locate('copy.y')).toBeUndefined();
    expect(doc.locate('base..x')).toBeUndefined();
  });
});
