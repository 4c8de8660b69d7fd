// Groups: named lists of identities and SPIFFE ID patterns that grants refer to by name.
import { describeType, isMapping, stringList } from './document-shape.js';
import { parseGrantSubject, isGroupName, type GrantSubject } from './grant-subject.js';
import { childPath, type ProblemList } from './policy-problem.js';

/** A subject a group may hold: an identity or a pattern (groups do not nest). */
export type MemberSubject = Exclude<GrantSubject, { kind: 'group' }>;

/** Groups as compiled: members parsed for evaluation, and as written for display. */
export interface GroupTable {
  readonly members: ReadonlyMap<string, readonly MemberSubject[]>;
  readonly written: ReadonlyMap<string, readonly string[]>;
}

/** A table with no groups (extra grants, empty policies). */
export const NO_GROUPS: GroupTable = Object.freeze({
  members: new Map<string, readonly MemberSubject[]>(),
  written: new Map<string, readonly string[]>(),
});

/**
 * Reads the `groups` mapping: group name → list of members. Names are 1-128 characters of
 * `[A-Za-z0-9._-]` (so a name can never look like `spiffe://…` or `key:…`); members are SPIFFE
 * IDs, SPIFFE ID patterns ending in `/*`, or `key:<id>`. A group may not contain a group: one
 * level keeps "who is in this group" answerable by reading one list.
 */
export function readGroups(
  raw: unknown,
  path: string,
  trustDomain: string,
  problems: ProblemList,
): GroupTable {
  if (raw === undefined) return NO_GROUPS;
  if (!isMapping(raw)) {
    problems.add(path, `must be a mapping of group name to members, not ${describeType(raw)}`);
    return NO_GROUPS;
  }
  const members = new Map<string, readonly MemberSubject[]>();
  const written = new Map<string, readonly string[]>();
  for (const [name, value] of Object.entries(raw)) {
    const groupPath = childPath(path, name);
    if (!isGroupName(name)) {
      problems.add(
        groupPath,
        'group names are 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit',
      );
    }
    const list = value === null ? [] : stringList(value, groupPath, problems);
    if (list === undefined) continue;
    const parsed: MemberSubject[] = [];
    for (const member of list) {
      const result = parseGrantSubject(member.value, trustDomain);
      if (!result.ok) problems.add(member.path, result.reason);
      else if (result.subject.kind === 'group') {
        problems.add(member.path, `groups cannot contain groups ("${member.value}")`);
      } else parsed.push(result.subject);
    }
    members.set(name, Object.freeze(parsed));
    written.set(name, Object.freeze(list.map((m) => m.value)));
  }
  return Object.freeze({ members, written });
}
