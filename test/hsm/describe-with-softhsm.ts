// The CI rule for HSM tests: they run, fail on CI without SoftHSM2, and are skipped elsewhere.
import { describe, it } from 'vitest';
import { softHsm } from './softhsm.js';

/**
 * `describe` for tests that need SoftHSM2 and pkcs11js. Without them: on CI (`CI=true`) one
 * failing test says what is missing (CI must run these tests); elsewhere the suite is skipped
 * and the reason printed.
 */
export function describeWithSoftHsm(name: string, body: () => void): void {
  if (softHsm.available) {
    describe(name, body);
    return;
  }
  const reason = softHsm.reason;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has SoftHSM2 and pkcs11js, which CI requires for the HSM tests', () => {
        throw new Error(`HSM tests cannot run: ${reason}`);
      });
    });
    return;
  }
  console.warn(`[hsm tests] skipped "${name}": ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}
