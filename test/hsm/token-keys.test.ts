// Keys generated in a real SoftHSM2 token: protected, found again by CKA_ID, signing, destroyed.
import { createPublicKey, verify, constants as cryptoConstants } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  HsmUnavailableError,
  TokenKeys,
  TokenPin,
  TokenSessionPool,
  keyLabel,
  keyObjectId,
} from '../../src/hsm/index.js';
import type { HsmKeyType, TokenKeyRef } from '../../src/hsm/index.js';
import { CKA, CKO, CKR } from '../../src/hsm/pkcs11-constants.js';
import { describeWithSoftHsm } from './describe-with-softhsm.js';
import { USER_PIN, createSoftHsmToken, type SoftHsmToken } from './softhsm.js';
import { find, readFailure, witness } from './token-witness.js';

const data = Buffer.from('tbsCertificate bytes stand-in: what a CA signs');

describeWithSoftHsm('keys in a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let pool: TokenSessionPool;
  let keys: TokenKeys;

  beforeEach(async () => {
    token = await createSoftHsmToken();
    pool = await TokenSessionPool.open({
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: new TokenPin(USER_PIN),
    });
    keys = new TokenKeys(pool);
  });

  afterEach(async () => {
    await pool.close();
    await token.remove();
  });

  it.each<[HsmKeyType, string]>([
    ['ec-p256', 'sha256'],
    ['ec-p384', 'sha384'],
    ['rsa-2048', 'sha256'],
    ['rsa-3072', 'sha256'],
  ])(
    'generates %s inside the token: private key sensitive, never extractable, unreadable',
    async (type, hash) => {
      const ref: TokenKeyRef = { kind: 'ca', id: `k-${type}` };
      const signer = await keys.generate(ref, type);
      const seen = await witness(token, (api, session) => {
        const [privateKey, ...more] = find(api, session, [
          { type: CKA.CLASS, value: CKO.PRIVATE_KEY },
          { type: CKA.ID, value: keyObjectId(ref) },
        ]);
        expect(more).toEqual([]);
        const attrs = api.C_GetAttributeValue(session, privateKey!, [
          { type: CKA.TOKEN },
          { type: CKA.PRIVATE },
          { type: CKA.SENSITIVE },
          { type: CKA.EXTRACTABLE },
          { type: CKA.ALWAYS_SENSITIVE },
          { type: CKA.NEVER_EXTRACTABLE },
          { type: CKA.SIGN },
          { type: CKA.DECRYPT },
          { type: CKA.LABEL },
        ]);
        const secret = type.startsWith('ec') ? CKA.VALUE : CKA.PRIVATE_EXPONENT;
        return {
          flags: attrs.slice(0, 8).map((a) => a.value[0] === 1),
          label: attrs[8]!.value.toString(),
          secretRead: readFailure(api, session, privateKey!, secret),
        };
      });
      // TOKEN, PRIVATE, SENSITIVE, EXTRACTABLE, ALWAYS_SENSITIVE, NEVER_EXTRACTABLE, SIGN, DECRYPT
      expect(seen.flags).toEqual([true, true, true, false, true, true, true, false]);
      expect(seen.label).toBe(keyLabel(ref));
      expect(seen.secretRead).toBe(CKR.ATTRIBUTE_SENSITIVE);

      // The signature verifies against the public key read back from the token.
      const signature = await signer.sign(data);
      expect(verify(hash, data, signer.publicKey, signature)).toBe(true);
      expect(verify(hash, Buffer.from('other data'), signer.publicKey, signature)).toBe(false);
    },
  );

  it('signs ECDSA as DER for X.509 or as r‖s for JOSE, and RSA with PKCS#1 v1.5 or PSS', async () => {
    const p256 = await keys.generate({ kind: 'jwt-authority', id: 'p256' }, 'ec-p256');
    const der = await p256.sign(data, { format: 'der' });
    expect(der[0]).toBe(0x30);
    expect(verify('sha256', data, p256.publicKey, der)).toBe(true);
    const raw = await p256.sign(data, { format: 'ieee-p1363' });
    expect(raw).toHaveLength(64);
    expect(verify('sha256', data, { key: p256.publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(
      true,
    );

    const rsa = await keys.generate({ kind: 'access-token', id: 'rsa' }, 'rsa-2048');
    const pss = await rsa.sign(data, { padding: 'pss', hash: 'sha384' });
    const pssKey = {
      key: rsa.publicKey,
      padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
      saltLength: 48,
    };
    expect(verify('sha384', data, pssKey, pss)).toBe(true);
    expect(verify('sha384', data, rsa.publicKey, pss)).toBe(false); // not PKCS#1 v1.5
    const pkcs1 = await rsa.sign(data, { hash: 'sha512' });
    expect(verify('sha512', data, rsa.publicKey, pkcs1)).toBe(true);
  });

  it('finds a key again by kind and key id after a restart, and not under another kind', async () => {
    const ref: TokenKeyRef = { kind: 'ca', id: 'again' };
    const generated = await keys.generate(ref, 'ec-p384');
    await pool.close();
    pool = await TokenSessionPool.open({
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: new TokenPin(USER_PIN),
    });
    keys = new TokenKeys(pool);
    const found = await keys.signer(ref);
    expect(found.keyType).toBe('ec-p384');
    const spki = (k: typeof found.publicKey) => k.export({ type: 'spki', format: 'der' });
    expect(spki(found.publicKey)).toEqual(spki(generated.publicKey));
    expect(verify('sha384', data, generated.publicKey, await found.sign(data))).toBe(true);

    const other = keys.signer({ kind: 'jwt-authority', id: 'again' });
    await expect(other).rejects.toMatchObject({
      code: 'ERR_CA_UNAVAILABLE',
      reason: 'key-missing',
    });
  });

  it('refuses to generate over an existing key id', async () => {
    const ref: TokenKeyRef = { kind: 'ca', id: 'once' };
    await keys.generate(ref, 'ec-p256');
    await expect(keys.generate(ref, 'ec-p256')).rejects.toThrow(/already holds/);
    expect((await keys.list()).filter((o) => o.id.equals(keyObjectId(ref)))).toHaveLength(2);
  });

  it('destroys both objects of a retired key; signing with it then fails closed', async () => {
    const ref: TokenKeyRef = { kind: 'access-token', id: 'retired' };
    const keep: TokenKeyRef = { kind: 'access-token', id: 'kept' };
    const signer = await keys.generate(ref, 'ec-p256');
    const kept = await keys.generate(keep, 'ec-p256');
    await signer.sign(data); // caches the handle that destroy must invalidate
    expect(await keys.destroy(ref)).toBe(true);
    expect(await keys.destroy(ref)).toBe(false);
    const left = await witness(token, (api, session) =>
      find(api, session, [{ type: CKA.ID, value: keyObjectId(ref) }]),
    );
    expect(left).toEqual([]);
    const failure = await signer.sign(data).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(HsmUnavailableError);
    expect(failure).toMatchObject({ code: 'ERR_CA_UNAVAILABLE', reason: 'key-missing' });
    expect(verify('sha256', data, kept.publicKey, await kept.sign(data))).toBe(true);
  });

  it('lists the key objects with their protection attributes', async () => {
    await keys.generate({ kind: 'ca', id: 'listed' }, 'ec-p256');
    const objects = await keys.list();
    expect(objects.map((o) => [o.class, o.keyType, o.label]).sort()).toEqual([
      ['private', 'ec', 'hallmark:ca:listed'],
      ['public', 'ec', 'hallmark:ca:listed'],
    ]);
    const privateKey = objects.find((o) => o.class === 'private');
    expect(privateKey).toMatchObject({
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      alwaysSensitive: true,
      neverExtractable: true,
      sign: true,
    });
    expect(objects.find((o) => o.class === 'public')).toMatchObject({
      token: true,
      private: false,
    });
  });

  it('exports public keys node:crypto, X.509 and JWKS can use', async () => {
    const signer = await keys.generate({ kind: 'jwt-authority', id: 'jwk' }, 'ec-p256');
    const jwk = signer.publicKey.export({ format: 'jwk' });
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    const again = createPublicKey({ key: jwk, format: 'jwk' });
    expect(verify('sha256', data, again, await signer.sign(data))).toBe(true);
  });
});
