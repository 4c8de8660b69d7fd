// Instance parameters `{"secrets": {"<name>": "<value>"}}`: published schema and the check that enforces it.
import { HallmarkError } from '../src/errors/index.js';

/**
 * A secret name is one secret-path segment that starts with a letter or digit (so never `.`
 * or `..`), at most 128 characters: `osb/<instance>/<name>` then stays a valid path, far
 * below the 512-byte limit. Written without look-arounds so every platform's JSON-schema
 * engine (draft-04 regexes are ECMA 262, many engines are not) can evaluate it.
 */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const SECRET_NAME = new RegExp(SECRET_NAME_PATTERN);

/** Most secrets one provision or update may carry. */
export const MAX_SECRETS_PER_REQUEST = 100;

/** Longest value in characters the schema admits; the byte limit is checked separately. */
export const MAX_SECRET_VALUE_CHARS = 65_536;

/**
 * JSON schema of provision and update parameters, published in the plan.
 * @see OSB 2.17 "Input Parameters Schema Object": `$schema` MUST be present, no external
 * references, at most 64 kB.
 */
export const SECRETS_PARAMETERS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  properties: {
    secrets: {
      description:
        'Secrets to store in the instance scope osb/<instance_id>/, by name. Names are 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit; values are UTF-8 strings. An update writes a new version of each secret it names and leaves the others as they are.',
      type: 'object',
      maxProperties: MAX_SECRETS_PER_REQUEST,
      patternProperties: {
        [SECRET_NAME_PATTERN]: { type: 'string', maxLength: MAX_SECRET_VALUE_CHARS },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

// An unpaired surrogate has no UTF-8 encoding; in a `u` regex a valid pair is one code point,
// so `\p{Cs}` matches only the unpaired ones.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Reads the `secrets` of instance parameters, enforcing {@link SECRETS_PARAMETERS_SCHEMA} and
 * the secret store's value rules up front, so a provision or update is refused (400) before
 * anything is written. Messages name the offending secret, never a value.
 *
 * @param parameters the request's `parameters` (absent: no secrets)
 * @param maxValueBytes the secret store's value limit in UTF-8 bytes
 * @returns name → value, in the order sent
 * @throws HallmarkError `ERR_BROKER_REQUEST_INVALID`
 */
export function readSecretsParameter(
  parameters: unknown,
  maxValueBytes: number,
): ReadonlyMap<string, string> {
  const secrets = new Map<string, string>();
  if (parameters === undefined) return secrets;
  if (!isPlainObject(parameters)) throw invalid('parameters must be an object');
  for (const key of Object.keys(parameters)) {
    if (key !== 'secrets')
      throw invalid(`parameters.${quoted(key)} is not a parameter of this plan`);
  }
  const raw = parameters['secrets'];
  if (raw === undefined) return secrets;
  if (!isPlainObject(raw)) throw invalid('parameters.secrets must be an object of name: value');
  const names = Object.keys(raw);
  if (names.length > MAX_SECRETS_PER_REQUEST) {
    throw invalid(`parameters.secrets may hold at most ${MAX_SECRETS_PER_REQUEST} secrets`);
  }
  for (const name of names) {
    const where = `parameters.secrets.${quoted(name)}`;
    if (!SECRET_NAME.test(name)) {
      throw invalid(
        `${where}: names are 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
      );
    }
    const value = raw[name];
    if (typeof value !== 'string') throw invalid(`${where} must be a string`);
    if (LONE_SURROGATE.test(value)) throw invalid(`${where} is not well-formed Unicode`);
    if (value.length > MAX_SECRET_VALUE_CHARS || Buffer.byteLength(value, 'utf8') > maxValueBytes) {
      throw invalid(`${where} is longer than ${maxValueBytes} bytes`);
    }
    secrets.set(name, value);
  }
  return secrets;
}

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A caller-supplied name as it appears in a message: JSON-quoted when odd, bounded. */
export function quoted(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return SECRET_NAME.test(name) ? shown : JSON.stringify(shown);
}

function invalid(message: string): HallmarkError {
  return new HallmarkError('ERR_BROKER_REQUEST_INVALID', { message });
}
