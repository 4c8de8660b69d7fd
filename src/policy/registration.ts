// Registrations: the `workloads` list — which pods may get an SVID, with which ID and lifetime.
import { parseDuration } from '../config/index.js';
import { checkKnownKeys, describeType, isMapping, optional } from './document-shape.js';
import {
  labelKeyReason,
  labelValueReason,
  namespaceNameReason,
  serviceAccountNameReason,
} from './kubernetes-names.js';
import { readFederatesWith } from './federation-section.js';
import { childPath, type ProblemList } from './policy-problem.js';
import { reportShadowed } from './registration-shadow.js';
import {
  DEFAULT_SPIFFE_ID_TEMPLATE,
  compileSpiffeIdTemplate,
  type SpiffeIdTemplate,
  type TemplateCompilation,
} from './spiffe-id-template.js';

/** The keys a registration may have. */
export const REGISTRATION_KEYS = [
  'namespace',
  'serviceAccount',
  'labels',
  'spiffeId',
  'allowForeignPath',
  'ttl',
  'federatesWith',
] as const;

/** One compiled registration (an entry of `workloads`). */
export interface CompiledRegistration {
  /** Position in `workloads`, for audit rows and error messages. */
  readonly index: number;
  readonly namespace: string;
  /** `undefined`: any service account in the namespace. */
  readonly serviceAccount: string | undefined;
  /** Every one must be present on the pod with exactly this value. */
  readonly labels: Readonly<Record<string, string>>;
  readonly template: SpiffeIdTemplate;
  /**
   * The template may render IDs outside `/ns/<namespace>/` (never in another namespace's tree
   * or the server's); see `checkConfinement`.
   */
  readonly allowForeignPath: boolean;
  /** `undefined`: the server's default SVID TTL. */
  readonly ttlSeconds: number | undefined;
  /** Foreign trust domains whose bundles the workload receives (`federatesWith`). */
  readonly federatesWith: readonly string[];
}

/** What registrations are compiled against. */
export interface RegistrationContext {
  readonly trustDomain: string;
  readonly maxTtlSeconds: number;
}

/** Reads the `workloads` list, recording every problem; unusable entries are left out. */
export function readRegistrations(
  raw: unknown,
  path: string,
  context: RegistrationContext,
  problems: ProblemList,
): CompiledRegistration[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.add(path, `must be a list of registrations, not ${describeType(raw)}`);
    return [];
  }
  const out: CompiledRegistration[] = [];
  // Large documents repeat a few templates many times: compile each distinct one once.
  const templates = new Map<string, TemplateCompilation>();
  const compileTemplate = (source: string): TemplateCompilation => {
    let compiled = templates.get(source);
    if (compiled === undefined) {
      compiled = compileSpiffeIdTemplate(source, context.trustDomain);
      templates.set(source, compiled);
    }
    return compiled;
  };
  raw.forEach((item: unknown, i) => {
    const registration = readRegistration(
      item,
      i,
      childPath(path, i),
      compileTemplate,
      context,
      problems,
    );
    if (registration !== undefined) out.push(registration);
  });
  reportShadowed(out, path, problems);
  return out;
}

function readRegistration(
  raw: unknown,
  index: number,
  path: string,
  compileTemplate: (source: string) => TemplateCompilation,
  context: RegistrationContext,
  problems: ProblemList,
): CompiledRegistration | undefined {
  if (!isMapping(raw)) {
    problems.add(path, `must be a mapping with at least a namespace, not ${describeType(raw)}`);
    return undefined;
  }
  const before = problems.count;
  checkKnownKeys(raw, REGISTRATION_KEYS, path, problems);

  const namespace = optional(raw, 'namespace');
  const namespacePath = childPath(path, 'namespace');
  if (namespace === undefined) problems.add(namespacePath, 'is required');
  else nameCheck(namespace, namespacePath, namespaceNameReason, problems);

  const serviceAccount = optional(raw, 'serviceAccount');
  if (serviceAccount !== undefined) {
    nameCheck(
      serviceAccount,
      childPath(path, 'serviceAccount'),
      serviceAccountNameReason,
      problems,
    );
  }

  const labels = readLabels(optional(raw, 'labels'), childPath(path, 'labels'), problems);

  const templateSource = optional(raw, 'spiffeId') ?? DEFAULT_SPIFFE_ID_TEMPLATE;
  const templatePath = childPath(path, 'spiffeId');
  let template: SpiffeIdTemplate | undefined;
  if (typeof templateSource !== 'string') {
    problems.add(templatePath, `must be a string, not ${describeType(templateSource)}`);
  } else {
    const compiled = compileTemplate(templateSource);
    if (compiled.ok) template = compiled.template;
    else for (const reason of compiled.reasons) problems.add(templatePath, reason);
  }

  const allowForeignPath = optional(raw, 'allowForeignPath') ?? false;
  if (typeof allowForeignPath !== 'boolean') {
    problems.add(
      childPath(path, 'allowForeignPath'),
      `must be true or false, not ${describeType(allowForeignPath)}`,
    );
  }

  const ttlSeconds = readTtl(optional(raw, 'ttl'), childPath(path, 'ttl'), context, problems);
  const federatesWith = readFederatesWith(
    optional(raw, 'federatesWith'),
    childPath(path, 'federatesWith'),
    problems,
  );

  if (problems.count !== before || template === undefined) return undefined;
  return Object.freeze({
    index,
    namespace: namespace as string,
    serviceAccount: serviceAccount as string | undefined,
    labels,
    template,
    allowForeignPath: allowForeignPath === true,
    ttlSeconds,
    federatesWith,
  });
}

function nameCheck(
  value: unknown,
  path: string,
  reasonOf: (name: string) => string | undefined,
  problems: ProblemList,
): void {
  if (typeof value !== 'string') {
    problems.add(path, `must be a string, not ${describeType(value)}`);
    return;
  }
  const reason = reasonOf(value);
  if (reason !== undefined) problems.add(path, reason);
}

function readLabels(
  raw: unknown,
  path: string,
  problems: ProblemList,
): Readonly<Record<string, string>> {
  // Null prototype: a label key such as "constructor" must never read an inherited value.
  const labels = Object.create(null) as Record<string, string>;
  if (raw === undefined) return Object.freeze(labels);
  if (!isMapping(raw)) {
    problems.add(path, `must be a mapping of label key to value, not ${describeType(raw)}`);
    return Object.freeze(labels);
  }
  for (const [key, value] of Object.entries(raw)) {
    const labelPath = childPath(path, key);
    const keyReason = labelKeyReason(key);
    if (keyReason !== undefined) problems.add(labelPath, keyReason);
    // Kubernetes label values are strings; `app: 1` or `enabled: true` would never match.
    if (typeof value !== 'string') {
      problems.add(labelPath, `must be a string (quote it), not ${describeType(value)}`);
      continue;
    }
    const valueReason = labelValueReason(value);
    if (valueReason !== undefined) problems.add(labelPath, valueReason);
    else labels[key] = value;
  }
  return Object.freeze(labels);
}

function readTtl(
  raw: unknown,
  path: string,
  context: RegistrationContext,
  problems: ProblemList,
): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = typeof raw === 'string' && raw.trim() === raw ? parseDuration(raw) : undefined;
  if (seconds === undefined) {
    problems.add(path, 'must be a duration such as 30s, 15m, 1h or 1d');
    return undefined;
  }
  if (seconds > context.maxTtlSeconds) {
    problems.add(path, `must be at most the server maximum of ${context.maxTtlSeconds}s`);
    return undefined;
  }
  return seconds;
}

/** The value of label `key` if `labels` has it as an own property (never an inherited one). */
export function ownLabel(
  labels: Readonly<Record<string, string>>,
  key: string,
): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
