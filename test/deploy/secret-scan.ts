// Secret scanning: anything in a committed file that looks like a real credential.
import type { V1Container } from '@kubernetes/client-node';

interface SecretPattern {
  readonly name: string;
  readonly pattern: RegExp;
  /** Matches that are documentation, not credentials (placeholders in angle brackets, ...). */
  readonly allow?: (match: RegExpExecArray) => boolean;
}

/** `<password>`, `${PASSWORD}`, `$(PASSWORD)`: what documentation writes instead of a value. */
function isPlaceholder(text: string): boolean {
  return /^(<[^<>]+>|\$\{[A-Za-z_]+\}|\$\([A-Za-z_]+\)|\*+)$/.test(text);
}

/** Base64 of 30 or more random bytes has upper, lower and digits, and few `/`. */
function looksRandom(text: string): boolean {
  return (
    /[A-Z]/.test(text) &&
    /[a-z]/.test(text) &&
    /[0-9]/.test(text) &&
    !text.startsWith('/') &&
    (text.match(/\//g) ?? []).length <= 3
  );
}

const PATTERNS: readonly SecretPattern[] = [
  { name: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/g },
  {
    name: 'password in a URL',
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:([^\s@/'"]+)@/gi,
    allow: (match) => isPlaceholder(match[1] as string),
  },
  { name: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  { name: 'AWS access key id', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    name: 'base64 key material',
    pattern: /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])/g,
    allow: (match) => !looksRandom(match[0]),
  },
  {
    name: 'hex key material',
    pattern: /(?<![0-9A-Za-z:])[0-9a-fA-F]{40,}(?![0-9A-Za-z])/g,
  },
];

/** Each suspicious string in `text`, as `<kind> at line N`. Empty when clean. */
export function secretFindings(text: string): string[] {
  const findings: string[] = [];
  for (const { name, pattern, allow } of PATTERNS) {
    for (const match of text.matchAll(new RegExp(pattern.source, pattern.flags))) {
      if (allow?.(match as RegExpExecArray)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      findings.push(`${name} at line ${line}`);
    }
  }
  return findings;
}

/** Variable names whose value is a credential, so it must come from a Secret or a file. */
const SENSITIVE_NAME =
  /PASSWORD|SECRET|TOKEN|API_?KEY|MASTER_KEY|PRIVATE_KEY|CREDENTIAL|DATABASE_URL/i;

/** A name that holds where a credential is (`..._FILE`, `..._PATH`), not the credential. */
const LOCATION_NAME = /_(FILE|PATH|DIR)$/i;

/** Environment variables of `container` that carry a credential as a literal `value`. */
export function literalSecretEnv(container: V1Container): string[] {
  return (container.env ?? [])
    .filter((env) => SENSITIVE_NAME.test(env.name) && !LOCATION_NAME.test(env.name))
    .filter((env) => env.value !== undefined && env.value !== '')
    .map((env) => `container ${container.name}: ${env.name} has a literal value`);
}
