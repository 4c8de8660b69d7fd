// Sigma search identifiers over a JSON event: field maps, value lists and the modifiers Hallmark's rules use.

/** A detection's search identifiers, compiled to predicates over an event. */
export type EventPredicate = (event: Record<string, unknown>) => boolean;

/** A detection the evaluator cannot read (unknown modifier, unresolved placeholder, bad shape). */
export class DetectionError extends Error {}

/** Values for `%name%` placeholders (`|expand`), each a list (one of them must match). */
export type Placeholders = Readonly<Record<string, readonly string[]>>;

const MODIFIERS = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  'exists',
  'expand',
  'fieldref',
  'cased',
]);

/** The value at a dotted path; an array on the way yields every element's value. */
function valuesAt(event: unknown, path: string): unknown[] {
  let current: unknown[] = [event];
  for (const key of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        for (const item of value)
          if (item !== null && typeof item === 'object' && key in item)
            next.push((item as Record<string, unknown>)[key]);
      } else if (value !== null && typeof value === 'object' && key in value) {
        next.push((value as Record<string, unknown>)[key]);
      }
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined);
}

/**
 * A Sigma string value as a regular expression: `*` any run, `?` one character, `\` escaping
 * them (Sigma rules specification "String Wildcard", "Escape Character"); case-insensitive
 * unless `cased`.
 */
function pattern(
  value: string,
  kind: 'equals' | 'contains' | 'startswith' | 'endswith',
  cased: boolean,
): RegExp {
  let body = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && (value[i + 1] === '*' || value[i + 1] === '?' || value[i + 1] === '\\')) {
      body += `\\${value[++i]}`;
    } else if (c === '*') body += '.*';
    else if (c === '?') body += '.';
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const start = kind === 'contains' || kind === 'endswith' ? '' : '^';
  const end = kind === 'contains' || kind === 'startswith' ? '' : '$';
  return new RegExp(`${start}${body}${end}`, cased ? 's' : 'is');
}

function expand(value: string, placeholders: Placeholders): string[] {
  const match = /^%([A-Za-z0-9_]+)%$/.exec(value);
  if (!match) return [value];
  const values = placeholders[match[1] as string];
  if (values === undefined)
    throw new DetectionError(
      `placeholder %${match[1]}% has no value (give --placeholder ${match[1]}=...)`,
    );
  return [...values];
}

function fieldPredicate(
  key: string,
  expected: unknown,
  placeholders: Placeholders,
): EventPredicate {
  const [field, ...modifiers] = key.split('|');
  if (field === undefined || field === '') throw new DetectionError(`"${key}" names no field`);
  for (const m of modifiers)
    if (!MODIFIERS.has(m)) throw new DetectionError(`modifier "${m}" is not supported`);
  const has = (m: string): boolean => modifiers.includes(m);
  if (has('exists')) {
    if (typeof expected !== 'boolean') throw new DetectionError(`${key} takes true or false`);
    return (event) => valuesAt(event, field).some((v) => v !== null) === expected;
  }
  const list = Array.isArray(expected) ? expected : [expected];
  if (has('fieldref')) {
    return (event) => {
      const mine = valuesAt(event, field).map(String);
      return list.some((other) =>
        valuesAt(event, String(other)).some((v) => mine.includes(String(v))),
      );
    };
  }
  const kind = has('contains')
    ? 'contains'
    : has('startswith')
      ? 'startswith'
      : has('endswith')
        ? 'endswith'
        : 'equals';
  const matchers = list.flatMap((value): ((actual: unknown[]) => boolean)[] => {
    if (value === null) return [(actual) => actual.length === 0 || actual.every((v) => v === null)];
    if (typeof value === 'object')
      throw new DetectionError(`${key}: a value must be a string, number or null`);
    const texts = has('expand') ? expand(String(value), placeholders) : [String(value)];
    return texts.map((text) => {
      const regex = pattern(text, kind, has('cased'));
      return (actual) =>
        actual.some((v) => v !== null && typeof v !== 'object' && regex.test(String(v)));
    });
  });
  return (event) => {
    const actual = valuesAt(event, field);
    return has('all') ? matchers.every((m) => m(actual)) : matchers.some((m) => m(actual));
  };
}

/**
 * A search identifier: a map (every field matches), a list of maps (any map matches), or a
 * list of keywords (not supported: Hallmark's events are searched by field).
 */
export function compileSearch(definition: unknown, placeholders: Placeholders): EventPredicate {
  if (Array.isArray(definition)) {
    const alternatives = definition.map((item) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw new DetectionError('keyword searches are not supported; name the field');
      return compileSearch(item, placeholders);
    });
    return (event) => alternatives.some((p) => p(event));
  }
  if (definition === null || typeof definition !== 'object')
    throw new DetectionError('a search identifier must be a map or a list of maps');
  const fields = Object.entries(definition as Record<string, unknown>).map(([key, value]) =>
    fieldPredicate(key, value, placeholders),
  );
  return (event) => fields.every((p) => p(event));
}
