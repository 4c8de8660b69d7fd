// Workload login decisions: issuance record, pod re-check, registration re-check, token expiry.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AccessTokenIssuer,
  PodPresenceCache,
  loginWorkload,
  normalizeSerial,
  type IssuedCertificateRecord,
  type RegisteredWorkload,
  type WorkloadLoginDeps,
} from '../../src/authn/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import type { VerifiedX509Svid } from '../../src/x509/index.js';
import { MemoryKeys, MemoryPods, runningPod, testKey } from '../fixtures/authn/memory-keys.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const clock = new ManualClock(Date.UTC(2026, 2, 1));

const svid: VerifiedX509Svid = {
  spiffeId: parseSpiffeId(ID),
  serialHex: '0a1b2c',
  notBefore: new Date(clock.now() - 10_000),
  notAfter: new Date(clock.now() + 3_600_000),
  publicKeyFingerprint: 'f'.repeat(64),
  pathLength: 2,
  pathNotBefore: new Date(0),
  pathNotAfter: new Date(8_640_000_000_000_000),
};

const record: IssuedCertificateRecord = {
  serial: '0a1b2c',
  spiffeId: ID,
  caId: 1,
  publicKeyFingerprint: 'f'.repeat(64),
  namespace: 'payments',
  serviceAccount: 'api',
  podName: 'api-0',
  podUid: 'uid-1',
};

let records: Map<string, IssuedCertificateRecord>;
let pods: MemoryPods;
let registered: RegisteredWorkload[];
let deps: WorkloadLoginDeps;

beforeEach(async () => {
  records = new Map([[record.serial, record]]);
  pods = new MemoryPods();
  pods.set('payments', 'api-0', runningPod('uid-1', { app: 'api' }));
  registered = [];
  const keys = new MemoryKeys();
  await keys.add(await testKey());
  deps = {
    certificates: { findBySerial: async (serial) => records.get(serial) ?? null },
    pods: new PodPresenceCache(pods, clock),
    registrationCheck: (workload, spiffeId) => {
      registered.push(workload);
      return spiffeId === ID && workload.namespace === 'payments' && workload.labels.app === 'api';
    },
    tokens: new AccessTokenIssuer(keys, clock, { issuer: 'https://h', ttlMs: 480_000 }),
  };
});

/** The code an mTLS login with `input` fails with, or NO_ERROR. */
function loginCodeOf(input: VerifiedX509Svid = svid): Promise<string> {
  return codeOf(loginWorkload(deps, input));
}

describe('loginWorkload', () => {
  it('issues a token for a registered workload in its live pod, with labels from the pod', async () => {
    const issued = await loginWorkload(deps, svid);
    expect(issued.expiresAt).toBe(clock.now() + 480_000);
    expect(registered).toEqual([
      { namespace: 'payments', serviceAccount: 'api', labels: { app: 'api' } },
    ]);
  });

  it('refuses a serial this server never recorded', async () => {
    records.clear();
    expect(await loginCodeOf()).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
  });

  it('refuses a record for another SPIFFE ID or key', async () => {
    records.set(record.serial, { ...record, spiffeId: 'spiffe://hallmark.local/ns/x/sa/y' });
    expect(await loginCodeOf()).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
    records.set(record.serial, { ...record, publicKeyFingerprint: 'e'.repeat(64) });
    expect(await loginCodeOf()).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
  });

  it('refuses a certificate not issued to an attested workload', async () => {
    records.set(record.serial, {
      ...record,
      namespace: null,
      serviceAccount: null,
      podName: null,
      podUid: null,
    });
    expect(await loginCodeOf()).toBe('ERR_AUTHN_WORKLOAD_NOT_REGISTERED');
  });

  it('refuses when the pod is gone, recreated or terminating', async () => {
    pods.delete('payments', 'api-0');
    expect(await loginCodeOf()).toBe('ERR_AUTHN_POD_GONE');
    records.set(record.serial, { ...record, podName: 'api-1' });
    pods.set('payments', 'api-1', runningPod('uid-9', { app: 'api' }));
    expect(await loginCodeOf()).toBe('ERR_AUTHN_POD_GONE');
    records.set(record.serial, { ...record, podName: 'api-2' });
    pods.set('payments', 'api-2', { ...runningPod('uid-1', { app: 'api' }), terminating: true });
    expect(await loginCodeOf()).toBe('ERR_AUTHN_POD_GONE');
  });

  it('refuses a workload the policy no longer registers (here: relabelled pod)', async () => {
    pods.set('payments', 'api-0', runningPod('uid-1', { app: 'other' }));
    expect(await loginCodeOf()).toBe('ERR_AUTHN_WORKLOAD_NOT_REGISTERED');
  });

  it('never issues a token that outlives the SVID', async () => {
    const issued = await loginWorkload(deps, { ...svid, notAfter: new Date(clock.now() + 60_000) });
    expect(issued.expiresAt).toBe(clock.now() + 60_000);
  });
});

describe('normalizeSerial', () => {
  it("matches node's uppercase serialNumber to the stored lowercase serialHex", () => {
    expect(normalizeSerial('0A1B2C')).toBe('0a1b2c');
    expect(normalizeSerial('00FF01')).toBe('ff01');
    expect(normalizeSerial('00')).toBe('00');
  });
});
