// JWS signed through key signers: the bytes jose would write, verified by jose, in process or in a token.
import { generateKeyPairSync } from 'node:crypto';
import { CompactSign, SignJWT, compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenKeys, TokenPin, TokenSessionPool } from '../../src/hsm/index.js';
import type { HsmKeyType, TokenSigner } from '../../src/hsm/index.js';
import { localSigner, signCompactJws, type SignerJwsAlgorithm } from '../../src/keyring/index.js';
import { describeWithSoftHsm } from '../hsm/describe-with-softhsm.js';
import { USER_PIN, createSoftHsmToken, type SoftHsmToken } from '../hsm/softhsm.js';

const KEYS = {
  'P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  'P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  'P-521': generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};

describe('signCompactJws with a key in this process', () => {
  it.each<[SignerJwsAlgorithm, keyof typeof KEYS]>([
    ['ES256', 'P-256'],
    ['ES384', 'P-384'],
    ['ES512', 'P-521'],
    ['RS256', 'RSA'],
    ['RS512', 'RSA'],
    ['PS256', 'RSA'],
    ['PS384', 'RSA'],
  ])('%s: header and payload are the bytes jose writes, and jose verifies it', async (alg, key) => {
    const privateKey = KEYS[key];
    const signer = localSigner(privateKey);
    const header = { alg, kid: 'k-1', typ: 'JWT' };
    const claims = {
      aud: ['db', 'é ✓'],
      sub: 'spiffe://example.org/ns/a/sa/b',
      iat: 1,
      exp: 4102444800,
    };
    const ours = await signCompactJws(signer, header, JSON.stringify(claims));
    const theirs = await new SignJWT({ aud: claims.aud })
      .setProtectedHeader(header)
      .setSubject(claims.sub)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(privateKey);
    // ECDSA and PSS signatures are randomised: the signing input is what must be identical.
    expect(ours.split('.').slice(0, 2)).toEqual(theirs.split('.').slice(0, 2));
    const { payload } = await jwtVerify(ours, signer.publicKey, { algorithms: [alg] });
    expect(payload).toEqual(claims);
  });

  it('signs a raw payload as jose CompactSign does', async () => {
    const signer = localSigner(KEYS['P-256']);
    const payload = new Uint8Array([0, 1, 2, 250, 255]);
    const ours = await signCompactJws(signer, { alg: 'ES256' }, payload);
    const theirs = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256' })
      .sign(KEYS['P-256']);
    expect(ours.split('.').slice(0, 2)).toEqual(theirs.split('.').slice(0, 2));
    expect((await compactVerify(ours, signer.publicKey)).payload).toEqual(payload);
  });

  it('refuses an algorithm of another curve or family', async () => {
    await expect(signCompactJws(localSigner(KEYS['P-256']), { alg: 'ES384' }, 'x')).rejects.toThrow(
      TypeError,
    );
    await expect(signCompactJws(localSigner(KEYS.RSA), { alg: 'ES256' }, 'x')).rejects.toThrow(
      TypeError,
    );
    await expect(signCompactJws(localSigner(KEYS['P-384']), { alg: 'RS256' }, 'x')).rejects.toThrow(
      TypeError,
    );
  });
});

describeWithSoftHsm('compact JWS signed in a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let pool: TokenSessionPool;
  const signers = new Map<HsmKeyType, TokenSigner>();

  beforeAll(async () => {
    token = await createSoftHsmToken();
    pool = await TokenSessionPool.open({
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: new TokenPin(USER_PIN),
    });
    const keys = new TokenKeys(pool);
    for (const type of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
      signers.set(type, await keys.generate({ kind: 'jwt-authority', id: type }, type));
    }
  });

  afterAll(async () => {
    await pool?.close();
    await token?.remove();
  });

  it.each<[SignerJwsAlgorithm, HsmKeyType]>([
    ['ES256', 'ec-p256'],
    ['ES384', 'ec-p384'],
    ['RS256', 'rsa-2048'],
    ['PS256', 'rsa-2048'],
    ['PS512', 'rsa-2048'],
  ])('%s with a %s key verifies with jose', async (alg, type) => {
    const signer = signers.get(type) as TokenSigner;
    const claims = { sub: 'spiffe://example.org/ns/a/sa/b', aud: ['db'], exp: 4102444800 };
    const jwt = await signCompactJws(
      signer,
      { alg, kid: type, typ: 'JWT' },
      JSON.stringify(claims),
    );
    expect(decodeProtectedHeader(jwt)).toEqual({ alg, kid: type, typ: 'JWT' });
    const { payload, protectedHeader } = await jwtVerify(jwt, signer.publicKey, {
      algorithms: [alg],
      audience: 'db',
    });
    expect(payload).toEqual(claims);
    expect(protectedHeader.alg).toBe(alg);

    // A changed payload does not verify.
    const [header, , signature] = jwt.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'x' })).toString('base64url')}.${signature}`;
    await expect(compactVerify(forged, signer.publicKey)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('refuses an algorithm the key cannot produce, and unencoded payloads', async () => {
    const p256 = signers.get('ec-p256') as TokenSigner;
    await expect(signCompactJws(p256, { alg: 'ES384' }, 'x')).rejects.toThrow(TypeError);
    await expect(signCompactJws(p256, { alg: 'RS256' }, 'x')).rejects.toThrow(TypeError);
    await expect(
      signCompactJws(p256, { alg: 'ES256', b64: false, crit: ['b64'] }, 'x'),
    ).rejects.toThrow(TypeError);
  });
});
