// Safe YAML reading: size, depth and alias limits, no tags or directives, string keys only.
import { Buffer } from 'node:buffer';
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
} from 'yaml';
import type { Alias, CST } from 'yaml';
import { PolicyInvalidError } from './policy-invalid-error.js';
import { ProblemList, type SourcePosition } from './policy-problem.js';
import { offsetOf, pathString, type PathRef } from './yaml-path-locator.js';

/** Limits applied while reading a document; see {@link DEFAULT_YAML_LIMITS}. */
export interface YamlLimits {
  /** Largest accepted document, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest accepted nesting of mappings and sequences (the root mapping is level 1). */
  readonly maxDepth: number;
  /** Most alias (`*name`) resolutions, counting aliases met again inside expanded aliases. */
  readonly maxAliasCount: number;
}

/** 1 MiB, 32 levels, 100 aliases: far above any real policy, far below anything harmful. */
export const DEFAULT_YAML_LIMITS: YamlLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxAliasCount: 100,
});

/**
 * Most values that alias expansion may create in total. Billion-laughs documents need
 * exponentially many; a policy that reuses a label set or a path list needs a handful.
 */
const MAX_ALIAS_EXPANDED_VALUES = 10_000;

/** A document read into plain data, with a way back from a property path to the source text. */
export interface YamlDocument {
  /** Plain data: strings, numbers, booleans, null, arrays and null-prototype objects. */
  readonly value: unknown;
  /** Where the value at a property path (as built by `childPath`) starts in the source. */
  locate(path: string): SourcePosition | undefined;
}

/** Thrown inside the reader to stop at once; never escapes this module. */
class StopReading extends Error {}

/**
 * Reads exactly one YAML (or JSON) document under `limits`.
 *
 * Rejected: documents over `maxBytes` (checked before anything is parsed), nesting deeper than
 * `maxDepth` (checked while the parser runs, because yaml's composer recurses and a deeply
 * nested flow collection can exhaust memory), more than `maxAliasCount` alias resolutions or
 * {@link MAX_ALIAS_EXPANDED_VALUES} values created by aliases, any explicit tag (`!foo`,
 * `!!binary`, even `!!str`), directives, several documents, non-string and duplicate keys.
 * The YAML 1.2 core schema applies: `yes`/`no`/`on` are strings and `<<` is an ordinary key.
 *
 * @throws PolicyInvalidError `ERR_POLICY_INVALID` listing what was found.
 */
export function readYamlDocument(
  text: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): YamlDocument {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new PolicyInvalidError([
      { path: '', message: `document is ${bytes} bytes; the limit is ${limits.maxBytes}` },
    ]);
  }
  const lineCounter = new LineCounter();
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // Problems found before the document is composed are located by offset, not by path.
  const composed: { doc?: Document.Parsed } = {};
  const locate = (path: string): SourcePosition | undefined => {
    const offset = composed.doc === undefined ? undefined : offsetOf(composed.doc, path);
    return offset === undefined ? undefined : position(offset);
  };
  const problems = new ProblemList(locate);

  const tokens = lexAndParse(text, lineCounter, limits.maxDepth);
  for (const token of tokens) {
    if (token.type === 'directive') {
      problems.add('', 'YAML directives are not allowed', position(token.offset));
    }
  }
  const documents = [
    ...new Composer({
      version: '1.2',
      schema: 'core',
      customTags: [],
      merge: false,
      uniqueKeys: false, // duplicates are reported by the converter, with their property path
      strict: true,
    }).compose(tokens),
  ];
  if (documents.length > 1) problems.add('', 'exactly one document is expected, found several');
  const doc = documents[0];
  if (doc === undefined || doc.contents === null) {
    problems.add('', 'document is empty (write {} for an empty policy)');
    throw new PolicyInvalidError(problems.toArray());
  }
  composed.doc = doc;
  for (const e of doc.errors) problems.add('', e.message, position(e.pos[0]));
  if (!problems.isEmpty) throw new PolicyInvalidError(problems.toArray());
  for (const w of doc.warnings) {
    // An unresolved tag is reported by the converter, which rejects every tag with its path.
    if (w.code !== 'TAG_RESOLVE_FAILED') problems.add('', w.message, position(w.pos[0]));
  }

  const converter = new Converter(doc, limits, problems, position);
  let value: unknown;
  try {
    value = converter.convert(doc.contents, null, 1, false);
  } catch (err) {
    if (!(err instanceof StopReading)) throw err;
  }
  if (!problems.isEmpty) throw new PolicyInvalidError(problems.toArray());
  return { value, locate };
}

/** Lexes and parses into CST tokens, stopping as soon as the parser's stack is too deep. */
function lexAndParse(text: string, lineCounter: LineCounter, maxDepth: number): CST.Token[] {
  const parser = new Parser(lineCounter.addNewLine);
  // Parser.parse() reports the start of input itself; driving next() by hand, we must.
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  // The stack holds the document, each open collection and at most one scalar being read.
  const maxStack = maxDepth + 2;
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > maxStack) {
      throw new PolicyInvalidError([
        { path: '', message: `nesting is deeper than ${maxDepth} levels` },
      ]);
    }
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** Turns yaml's node tree into plain data, enforcing the rules yaml's own `toJS` does not. */
class Converter {
  private aliasCount = 0;
  private aliasValues = 0;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly limits: YamlLimits,
    private readonly problems: ProblemList,
    private readonly position: (offset: number) => SourcePosition,
  ) {}

  convert(node: unknown, path: PathRef, depth: number, inAlias: boolean): unknown {
    if (inAlias && ++this.aliasValues > MAX_ALIAS_EXPANDED_VALUES) {
      this.stop(path, `aliases expand to more than ${MAX_ALIAS_EXPANDED_VALUES} values`);
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.convertAlias(node, path, depth);
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) {
      this.stop(path, 'unsupported YAML node');
    }
    if (node.tag !== undefined) {
      const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
      this.problems.add(pathString(path), `tags are not allowed (found ${tag})`);
      return null;
    }
    if (isScalar(node)) return this.convertScalar(node.value, path);
    if (depth > this.limits.maxDepth) {
      this.stop(path, `nesting is deeper than ${this.limits.maxDepth} levels`);
    }
    if (isSeq(node)) {
      return node.items.map((item, i) =>
        this.convert(item, { parent: path, step: i }, depth + 1, inAlias),
      );
    }
    // A null prototype, so a `__proto__` key is just an (unknown) key, never a prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const pair of node.items) {
      const key: unknown = pair.key;
      if (!isScalar(key) || typeof key.value !== 'string' || key.tag !== undefined) {
        this.problems.add(pathString(path), 'mapping keys must be plain strings', this.at(key));
        continue;
      }
      const name = key.value;
      const child: PathRef = { parent: path, step: name };
      if (Object.hasOwn(out, name)) {
        this.problems.add(pathString(child), `duplicate key "${name}"`, this.at(key));
        continue;
      }
      out[name] = this.convert(pair.value, child, depth + 1, inAlias);
    }
    return out;
  }

  private convertAlias(node: Alias, path: PathRef, depth: number): unknown {
    if (++this.aliasCount > this.limits.maxAliasCount) {
      this.stop(path, `more than ${this.limits.maxAliasCount} alias resolutions`);
    }
    const target = node.resolve(this.doc);
    if (target === undefined) {
      this.problems.add(pathString(path), `alias *${node.source} has no anchor before it`);
      return null;
    }
    return this.convert(target, path, depth, true);
  }

  private convertScalar(value: unknown, path: PathRef): unknown {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      return value;
    }
    this.problems.add(pathString(path), 'unsupported scalar value');
    return null;
  }

  /** The source position of a node, when it has one. */
  private at(node: unknown): SourcePosition | undefined {
    const range = (node as { range?: readonly number[] } | null)?.range;
    const offset = range?.[0];
    return offset === undefined ? undefined : this.position(offset);
  }

  private stop(path: PathRef, message: string): never {
    this.problems.add(pathString(path), message);
    throw new StopReading(message);
  }
}
