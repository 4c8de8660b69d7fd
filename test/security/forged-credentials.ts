// Forged credentials for the corpus: access tokens re-signed, unsigned or tampered; rogue SVIDs.
import {
  createHmac,
  generateKeyPairSync,
  type KeyObject,
  type KeyPairKeyObjectResult,
} from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { systemClock } from '../../src/clock/index.js';
import { signCompactJws } from '../../src/keyring/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildSelfSignedCa,
  generateKeyPair,
  issueX509Svid,
} from '../../src/x509/index.js';
import type { SecurityStack } from './security-stack.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The header and claims of a real token, to start a forgery from. */
export function partsOf(token: string): { header: Record<string, unknown>; claims: JWTPayload } {
  return { header: { ...decodeProtectedHeader(token) }, claims: { ...decodeJwt(token) } };
}

/**
 * `token` with its claims edited and re-signed by `key` (default: the server's own active
 * signing key, so only the edited claim can be what gets the token refused).
 */
export async function resigned(
  fx: SecurityStack,
  token: string,
  edit: { claims?: JWTPayload; header?: Record<string, unknown>; key?: KeyObject; drop?: string[] },
): Promise<string> {
  const active = fx.stack.server.authn.keyring.signingKey();
  const { header, claims } = partsOf(token);
  const payload: JWTPayload = { ...claims, ...edit.claims };
  for (const name of edit.drop ?? []) delete payload[name];
  const protectedHeader = { ...header, kid: active.kid, ...edit.header, alg: 'ES256' as const };
  if (edit.key !== undefined) {
    return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(edit.key);
  }
  // The server's own key signs through its signer (it may be in a PKCS#11 token).
  return signCompactJws(active.signer, protectedHeader, JSON.stringify(payload));
}

/** `token` with claims edited but the original signature kept. */
export function tampered(token: string, claims: JWTPayload): string {
  const [header, payload, signature] = token.split('.');
  const edited = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ...claims };
  return `${header}.${b64(edited)}.${signature}`;
}

/** `alg: none` over `token`'s claims, with an empty (or a made-up) signature segment. */
export function unsigned(token: string, signature = ''): string {
  const { header, claims } = partsOf(token);
  return `${b64({ ...header, alg: 'none' })}.${b64(claims)}.${signature}`;
}

/**
 * The classic algorithm-confusion forgery: HS256 keyed with the server's *public* key (its
 * SPKI PEM or its JWK text), which a verifier trusting the header's `alg` would accept.
 */
export function hmacWithPublicKey(fx: SecurityStack, token: string, form: 'pem' | 'jwk'): string {
  const active = fx.stack.server.authn.keyring.signingKey();
  const { header, claims } = partsOf(token);
  // Only the public half: that is all an attacker has.
  const publicKey = active.signer.publicKey;
  const secret =
    form === 'pem'
      ? publicKey.export({ format: 'pem', type: 'spki' }).toString()
      : JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: active.kid });
  const signingInput = `${b64({ ...header, alg: 'HS256' })}.${b64(claims)}`;
  const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${mac}`;
}

let attackerRsa: KeyPairKeyObjectResult | undefined;
/** An attacker's RSA-2048 key pair (for RS256 forgeries), made on first use (it is slow). */
export function attackerRsaKey(): KeyPairKeyObjectResult {
  attackerRsa ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
  return attackerRsa;
}
/** An attacker's P-256 key pair (for ES256 forgeries under the server's kid). */
export const ATTACKER_EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/**
 * An X509-SVID for `spiffeId` from a root the attacker made for the same trust domain: right
 * shape, right SPIFFE ID, wrong issuer.
 */
export async function rogueSvid(spiffeId: string): Promise<{ cert: string; key: string }> {
  const rootKeys = generateKeyPair('ec-p256');
  const root = await buildSelfSignedCa({
    trustDomain: 'hallmark.local',
    keyPair: rootKeys,
    ttlSeconds: 86_400,
    clock: systemClock,
  });
  const leafKeys = generateKeyPair('ec-p256');
  const svid = await issueX509Svid({
    csrPem: buildCsr(leafKeys),
    spiffeId: parseSpiffeId(spiffeId),
    ttlSeconds: 3600,
    authority: { certificatePem: root, privateKey: rootKeys.privateKey, chainPem: [] },
    clock: systemClock,
  });
  return {
    cert: svid.chainPem.join(''),
    key: leafKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
