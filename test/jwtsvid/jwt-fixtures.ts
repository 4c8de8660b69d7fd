// Test JWT authorities made with node:crypto alone, and a compact-JWS builder for forged tokens.
import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { BundleJwk } from '../../src/ca/index.js';
import type { ActiveJwtAuthority, JwtSvidAlgorithm } from '../../src/jwtsvid/index.js';
import { localSigner } from '../../src/keyring/index.js';

/** A key pair with its bundle entry, independent of src/jwtsvid's key code. */
export interface TestAuthority extends ActiveJwtAuthority {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly bundleJwk: BundleJwk;
}

const CURVES = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as const;
const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;

/** A fresh authority for `alg` (RSA 2048 for every RS/PS size: key size is not under test). */
export function testAuthority(alg: JwtSvidAlgorithm = 'ES256', kid?: string): TestAuthority {
  const { publicKey, privateKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: CURVES[alg as keyof typeof CURVES] })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const id = kid ?? createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
  const bundleJwk: BundleJwk =
    jwk.kty === 'EC'
      ? { kty: 'EC', use: 'jwt-svid', kid: id, crv: jwk.crv, x: jwk.x, y: jwk.y }
      : { kty: 'RSA', use: 'jwt-svid', kid: id, n: jwk.n, e: jwk.e };
  return { kid: id, alg, privateKey, signer: localSigner(privateKey), publicKey, bundleJwk };
}

/** A stand-in keyring: signs with `active`, publishes every authority in `published`. */
export class MemoryAuthorities {
  published: BundleJwk[];
  constructor(public active: TestAuthority) {
    this.published = [active.bundleJwk];
  }
  signingAuthority(): ActiveJwtAuthority {
    return this.active;
  }
  bundleJwks(): BundleJwk[] {
    return this.published.map((jwk) => ({ ...jwk }));
  }
}

function part(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/**
 * A compact JWS over any header and payload, signed by `authority` with the header's `alg`
 * (ES/RS/PS), or with `signature` given as is — for tokens no honest library would make.
 */
export function forgeToken(
  header: Record<string, unknown>,
  payload: unknown,
  signer: { authority: TestAuthority } | { signature: string },
): string {
  const input = `${part(header)}.${part(payload)}`;
  if ('signature' in signer) return `${input}.${signer.signature}`;
  const alg = String(header.alg);
  const hash = HASHES[Number(alg.slice(2)) as keyof typeof HASHES];
  const key = signer.authority.privateKey;
  const signature = alg.startsWith('ES')
    ? sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : alg.startsWith('PS')
      ? sign(hash, Buffer.from(input), {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: Number(alg.slice(2)) / 8,
        })
      : sign(hash, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}
