// Signing through a PKCS#11 token: P-256 in SoftHSM2 via pkcs11js, beside node:crypto's rate.
import { randomBytes } from 'node:crypto';
import { TokenKeys, TokenSessionPool, readTokenPin } from '../../src/hsm/index.js';
import { createSoftHsmToken, softHsm } from '../hsm/softhsm.js';

/** Token signing rates, or why they could not be measured. */
export type TokenSignRates =
  | { readonly serial: number; readonly parallel: number; readonly sessions: number }
  | { readonly skipped: string };

/**
 * P-256 signatures per second over a 200-byte input (as the raw-sign line), through the whole
 * HSM layer: digest in process, C_SignInit + C_Sign on a pool session (libuv thread), r‖s to
 * DER. `serial` waits for each signature; `parallel` keeps 16 in flight on 4 sessions.
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
    const serial = await rate(1, durationMs / 2);
    const parallel = await rate(16, durationMs / 2);
    return { serial, parallel, sessions };
  } finally {
    await pool.close();
    await token.remove();
  }
}
