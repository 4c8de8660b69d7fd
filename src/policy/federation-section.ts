// The `federation` list of the policy: the foreign trust domains this one trusts, where their
// bundle endpoints are and how each proves itself (SPIRE's terms, in the policy's camelCase).
import {
  bootstrapFingerprint,
  bundleEndpointUrlReason,
  parseBootstrapBundle,
  type FederationRelationship,
} from '../federation/index.js';
import { isHallmarkError } from '../errors/index.js';
import {
  checkBundleTrustDomain,
  parseSpiffeId,
  parseTrustDomain,
  type SpiffeBundle,
} from '../spiffe/index.js';
import { checkKnownKeys, describeType, isMapping, optional } from './document-shape.js';
import { childPath, type ProblemList } from './policy-problem.js';

/** The keys of one `federation` entry. */
export const FEDERATION_KEYS = [
  'trustDomain',
  'bundleEndpointURL',
  'profile',
  'endpointSPIFFEID',
  'bootstrapBundle',
] as const;

const PROFILES = ['https_web', 'https_spiffe'] as const;

/** The `federation` list as read. */
export interface FederationSection {
  readonly relationships: FederationRelationship[];
  /** Every trust domain an entry names, usable or not (so `federatesWith` is not refused twice). */
  readonly named: ReadonlySet<string>;
}

/**
 * Reads the `federation` list, recording every problem; entries with a problem are left out.
 * @see SPIFFE Federation §5.1 (URL, profile, trust domain), §5.2.2.2 (https_spiffe's SPIFFE ID
 *   and bundle); §7.2: every parameter is explicit, none is inferred from another.
 */
export function readFederation(
  raw: unknown,
  path: string,
  ownTrustDomain: string,
  problems: ProblemList,
): FederationSection {
  const named = new Set<string>();
  if (raw === undefined) return { relationships: [], named };
  if (!Array.isArray(raw)) {
    problems.add(
      path,
      `must be a list of trust domains to federate with, not ${describeType(raw)}`,
    );
    return { relationships: [], named };
  }
  const out: FederationRelationship[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item: unknown, i) => {
    const entryPath = childPath(path, i);
    if (isMapping(item) && typeof item['trustDomain'] === 'string') named.add(item['trustDomain']);
    const relationship = readEntry(item, entryPath, ownTrustDomain, problems);
    if (relationship === undefined) return;
    const first = seen.get(relationship.trustDomain);
    if (first !== undefined) {
      problems.add(
        childPath(entryPath, 'trustDomain'),
        `"${relationship.trustDomain}" is already federation[${first}]: one entry per trust domain`,
      );
      return;
    }
    seen.set(relationship.trustDomain, i);
    out.push(relationship);
  });
  return { relationships: out, named };
}

function readEntry(
  raw: unknown,
  path: string,
  ownTrustDomain: string,
  problems: ProblemList,
): FederationRelationship | undefined {
  if (!isMapping(raw)) {
    problems.add(
      path,
      `must be a mapping with trustDomain, bundleEndpointURL and profile, not ${describeType(raw)}`,
    );
    return undefined;
  }
  const before = problems.count;
  checkKnownKeys(raw, FEDERATION_KEYS, path, problems);
  const trustDomain = readTrustDomain(
    optional(raw, 'trustDomain'),
    childPath(path, 'trustDomain'),
    ownTrustDomain,
    problems,
  );
  const url = requiredString(raw, 'bundleEndpointURL', path, problems);
  if (url !== undefined) {
    const reason = bundleEndpointUrlReason(url);
    if (reason !== undefined) problems.add(childPath(path, 'bundleEndpointURL'), reason);
  }
  const profile = requiredString(raw, 'profile', path, problems);
  if (profile !== undefined && !(PROFILES as readonly string[]).includes(profile)) {
    problems.add(childPath(path, 'profile'), `must be https_web or https_spiffe, not "${profile}"`);
  }
  let endpointSpiffeId: string | undefined;
  let bootstrapBundle: SpiffeBundle | undefined;
  if (profile === 'https_spiffe') {
    endpointSpiffeId = readEndpointId(raw, path, trustDomain, problems);
    bootstrapBundle = readBootstrap(raw, path, trustDomain, problems);
  } else if (profile === 'https_web') {
    // §5.2.1.2: https_web takes nothing else; a pin or bundle here would be silently unused.
    for (const key of ['endpointSPIFFEID', 'bootstrapBundle'] as const) {
      if (optional(raw, key) !== undefined) {
        problems.add(childPath(path, key), 'is for profile https_spiffe only');
      }
    }
  }
  if (problems.count !== before || trustDomain === undefined || url === undefined) {
    return undefined;
  }
  return Object.freeze({
    trustDomain,
    bundleEndpointUrl: url,
    profile: profile as FederationRelationship['profile'],
    ...(endpointSpiffeId === undefined ? {} : { endpointSpiffeId }),
    ...(bootstrapBundle === undefined
      ? {}
      : { bootstrapBundle, bootstrapSha256: bootstrapFingerprint(bootstrapBundle) }),
  });
}

function requiredString(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  problems: ProblemList,
): string | undefined {
  const value = optional(raw, key);
  if (value === undefined) {
    problems.add(childPath(path, key), 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(childPath(path, key), `must be a string, not ${describeType(value)}`);
    return undefined;
  }
  return value;
}

function readTrustDomain(
  value: unknown,
  path: string,
  ownTrustDomain: string,
  problems: ProblemList,
): string | undefined {
  if (value === undefined) {
    problems.add(path, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(path, `must be a string, not ${describeType(value)}`);
    return undefined;
  }
  let trustDomain: string;
  try {
    // A bare name: the SPIFFE ID form would hide a path (§7.2: no inference).
    if (value.includes(':')) throw new Error('a bare trust domain name, without spiffe://');
    trustDomain = parseTrustDomain(value);
  } catch (err) {
    problems.add(path, isHallmarkError(err) ? err.message : `must be ${(err as Error).message}`);
    return undefined;
  }
  if (trustDomain === ownTrustDomain) {
    problems.add(path, `is this server's own trust domain`);
    return undefined;
  }
  return trustDomain;
}

function readEndpointId(
  raw: Record<string, unknown>,
  path: string,
  trustDomain: string | undefined,
  problems: ProblemList,
): string | undefined {
  const idPath = childPath(path, 'endpointSPIFFEID');
  const value = requiredString(raw, 'endpointSPIFFEID', path, problems);
  if (value === undefined) return undefined;
  try {
    const id = parseSpiffeId(value);
    // Self-serving endpoints only (§5.2.2.2): the bootstrap bundle authenticates the endpoint.
    if (trustDomain !== undefined && id.trustDomain !== trustDomain) {
      problems.add(
        idPath,
        `must be in trust domain ${trustDomain} (the endpoint serves its own bundle)`,
      );
      return undefined;
    }
    return id.toString();
  } catch (err) {
    problems.add(idPath, isHallmarkError(err) ? err.message : 'is not a SPIFFE ID');
    return undefined;
  }
}

function readBootstrap(
  raw: Record<string, unknown>,
  path: string,
  trustDomain: string | undefined,
  problems: ProblemList,
): SpiffeBundle | undefined {
  const bundlePath = childPath(path, 'bootstrapBundle');
  const value = requiredString(raw, 'bootstrapBundle', path, problems);
  if (value === undefined) return undefined;
  try {
    const bundle = parseBootstrapBundle(value);
    if (trustDomain !== undefined) checkBundleTrustDomain(bundle, trustDomain);
    return bundle;
  } catch (err) {
    if (!isHallmarkError(err)) throw err;
    problems.add(bundlePath, err.detail ?? err.message);
    return undefined;
  }
}

/**
 * Reads a registration's `federatesWith`: trust domains listed in `federation` (SPIRE's
 * semantics: the workload receives their bundles), each once.
 */
export function readFederatesWith(
  raw: unknown,
  path: string,
  problems: ProblemList,
): readonly string[] {
  if (raw === undefined) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    problems.add(path, `must be a list of trust domains, not ${describeType(raw)}`);
    return Object.freeze([]);
  }
  const out: string[] = [];
  raw.forEach((item: unknown, i) => {
    const itemPath = childPath(path, i);
    if (typeof item !== 'string') {
      problems.add(itemPath, `must be a trust domain name, not ${describeType(item)}`);
    } else if (out.includes(item)) {
      problems.add(itemPath, `"${item}" is listed twice`);
    } else {
      out.push(item);
    }
  });
  return Object.freeze(out);
}

/** Every `federatesWith` entry must name a trust domain of the `federation` list. */
export function checkFederatesWith(
  registrations: readonly { readonly index: number; readonly federatesWith: readonly string[] }[],
  known: ReadonlySet<string>,
  path: string,
  problems: ProblemList,
): void {
  for (const registration of registrations) {
    registration.federatesWith.forEach((trustDomain, i) => {
      if (!known.has(trustDomain)) {
        problems.add(
          childPath(childPath(childPath(path, registration.index), 'federatesWith'), i),
          `"${trustDomain}" is not a trust domain of the federation list`,
        );
      }
    });
  }
}
