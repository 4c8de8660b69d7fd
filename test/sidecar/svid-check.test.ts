import { describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { checkIssuedSvid } from '../../sidecar/index.js';
import type { IssuedSvid } from '../../sidecar/index.js';
import { createTestPki, issueTestSvid } from './test-pki.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

const clock = new ManualClock(Date.now());
const pki = await createTestPki(clock);
const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const keyPair = generateKeyPair('ec-p256');
const issued = await issueTestSvid(pki, buildCsr(keyPair), ID, 600, clock);
const answer: IssuedSvid = {
  spiffeId: ID,
  chainPem: issued.chainPem,
  expiresAt: issued.notAfter.getTime(),
  bundlePem: pki.bundlePem,
};

describe('checkIssuedSvid', () => {
  it('accepts the SVID for our key and returns its expiry', () => {
    expect(checkIssuedSvid(answer, keyPair.publicKey, clock.now())).toBe(issued.notAfter.getTime());
  });

  it('uses the earlier of notAfter and expires_at', () => {
    const early = answer.expiresAt - 60_000;
    expect(checkIssuedSvid({ ...answer, expiresAt: early }, keyPair.publicKey, clock.now())).toBe(
      early,
    );
  });

  it.each([
    [
      'another key',
      () => checkIssuedSvid(answer, generateKeyPair('ec-p256').publicKey, clock.now()),
    ],
    [
      'another SPIFFE ID',
      () => checkIssuedSvid({ ...answer, spiffeId: `${ID}x` }, keyPair.publicKey, clock.now()),
    ],
    [
      'another trust bundle',
      async () =>
        checkIssuedSvid(
          { ...answer, bundlePem: (await createTestPki(clock)).bundlePem },
          keyPair.publicKey,
          clock.now(),
        ),
    ],
    [
      'an expired certificate',
      () => checkIssuedSvid(answer, keyPair.publicKey, answer.expiresAt + 1000),
    ],
    [
      'expires_at in the past',
      () =>
        checkIssuedSvid({ ...answer, expiresAt: clock.now() - 1 }, keyPair.publicKey, clock.now()),
    ],
    [
      'garbage',
      () =>
        checkIssuedSvid(
          { ...answer, chainPem: 'not a certificate' },
          keyPair.publicKey,
          clock.now(),
        ),
    ],
  ])('rejects %s', async (_what, run) => {
    // An async function turns a synchronous throw into a rejection, so every case is awaited.
    expect(await codeOf((async () => run())())).toBe('ERR_SIDECAR_BAD_RESPONSE');
  });
});
