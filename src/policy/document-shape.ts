// Shape checks shared by every part of the policy document: mappings, known keys, type names.
import { childPath, type ProblemList } from './policy-problem.js';

/** True for a mapping (a plain or null-prototype object), not an array or null. */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a value's type reads in a problem message: `a string`, `a list`, `null`, ... */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return 'a string';
}

/** Records one problem per key of `mapping` that is not in `allowed`. */
export function checkKnownKeys(
  mapping: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  problems: ProblemList,
): void {
  for (const key of Object.keys(mapping)) {
    if (!allowed.includes(key)) {
      problems.add(childPath(path, key), `unknown key "${key}" (expected ${allowed.join(', ')})`);
    }
  }
}

/**
 * The value of an optional key: `undefined` when missing or written as null (`write:` with
 * nothing after it), so "absent" has one meaning however it was spelled.
 */
export function optional(mapping: Record<string, unknown>, key: string): unknown {
  if (!Object.hasOwn(mapping, key)) return undefined;
  const value = mapping[key];
  return value === null ? undefined : value;
}

/** A string read from a list, with its own property path. */
export interface ListedString {
  readonly value: string;
  readonly path: string;
}

/**
 * Reads a list of strings, recording a problem for a non-list or for each non-string item.
 * @returns the strings with their paths (non-strings skipped), or `undefined` for a non-list.
 */
export function stringList(
  value: unknown,
  path: string,
  problems: ProblemList,
): ListedString[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(path, `must be a list of strings, not ${describeType(value)}`);
    return undefined;
  }
  const out: ListedString[] = [];
  value.forEach((item: unknown, i) => {
    const itemPath = childPath(path, i);
    if (typeof item === 'string') out.push({ value: item, path: itemPath });
    else problems.add(itemPath, `must be a string, not ${describeType(item)}`);
  });
  return out;
}
