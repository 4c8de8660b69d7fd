// Which environment variable gets which secret: `--secret NAME=path` flags and a secrets.yml file.
import { isMap, isScalar, parseDocument } from 'yaml';
import { secretPathReason } from '../secrets/index.js';
import { UsageError } from './command.js';

/** Environment variable names `hallmark exec` sets: POSIX portable names (IEEE 1003.1 §8.1). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Largest secrets file read, in bytes: a mapping of names to paths is tiny. */
export const MAX_SECRETS_FILE_BYTES = 65_536;

/** Environment variable name → secret path, in the order given. */
export type SecretMap = ReadonlyMap<string, string>;

function checkEntry(name: string, path: string, where: string): void {
  if (!ENV_NAME.test(name)) {
    throw new UsageError(`${where}: "${name}" is not a valid environment variable name`);
  }
  const reason = secretPathReason(path);
  if (reason !== undefined) {
    throw new UsageError(
      `${where}: ${name}: invalid secret path ${JSON.stringify(path)}: ${reason}`,
    );
  }
}

function add(map: Map<string, string>, name: string, path: string, where: string): void {
  checkEntry(name, path, where);
  if (map.has(name)) throw new UsageError(`${where}: ${name} is requested more than once`);
  map.set(name, path);
}

/** Parses `--secret NAME=path` values. @throws UsageError naming the bad entry. */
export function parseSecretFlags(
  specs: readonly string[],
  into = new Map<string, string>(),
): Map<string, string> {
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--secret ${JSON.stringify(spec)}: expected NAME=path`);
    add(into, spec.slice(0, eq), spec.slice(eq + 1), '--secret');
  }
  return into;
}

/**
 * Parses a summon-style secrets file: a YAML mapping of environment variable names to secret
 * paths (`DB_PASSWORD: payments/db-password`). summon's `!var` tag is accepted and means the
 * same; its other tags (`!file`, `!str`, ...) and literal values are not, because every value
 * here is a path fetched from Hallmark. Aliases are refused: a value must be a plain scalar.
 *
 * @throws UsageError naming the file and the problem.
 */
export function parseSecretsFile(
  text: string,
  file: string,
  into = new Map<string, string>(),
): Map<string, string> {
  if (Buffer.byteLength(text, 'utf8') > MAX_SECRETS_FILE_BYTES) {
    throw new UsageError(`${file}: larger than ${MAX_SECRETS_FILE_BYTES} bytes`);
  }
  const doc = parseDocument(text, {
    uniqueKeys: true,
    customTags: [{ tag: '!var', resolve: (value: string) => value }],
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) throw new UsageError(`${file}: ${problem.message.split('\n')[0]}`);
  if (doc.contents === null) return into;
  if (!isMap(doc.contents)) throw new UsageError(`${file}: expected a mapping of NAME: path`);
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
      throw new UsageError(`${file}: every key must be an environment variable name`);
    }
    const name = pair.key.value;
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string') {
      throw new UsageError(`${file}: ${name}: the value must be a secret path`);
    }
    if (pair.value.tag !== undefined && pair.value.tag !== '!var') {
      throw new UsageError(`${file}: ${name}: tag ${pair.value.tag} is not supported (only !var)`);
    }
    add(into, name, pair.value.value, file);
  }
  return into;
}

/** The distinct paths of a map, in first-use order (the batch refuses duplicates). */
export function distinctPaths(map: SecretMap): string[] {
  return [...new Set(map.values())];
}

/** The variable names that take their value from `path`. */
export function namesFor(map: SecretMap, path: string): string[] {
  return [...map].filter(([, p]) => p === path).map(([name]) => name);
}
