// Signing through a PKCS#11 token: P-256 in SoftHSM2 via pkcs11js, and the certificate engine
// with its CA key there, beside node:crypto's rates.
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/clock/index.js';
import {
  TokenKeys,
  TokenSessionPool,
  readTokenPin,
  type TokenSigner,
} from '../../src/hsm/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildSelfSignedCa,
  generateKeyPair,
  issueX509Svid,
  prepareAuthority,
} from '../../src/x509/index.js';
import { createSoftHsmToken, softHsm } from '../hsm/softhsm.js';
import { measureAsync } from './engine-bench.js';

/** Token signing rates, or why they could not be measured. */
export type TokenSignRates =
  | {
      readonly serial: number;
      readonly parallel: number;
      readonly sessions: number;
      /** CSR → checked SVID with the CA key in the token: 1 in flight, and 16 in flight. */
      readonly engineSerial: number;
      readonly engineParallel: number;
    }
  | { readonly skipped: string };

/**
 * P-256 signatures per second over a 200-byte input (as the raw-sign line), through the whole
 * HSM layer: digest in process, C_SignInit + C_Sign on a pool session (libuv thread), r‖s to
 * DER. `serial` waits for each signature; `parallel` keeps 16 in flight on 4 sessions. Then
 * the certificate engine as the `engine` row measures it, with the CA's key in the token.
 */
export async function measureTokenSign(durationMs: number): Promise<TokenSignRates> {
  if (!softHsm.available) return { skipped: softHsm.reason };
  const token = await createSoftHsmToken('hallmark-bench');
  const sessions = 4;
  const pool = await TokenSessionPool.open({
    modulePath: token.modulePath,
    tokenLabel: token.label,
    pin: await readTokenPin(token.pinFile),
    sessions,
  });
  try {
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'bench' }, 'ec-p256');
    const tbs = randomBytes(200);
    for (let i = 0; i < 50; i++) await signer.sign(tbs); // warm-up
    const rate = async (inFlight: number, ms: number): Promise<number> => {
      let done = 0;
      const start = performance.now();
      const worker = async (): Promise<void> => {
        while (performance.now() - start < ms) {
          await signer.sign(tbs);
          done++;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      return Math.round((done * 1000) / (performance.now() - start));
    };
    const serial = await rate(1, durationMs / 4);
    const parallel = await rate(16, durationMs / 4);
    const issue = await tokenEngine(signer);
    for (let i = 0; i < 20; i++) await issue(i); // warm-up
    const engineSerial = (await measureAsync(durationMs / 4, 1, issue)).opsPerSec;
    const engineParallel = (await measureAsync(durationMs / 4, 16, issue)).opsPerSec;
    return { serial, parallel, sessions, engineSerial, engineParallel };
  } finally {
    await pool.close();
    await token.remove();
  }
}

/** Issuance as in the `engine` row (64 pre-made P-256 CSRs), signed by a CA key in the token. */
async function tokenEngine(signer: TokenSigner): Promise<(i: number) => Promise<unknown>> {
  const certificatePem = await buildSelfSignedCa({
    trustDomain: 'bench.local',
    signer,
    ttlSeconds: 86_400,
    clock: systemClock,
  });
  const authority = prepareAuthority({ certificatePem, signer, chainPem: [] });
  const csrs = Array.from({ length: 64 }, () => buildCsr(generateKeyPair('ec-p256')));
  const ids = csrs.map((_, i) => parseSpiffeId(`spiffe://bench.local/ns/bench/sa/workload-${i}`));
  return (i) =>
    issueX509Svid({
      csrPem: csrs[i % csrs.length]!,
      spiffeId: ids[i % ids.length]!,
      ttlSeconds: 3600,
      authority,
      clock: systemClock,
    });
}
