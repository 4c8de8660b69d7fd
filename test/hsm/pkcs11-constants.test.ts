// Hallmark's PKCS#11 numbers are the binding's: checked name by name against pkcs11js.
import { expect, it } from 'vitest';
import {
  CKA,
  CKF,
  CKG,
  CKK,
  CKM,
  CKO,
  CKR,
  CKU_USER,
  CK_PARAMS_RSA_PSS,
} from '../../src/hsm/pkcs11-constants.js';
import { failureKind } from '../../src/hsm/pkcs11-failure.js';
import { describeWithSoftHsm } from './describe-with-softhsm.js';

const BINDING = 'pkcs11js';

describeWithSoftHsm('PKCS#11 constants', () => {
  it('match pkcs11js for every name Hallmark uses', async () => {
    const imported = (await import(BINDING)) as { default?: Record<string, unknown> };
    const binding = (imported.default ?? imported) as Record<string, unknown>;
    const groups = { CKA, CKG, CKK, CKM, CKO, CKR };
    for (const [prefix, values] of Object.entries(groups)) {
      for (const [name, value] of Object.entries(values)) {
        expect([`${prefix}_${name}`, value]).toEqual([
          `${prefix}_${name}`,
          binding[`${prefix}_${name}`],
        ]);
      }
    }
    expect(CKF.OS_LOCKING_OK).toBe(binding.CKF_OS_LOCKING_OK);
    expect(CKF.RW_SESSION).toBe(binding.CKF_RW_SESSION);
    expect(CKF.SERIAL_SESSION).toBe(binding.CKF_SERIAL_SESSION);
    expect(CKF.USER_PIN_LOCKED).toBe(binding.CKF_USER_PIN_LOCKED);
    expect(CKU_USER).toBe(binding.CKU_USER);
    expect(CK_PARAMS_RSA_PSS).toBe(binding.CK_PARAMS_RSA_PSS);
  });

  it('classifies the errors pkcs11js throws by their CKR_* value', async () => {
    const imported = (await import(BINDING)) as { default?: Record<string, unknown> };
    const binding = (imported.default ?? imported) as {
      Pkcs11Error: new (message: string, code: number, method: string) => Error;
    };
    const error = (name: keyof typeof CKR) =>
      new binding.Pkcs11Error(`CKR_${name}:${CKR[name]}`, CKR[name], 'C_Sign');
    expect(failureKind(error('DEVICE_REMOVED'))).toBe('connection');
    expect(failureKind(error('SESSION_HANDLE_INVALID'))).toBe('connection');
    expect(failureKind(error('USER_NOT_LOGGED_IN'))).toBe('connection');
    expect(failureKind(error('OBJECT_HANDLE_INVALID'))).toBe('object');
    expect(failureKind(error('PIN_INCORRECT'))).toBe('pin');
    expect(failureKind(error('ATTRIBUTE_SENSITIVE'))).toBe('other');
    expect(failureKind(new Error('CKR_DEVICE_REMOVED'))).toBe('other'); // no code: not the binding's
  });
});
