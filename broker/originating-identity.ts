// X-Broker-API-Originating-Identity: the platform user behind a call, decoded for the audit log only.
import { HallmarkError } from '../src/errors/index.js';
import { isPlainObject } from './secrets-parameter.js';

/** The decoded header. Never used for authorization: the platform, not its user, is authenticated. */
export interface OriginatingIdentity {
  /** `cloudfoundry`, `kubernetes`, or another platform's name. */
  readonly platform: string;
  /** The decoded JSON object. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The audit actor, e.g. `osb:cloudfoundry:user_id=683ea748-…`. */
  readonly actor: string;
}

/** Audit actor of an authenticated platform call that names no user (e.g. catalog refresh). */
export const PLATFORM_ACTOR = 'osb:platform';

// @see OSB 2.17 "Originating Identity": `Platform value`, Platform a non-empty string, value a
// Base64-encoded serialized JSON object. Platform names are kept to token characters.
const HEADER = /^([A-Za-z0-9._-]{1,64})[ \t]+([A-Za-z0-9+/]+={0,2})$/;
const MAX_HEADER_CHARS = 8_192;
const MAX_ACTOR_CHARS = 512;

/**
 * Parses the header (absent → `undefined`).
 * @throws HallmarkError `ERR_BROKER_ORIGINATING_IDENTITY_INVALID`, the reason in `detail`.
 */
export function parseOriginatingIdentity(
  header: string | string[] | undefined,
): OriginatingIdentity | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw malformed('header sent more than once');
  const value = header.trim();
  const match = value.length > MAX_HEADER_CHARS ? null : HEADER.exec(value);
  if (match === null) throw malformed('not "<platform> <base64>"');
  const platform = match[1] as string;
  const encoded = match[2] as string;
  const bytes = Buffer.from(encoded, 'base64');
  // Node's decoder skips what it cannot read; re-encoding shows whether anything was skipped.
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw malformed('value is not Base64');
  }
  let properties: unknown;
  try {
    properties = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed('value is not UTF-8 JSON');
  }
  if (!isPlainObject(properties)) throw malformed('value is not a JSON object');
  return { platform, properties, actor: actorOf(platform, properties) };
}

/**
 * The audit actor. The OSB profile defines the properties of two platforms; any other
 * platform's scalar properties are listed in key order.
 * @see OSB 2.17 profile "Cloud Foundry Originating Identity Header" (`user_id` MUST appear),
 * "Kubernetes Originating Identity Header" (`username`, `uid`, `groups`, `extra`).
 */
function actorOf(platform: string, properties: Record<string, unknown>): string {
  const parts: string[] = [];
  if (platform === 'cloudfoundry') {
    const userId = properties['user_id'];
    if (typeof userId !== 'string' || userId === '')
      throw malformed('cloudfoundry: user_id missing');
    parts.push(`user_id=${escape(userId)}`);
  } else if (platform === 'kubernetes') {
    const { username, uid, groups, extra } = properties;
    if (typeof username !== 'string' || username === '')
      throw malformed('kubernetes: username missing');
    if (uid !== undefined && typeof uid !== 'string')
      throw malformed('kubernetes: uid not a string');
    if (groups !== undefined && !isStringList(groups))
      throw malformed('kubernetes: groups not strings');
    if (
      extra !== undefined &&
      !(isPlainObject(extra) && Object.values(extra).every(isStringList))
    ) {
      throw malformed('kubernetes: extra not a map of string lists');
    }
    parts.push(`username=${escape(username)}`);
    if (typeof uid === 'string' && uid !== '') parts.push(`uid=${escape(uid)}`);
    if (isStringList(groups) && groups.length > 0)
      parts.push(`groups=${groups.map(escape).join('|')}`);
  } else {
    for (const key of Object.keys(properties).sort()) {
      const v = properties[key];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        parts.push(`${escape(key)}=${escape(String(v))}`);
      }
    }
  }
  const actor = parts.length === 0 ? `osb:${platform}` : `osb:${platform}:${parts.join(',')}`;
  return actor.length > MAX_ACTOR_CHARS ? `${actor.slice(0, MAX_ACTOR_CHARS - 1)}…` : actor;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Percent-encodes the delimiters (`,` `=` `|` `%`), anything outside printable ASCII and
 * spaces, so a user name cannot forge another field; `:`, `@` and `/` stay readable
 * (`system:serviceaccount:ns:sa`, e-mail addresses).
 */
function escape(text: string): string {
  return text.replace(/[^A-Za-z0-9._~@:/+-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

function malformed(detail: string): HallmarkError {
  return new HallmarkError('ERR_BROKER_ORIGINATING_IDENTITY_INVALID', {
    message:
      'X-Broker-API-Originating-Identity must be "<platform> <base64 of a JSON object>" with the platform\'s required properties',
    detail,
  });
}
