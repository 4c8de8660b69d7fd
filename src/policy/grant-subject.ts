// Grant subjects: who a grant or group names — a SPIFFE ID, a SPIFFE ID pattern, an API key, a group.
import { isHallmarkError } from '../errors/index.js';
import { parseSpiffeId, type SpiffeId } from '../spiffe/index.js';

/** Identities of API-key callers (admin, broker bindings) are `key:<id>`. */
export const API_KEY_IDENTITY_PREFIX = 'key:';

const API_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A parsed subject. Identities are canonical strings, compared exactly. */
export type GrantSubject =
  | { readonly kind: 'identity'; readonly identity: string }
  /** `spiffe://td/ns/a/*`, stored as the prefix `spiffe://td/ns/a/`. */
  | { readonly kind: 'below'; readonly prefix: string }
  | { readonly kind: 'group'; readonly name: string };

/** The result of parsing a subject: the subject, or why it was refused. */
export type GrantSubjectParse =
  | { readonly ok: true; readonly subject: GrantSubject }
  | { readonly ok: false; readonly reason: string };

/**
 * The identity string of an API key: `key:<id>`.
 * @returns `undefined` when `id` is not 1–128 characters of `[A-Za-z0-9._-]` starting with a
 *   letter or digit.
 */
export function apiKeyIdentity(id: string): string | undefined {
  return API_KEY_ID.test(id) ? `${API_KEY_IDENTITY_PREFIX}${id}` : undefined;
}

/** True when `name` may name a group (it can then never be mistaken for an identity). */
export function isGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

/**
 * Parses what a grant's `to` (or a group member) names, by its form:
 * `spiffe://…` is a SPIFFE ID, or with a final `/*` every ID strictly below it; `key:<id>` is
 * an API-key identity; anything else must be a group name (checked by the caller, who knows
 * the groups). SPIFFE IDs must be in `trustDomain`: no other trust domain can ever log in, so
 * such an entry could only be a typo.
 */
export function parseGrantSubject(text: string, trustDomain: string): GrantSubjectParse {
  if (text.startsWith('spiffe://')) return parseSpiffeSubject(text, trustDomain);
  if (text.startsWith(API_KEY_IDENTITY_PREFIX)) {
    const identity = apiKeyIdentity(text.slice(API_KEY_IDENTITY_PREFIX.length));
    return identity === undefined
      ? refused('API key identities are "key:<id>", the id 1-128 characters of A-Z a-z 0-9 . _ -')
      : { ok: true, subject: { kind: 'identity', identity } };
  }
  if (isGroupName(text)) return { ok: true, subject: { kind: 'group', name: text } };
  return refused(
    'expected a group name, a spiffe:// ID, a spiffe:// pattern ending in "/*" or key:<id>',
  );
}

function parseSpiffeSubject(text: string, trustDomain: string): GrantSubjectParse {
  const below = text.endsWith('/*');
  const base = below ? text.slice(0, -2) : text;
  if (base.includes('*')) {
    return refused('"*" is only allowed as the whole last segment of a SPIFFE ID pattern ("/*")');
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(base);
  } catch (err) {
    if (isHallmarkError(err)) return refused(`invalid SPIFFE ID: ${err.message}`);
    throw err;
  }
  if (id.trustDomain !== trustDomain) {
    return refused(
      `trust domain "${id.trustDomain}" is not this server's trust domain "${trustDomain}"`,
    );
  }
  if (below) return { ok: true, subject: { kind: 'below', prefix: `${id.toString()}/` } };
  if (id.path === '') {
    return refused('names the trust domain itself, which no workload holds (use "/*" for all)');
  }
  return { ok: true, subject: { kind: 'identity', identity: id.toString() } };
}

function refused(reason: string): GrantSubjectParse {
  return { ok: false, reason };
}
