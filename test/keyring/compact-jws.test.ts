// JWS signed by token keys, checked by jose's verifiers exactly as issued tokens are.
import { compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenKeys, TokenPin, TokenSessionPool, signCompactJws } from '../../src/hsm/index.js';
import type { HsmKeyType, TokenJwsAlgorithm, TokenSigner } from '../../src/hsm/index.js';
import { describeWithSoftHsm } from './describe-with-softhsm.js';
import { USER_PIN, createSoftHsmToken, type SoftHsmToken } from './softhsm.js';

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
      signers.set(type, await keys.generate({ kind: 'jwt-authority', kid: type }, type));
    }
  });

  afterAll(async () => {
    await pool?.close();
    await token?.remove();
  });

  it.each<[TokenJwsAlgorithm, HsmKeyType]>([
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
