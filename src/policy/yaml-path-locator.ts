// Source positions by property path, found by walking the composed YAML document on demand.
import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { childPath } from './policy-problem.js';

/** One step of a property path: a list index or a mapping key. */
export type PathStep = string | number;

/** A property path built step by step without making its string (most are never printed). */
export type PathRef = { readonly parent: PathRef; readonly step: PathStep } | null;

/** The `childPath` string of a {@link PathRef}: `workloads[2].spiffeId`. */
export function pathString(ref: PathRef): string {
  const steps: PathStep[] = [];
  for (let r = ref; r !== null; r = r.parent) steps.push(r.step);
  let path = '';
  for (let i = steps.length - 1; i >= 0; i--) path = childPath(path, steps[i] as PathStep);
  return path;
}

// `[3]`, `["any key"]`, `.plain_key` or a leading `plain_key`: the forms childPath writes.
const STEP = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([A-Za-z_][A-Za-z0-9_-]*)/y;

/** The steps of a `childPath` string, or `undefined` when it is not one. */
export function parsePath(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  STEP.lastIndex = 0;
  while (STEP.lastIndex < path.length) {
    const start = STEP.lastIndex;
    const match = STEP.exec(path);
    if (match === null || (start === 0 && path.startsWith('.'))) return undefined;
    if (match[1] !== undefined) steps.push(Number(match[1]));
    else if (match[2] !== undefined) steps.push(JSON.parse(`"${match[2]}"`) as string);
    else steps.push(match[3] as string);
  }
  return steps;
}

/**
 * Where the value at `path` starts in the source: the key's offset for a mapping entry, the
 * item's for a list entry (through aliases, at their anchor), the document's for `""`. Only
 * called for problems, so a walk per call costs less than indexing every value up front.
 */
export function offsetOf(doc: Document.Parsed, path: string): number | undefined {
  const steps = parsePath(path);
  if (steps === undefined) return undefined;
  let node: unknown = resolve(doc, doc.contents);
  let offset = rangeStart(node);
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!isSeq(node)) return undefined;
      node = resolve(doc, node.items[step]);
      offset = rangeStart(node);
    } else {
      if (!isMap(node)) return undefined;
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === step);
      if (pair === undefined) return undefined;
      offset = rangeStart(pair.key);
      node = resolve(doc, pair.value);
    }
    if (offset === undefined) return undefined;
  }
  return offset;
}

function resolve(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: readonly number[] } | null | undefined)?.range?.[0];
}
