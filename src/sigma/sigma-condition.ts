// Sigma conditions: `and`, `or`, `not`, brackets, `1 of`/`all of` a pattern or `them`, parsed to a tree.

/** A parsed condition. */
export type Condition =
  | { readonly op: 'id'; readonly name: string }
  | { readonly op: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly op: 'not'; readonly operand: Condition }
  | { readonly op: 'of'; readonly quantifier: 'one' | 'all'; readonly names: readonly string[] };

/** A condition the parser cannot read; the message says where. */
export class ConditionError extends Error {}

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${body}$`);
}

/**
 * Parses a condition over the rule's search identifiers. Precedence, least binding first (Sigma
 * rules specification "Condition"): or, and, not, `x of`, brackets. `them` means every
 * identifier not starting with `_`.
 */
export function parseCondition(text: string, identifiers: readonly string[]): Condition {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const next = (): string => {
    const token = tokens[at++];
    if (token === undefined) throw new ConditionError(`condition "${text}" ends too early`);
    return token;
  };
  const known = (name: string): string => {
    if (!identifiers.includes(name))
      throw new ConditionError(`condition names "${name}", which the detection does not define`);
    return name;
  };
  const or = (): Condition => {
    let left = and();
    while (peek() === 'or') {
      next();
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Condition => {
    let left = not();
    while (peek() === 'and') {
      next();
      left = { op: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): Condition => {
    if (peek() === 'not') {
      next();
      return { op: 'not', operand: not() };
    }
    return primary();
  };
  const primary = (): Condition => {
    const token = next();
    if (token === '(') {
      const inner = or();
      if (next() !== ')') throw new ConditionError(`unbalanced brackets in "${text}"`);
      return inner;
    }
    if ((token === '1' || token === 'all') && peek() === 'of') {
      next();
      const pattern = next();
      const names =
        pattern === 'them'
          ? identifiers.filter((name) => !name.startsWith('_'))
          : identifiers.filter((name) => wildcard(pattern).test(name));
      if (names.length === 0) throw new ConditionError(`"${pattern}" matches no search identifier`);
      return { op: 'of', quantifier: token === '1' ? 'one' : 'all', names };
    }
    if (['and', 'or', ')', '|'].includes(token) || token.includes('|'))
      throw new ConditionError(
        `unexpected "${token}" in "${text}" (aggregations are correlation rules)`,
      );
    return { op: 'id', name: known(token) };
  };
  const tree = or();
  if (at !== tokens.length) throw new ConditionError(`unexpected "${tokens[at]}" in "${text}"`);
  return tree;
}

/** Evaluates a condition given which search identifiers matched. */
export function evaluateCondition(
  condition: Condition,
  matched: (name: string) => boolean,
): boolean {
  switch (condition.op) {
    case 'id':
      return matched(condition.name);
    case 'and':
      return (
        evaluateCondition(condition.left, matched) && evaluateCondition(condition.right, matched)
      );
    case 'or':
      return (
        evaluateCondition(condition.left, matched) || evaluateCondition(condition.right, matched)
      );
    case 'not':
      return !evaluateCondition(condition.operand, matched);
    case 'of':
      return condition.quantifier === 'one'
        ? condition.names.some(matched)
        : condition.names.every(matched);
  }
}
