// The `grants` list as written: who (`to`) may `read` and `write` which secret paths.
import { checkKnownKeys, describeType, isMapping, optional, stringList } from './document-shape.js';
import type { ListedString } from './document-shape.js';
import { parseGrantSubject } from './grant-subject.js';
import type { GroupTable, MemberSubject } from './group-table.js';
import { parsePathPattern, type PathPattern } from './path-pattern.js';
import { childPath, type ProblemList } from './policy-problem.js';

/** The keys a grant may have. */
export const GRANT_KEYS = ['to', 'read', 'write'] as const;

/** One grant, validated, with its groups expanded. */
export interface GrantEntry {
  readonly subjects: readonly MemberSubject[];
  readonly read: readonly PathPattern[];
  readonly write: readonly PathPattern[];
}

/**
 * Reads a list of grants, recording every problem. `to` is one subject or a non-empty list of
 * subjects (group names, SPIFFE IDs, SPIFFE ID patterns, `key:<id>`); `read` and `write` are
 * lists of path patterns, and together must name at least one. `write` does not imply `read`.
 */
export function readGrantList(
  raw: unknown,
  path: string,
  groups: GroupTable,
  trustDomain: string,
  problems: ProblemList,
): GrantEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.add(path, `must be a list of grants, not ${describeType(raw)}`);
    return [];
  }
  const entries: GrantEntry[] = [];
  raw.forEach((item: unknown, i) => {
    const entry = readGrant(item, childPath(path, i), groups, trustDomain, problems);
    if (entry !== undefined) entries.push(entry);
  });
  return entries;
}

function readGrant(
  raw: unknown,
  path: string,
  groups: GroupTable,
  trustDomain: string,
  problems: ProblemList,
): GrantEntry | undefined {
  if (!isMapping(raw)) {
    problems.add(path, `must be a mapping with to, read and write, not ${describeType(raw)}`);
    return undefined;
  }
  checkKnownKeys(raw, GRANT_KEYS, path, problems);
  const subjects = readSubjects(
    optional(raw, 'to'),
    childPath(path, 'to'),
    groups,
    trustDomain,
    problems,
  );
  const read = readPatterns(optional(raw, 'read'), childPath(path, 'read'), problems);
  const write = readPatterns(optional(raw, 'write'), childPath(path, 'write'), problems);
  if (read !== undefined && write !== undefined && read.length === 0 && write.length === 0) {
    problems.add(path, 'grants nothing: list at least one path under read or write');
  }
  if (subjects === undefined || read === undefined || write === undefined) return undefined;
  return Object.freeze({
    subjects: Object.freeze(subjects),
    read: Object.freeze(read),
    write: Object.freeze(write),
  });
}

function readSubjects(
  raw: unknown,
  path: string,
  groups: GroupTable,
  trustDomain: string,
  problems: ProblemList,
): MemberSubject[] | undefined {
  if (raw === undefined) {
    problems.add(path, 'is required: a group name, a SPIFFE ID, a pattern, key:<id>, or a list');
    return undefined;
  }
  let listed: ListedString[] | undefined;
  if (typeof raw === 'string') listed = [{ value: raw, path }];
  else if (Array.isArray(raw)) listed = stringList(raw, path, problems);
  else problems.add(path, `must be a string or a list of strings, not ${describeType(raw)}`);
  if (listed === undefined) return undefined;
  if (Array.isArray(raw) && raw.length === 0) {
    problems.add(path, 'must name at least one subject');
    return undefined;
  }
  const subjects: MemberSubject[] = [];
  let ok = listed.length === (Array.isArray(raw) ? raw.length : 1);
  for (const item of listed) {
    const result = parseGrantSubject(item.value, trustDomain);
    if (!result.ok) {
      problems.add(item.path, result.reason);
      ok = false;
    } else if (result.subject.kind !== 'group') {
      subjects.push(result.subject);
    } else {
      const members = groups.members.get(result.subject.name);
      if (members === undefined) {
        problems.add(item.path, `unknown group "${result.subject.name}"`);
        ok = false;
      } else subjects.push(...members);
    }
  }
  return ok ? subjects : undefined;
}

function readPatterns(
  raw: unknown,
  path: string,
  problems: ProblemList,
): PathPattern[] | undefined {
  if (raw === undefined) return [];
  const listed = stringList(raw, path, problems);
  if (listed === undefined) return undefined;
  let ok = listed.length === (raw as unknown[]).length;
  const patterns: PathPattern[] = [];
  for (const item of listed) {
    const result = parsePathPattern(item.value);
    if (result.ok) patterns.push(result.pattern);
    else {
      problems.add(item.path, result.reason);
      ok = false;
    }
  }
  return ok ? patterns : undefined;
}
