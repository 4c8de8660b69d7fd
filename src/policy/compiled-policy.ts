// The compiled policy: a whole document validated, then frozen into indexes for evaluation.
import { createHash } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import { parseTrustDomain } from '../spiffe/index.js';
import { EMPTY_GRANTS, indexGrants, type CompiledGrants } from './compiled-grants.js';
import { checkKnownKeys, describeType, isMapping, optional } from './document-shape.js';
import { readGrantList } from './grant-list.js';
import type { FederationRelationship } from '../federation/index.js';
import { checkFederatesWith, readFederation } from './federation-section.js';
import { readGroups } from './group-table.js';
import { checkConfinement, type ConfinementReport } from './identity-confinement.js';
import { PolicyInvalidError } from './policy-invalid-error.js';
import { ProblemList } from './policy-problem.js';
import { readRegistrations, type CompiledRegistration } from './registration.js';
import { DEFAULT_YAML_LIMITS, readYamlDocument, type YamlDocument } from './safe-yaml.js';

/** The top-level keys of a policy document. */
export const POLICY_KEYS = ['workloads', 'groups', 'grants', 'federation'] as const;

/** What a policy is compiled against; fixed for the life of the compiled policy. */
export interface CompilePolicyOptions {
  /** The server's trust domain (`hallmark.local` or `spiffe://hallmark.local`). */
  readonly trustDomain: string;
  /** Longest SVID TTL a registration may ask for, in seconds (server max, 24 h by default). */
  readonly maxTtlSeconds: number;
  /** Largest document, in UTF-8 bytes; default 1 MiB. */
  readonly maxBytes?: number;
  /** Deepest nesting of mappings and lists; default 32. */
  readonly maxDepth?: number;
  /** Most alias resolutions; default 100 (0 forbids aliases). */
  readonly maxAliasCount?: number;
  /**
   * For documents stored before identity confinement existed (a replica's refresh): a
   * registration rendering outside its namespace without `allowForeignPath` no longer fails
   * the document; it is listed in `unconfined` and refuses every pod at issuance. Loads of new
   * documents leave this off, so such a registration is a problem.
   */
  readonly tolerateUnconfined?: boolean;
}

/** A validated, frozen policy, ready for the pure evaluation functions. */
export interface CompiledPolicy {
  readonly trustDomain: string;
  readonly maxTtlSeconds: number;
  /** The document exactly as loaded (`""` for the empty policy), for `GET /v1/policy`. */
  readonly source: string;
  /** Hex SHA-256 of `source`, for audit rows and change detection. */
  readonly sha256: string;
  /** Registrations in document order. */
  readonly registrations: readonly CompiledRegistration[];
  /** The same registrations by namespace (document order kept within each list). */
  readonly registrationsByNamespace: ReadonlyMap<string, readonly CompiledRegistration[]>;
  /** Groups as written: name → members. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /** The document's grants, indexed. */
  readonly grants: CompiledGrants;
  /** Registrations whose `allowForeignPath` lets them render IDs outside `/ns/<namespace>/`. */
  readonly foreignPaths: readonly CompiledRegistration[];
  /**
   * Registrations rendering outside their namespace without `allowForeignPath`, kept only
   * under `tolerateUnconfined`: every pod they select is refused an SVID.
   */
  readonly unconfined: readonly CompiledRegistration[];
  /** The foreign trust domains of the `federation` list, in document order. */
  readonly federation: readonly FederationRelationship[];
}

/**
 * Parses, validates and compiles a policy document (YAML or JSON) as a whole.
 *
 * @throws PolicyInvalidError `ERR_POLICY_INVALID` listing every problem found, each with its
 *   property path (`workloads[2].spiffeId`) and, when known, line and column.
 * @throws HallmarkError `ERR_SPIFFE_TRUST_DOMAIN_INVALID` / `ERR_CONFIG_INVALID` for bad options.
 */
export function compilePolicy(text: string, options: CompilePolicyOptions): CompiledPolicy {
  checkOptions(options);
  const document = readYamlDocument(text, {
    maxBytes: options.maxBytes ?? DEFAULT_YAML_LIMITS.maxBytes,
    maxDepth: options.maxDepth ?? DEFAULT_YAML_LIMITS.maxDepth,
    maxAliasCount: options.maxAliasCount ?? DEFAULT_YAML_LIMITS.maxAliasCount,
  });
  return compileDocument(text, document, options);
}

/**
 * The second half of {@link compilePolicy}: validates and indexes a document already read
 * (`text` is kept as the policy's source). Separate so the bench can time it on its own.
 */
export function compileDocument(
  text: string,
  document: YamlDocument,
  options: CompilePolicyOptions,
): CompiledPolicy {
  const { trustDomain, maxTtlSeconds } = checkOptions(options);
  const problems = new ProblemList(document.locate);
  const root = document.value;
  if (!isMapping(root)) {
    problems.add(
      '',
      `must be a mapping with workloads, groups, grants and federation, not ${describeType(root)}`,
    );
    throw new PolicyInvalidError(problems.toArray());
  }
  checkKnownKeys(root, POLICY_KEYS, '', problems);
  const federation = readFederation(
    optional(root, 'federation'),
    'federation',
    trustDomain,
    problems,
  );
  const registrations = readRegistrations(
    optional(root, 'workloads'),
    'workloads',
    { trustDomain, maxTtlSeconds },
    problems,
  );
  const confinement = checkConfinement(
    registrations,
    'workloads',
    problems,
    options.tolerateUnconfined === true,
  );
  checkFederatesWith(registrations, federation.named, 'workloads', problems);
  const groups = readGroups(optional(root, 'groups'), 'groups', trustDomain, problems);
  const grants = readGrantList(optional(root, 'grants'), 'grants', groups, trustDomain, problems);
  if (!problems.isEmpty) throw new PolicyInvalidError(problems.toArray());
  return freezePolicy(
    text,
    trustDomain,
    maxTtlSeconds,
    registrations,
    groups.written,
    indexGrants(grants),
    confinement,
    federation.relationships,
  );
}

/**
 * The policy in force before any document is loaded: no registrations, no grants, so every
 * SVID request and every secret access is denied.
 */
export function emptyPolicy(
  options: Pick<CompilePolicyOptions, 'trustDomain' | 'maxTtlSeconds'>,
): CompiledPolicy {
  const { trustDomain, maxTtlSeconds } = checkOptions(options);
  return freezePolicy(
    '',
    trustDomain,
    maxTtlSeconds,
    [],
    new Map(),
    EMPTY_GRANTS,
    { foreign: [], unconfined: [] },
    [],
  );
}

function checkOptions(options: Pick<CompilePolicyOptions, 'trustDomain' | 'maxTtlSeconds'>): {
  trustDomain: string;
  maxTtlSeconds: number;
} {
  const trustDomain = parseTrustDomain(options.trustDomain);
  if (!Number.isSafeInteger(options.maxTtlSeconds) || options.maxTtlSeconds <= 0) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      detail: `policy maxTtlSeconds must be a positive integer, got ${options.maxTtlSeconds}`,
    });
  }
  return { trustDomain, maxTtlSeconds: options.maxTtlSeconds };
}

function freezePolicy(
  source: string,
  trustDomain: string,
  maxTtlSeconds: number,
  registrations: readonly CompiledRegistration[],
  groups: ReadonlyMap<string, readonly string[]>,
  grants: CompiledGrants,
  confinement: ConfinementReport,
  federation: readonly FederationRelationship[],
): CompiledPolicy {
  const byNamespace = new Map<string, CompiledRegistration[]>();
  for (const registration of registrations) {
    const list = byNamespace.get(registration.namespace) ?? [];
    list.push(registration);
    byNamespace.set(registration.namespace, list);
  }
  for (const list of byNamespace.values()) Object.freeze(list);
  return Object.freeze({
    trustDomain,
    maxTtlSeconds,
    source,
    sha256: createHash('sha256').update(source, 'utf8').digest('hex'),
    registrations: Object.freeze([...registrations]),
    registrationsByNamespace: byNamespace,
    groups,
    grants,
    foreignPaths: Object.freeze([...confinement.foreign]),
    unconfined: Object.freeze([...confinement.unconfined]),
    federation: Object.freeze([...federation]),
  });
}
