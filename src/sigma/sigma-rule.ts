// Reading a Sigma file: one detection rule, or detection rules with an event_count correlation over them.
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../config/index.js';
import { evaluateCondition, parseCondition } from './sigma-condition.js';
import {
  compileSearch,
  DetectionError,
  type EventPredicate,
  type Placeholders,
} from './sigma-detection.js';

/** A detection rule, compiled. */
export interface SigmaRule {
  readonly title: string;
  readonly id?: string;
  readonly name?: string;
  readonly level?: string;
  readonly matches: EventPredicate;
}

/** An `event_count` correlation (Sigma correlation rules specification). */
export interface EventCount {
  readonly title: string;
  readonly level?: string;
  readonly rules: readonly SigmaRule[];
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  /** `gt` or `gte` threshold: a count that reaches it fires. */
  readonly atLeast: number;
}

/** What a file asks the hunt to do. */
export type HuntPlan =
  | { readonly kind: 'rule'; readonly rule: SigmaRule }
  | { readonly kind: 'correlation'; readonly correlation: EventCount };

/** A file that is not a Sigma rule Hallmark can evaluate; the message says why. */
export class SigmaRuleError extends Error {}

type Doc = Record<string, unknown>;

function text(doc: Doc, key: string, required: boolean): string | undefined {
  const value = doc[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new SigmaRuleError(`"${key}" must be a non-empty string`);
  return value;
}

function compileRule(doc: Doc, placeholders: Placeholders): SigmaRule {
  const title = text(doc, 'title', true) as string;
  const logsource = doc['logsource'] as Doc | undefined;
  if (logsource === null || typeof logsource !== 'object')
    throw new SigmaRuleError(`${title}: "logsource" is required`);
  // Hallmark's events: its OCSF audit stream (docs/audit.md "Detections").
  if (logsource['product'] !== 'hallmark')
    throw new SigmaRuleError(
      `${title}: logsource.product must be "hallmark" to run over Hallmark's audit log`,
    );
  const detection = doc['detection'] as Doc | undefined;
  if (detection === null || typeof detection !== 'object')
    throw new SigmaRuleError(`${title}: "detection" is required`);
  const { condition, timeframe: _timeframe, ...searches } = detection;
  const names = Object.keys(searches);
  const compiled = new Map<string, EventPredicate>();
  try {
    for (const name of names) compiled.set(name, compileSearch(searches[name], placeholders));
    const conditions = (Array.isArray(condition) ? condition : [condition]).map((c) => {
      if (typeof c !== 'string')
        throw new SigmaRuleError(`${title}: detection.condition is required`);
      return parseCondition(c, names);
    });
    const matched = (event: Record<string, unknown>) => (name: string) =>
      (compiled.get(name) as EventPredicate)(event);
    return {
      title,
      id: text(doc, 'id', false),
      name: text(doc, 'name', false),
      level: text(doc, 'level', false),
      // A list of conditions is linked with OR.
      matches: (event) => conditions.some((c) => evaluateCondition(c, matched(event))),
    };
  } catch (err) {
    if (err instanceof SigmaRuleError) throw err;
    throw new SigmaRuleError(`${title}: ${(err as Error).message}`);
  }
}

function compileCorrelation(doc: Doc, rules: readonly SigmaRule[]): EventCount {
  const title = text(doc, 'title', true) as string;
  const c = doc['correlation'] as Doc;
  if (c['type'] !== 'event_count')
    throw new SigmaRuleError(
      `${title}: only event_count correlations are supported, not ${String(c['type'])}`,
    );
  const refs = c['rules'];
  if (!Array.isArray(refs) || refs.length === 0)
    throw new SigmaRuleError(`${title}: correlation.rules is required`);
  const referred = refs.map((ref) => {
    const rule = rules.find((r) => r.id === ref || r.name === ref);
    if (!rule) throw new SigmaRuleError(`${title}: rule "${String(ref)}" is not in this file`);
    return rule;
  });
  const groupBy = c['group-by'];
  if (!Array.isArray(groupBy) || !groupBy.every((f) => typeof f === 'string'))
    throw new SigmaRuleError(`${title}: correlation.group-by must list fields`);
  const seconds = typeof c['timespan'] === 'string' ? parseDuration(c['timespan']) : undefined;
  if (seconds === undefined)
    throw new SigmaRuleError(`${title}: correlation.timespan must be like 90s, 5m, 1h`);
  const condition = c['condition'] as Doc | undefined;
  const threshold =
    typeof condition?.['gte'] === 'number'
      ? condition['gte']
      : typeof condition?.['gt'] === 'number'
        ? condition['gt'] + 1
        : undefined;
  if (threshold === undefined || Object.keys(condition ?? {}).length !== 1)
    throw new SigmaRuleError(`${title}: correlation.condition must be one gte or gt`);
  return {
    title,
    level: text(doc, 'level', false),
    rules: referred,
    groupBy: groupBy as string[],
    timespanMs: seconds * 1000,
    atLeast: threshold,
  };
}

/** Parses a Sigma file (YAML, one or more documents) into what the hunt runs. */
export function parseSigmaFile(source: string, placeholders: Placeholders = {}): HuntPlan {
  const docs = parseAllDocuments(source);
  if (!Array.isArray(docs) || docs.length === 0)
    throw new SigmaRuleError('the file holds no YAML document');
  const values: Doc[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new SigmaRuleError(`YAML: ${doc.errors[0]?.message}`);
    // No alias expansion: a rule file has no use for it, and it is how YAML bombs grow.
    const value = doc.toJS({ maxAliasCount: 0 }) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new SigmaRuleError('every document must be a map');
    values.push(value as Doc);
  }
  try {
    const rules = values
      .filter((d) => d['correlation'] === undefined)
      .map((d) => compileRule(d, placeholders));
    const correlations = values.filter((d) => d['correlation'] !== undefined);
    if (correlations.length > 1) throw new SigmaRuleError('at most one correlation per file');
    if (correlations.length === 1)
      return {
        kind: 'correlation',
        correlation: compileCorrelation(correlations[0] as Doc, rules),
      };
    if (rules.length !== 1)
      throw new SigmaRuleError('a file without a correlation holds exactly one rule');
    return { kind: 'rule', rule: rules[0] as SigmaRule };
  } catch (err) {
    if (err instanceof DetectionError) throw new SigmaRuleError(err.message);
    throw err;
  }
}
