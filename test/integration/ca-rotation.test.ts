import { randomBytes, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, type CaSettings } from '../../src/ca/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  generateKeyPair,
  issueX509Svid,
  validateX509Svid,
} from '../../src/x509/index.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';

const settings: CaSettings = {
  trustDomain: 'hallmark.local',
  keyType: 'ec-p256',
  ttlSeconds: 60,
  upstream: undefined,
};
const silent = { info: () => undefined, warn: () => undefined };
const csr = buildCsr(generateKeyPair('ec-p256'));
const id = parseSpiffeId('spiffe://hallmark.local/ns/a/sa/b');

describe('CA rotation with a 60-second CA lifetime, two replicas', () => {
  let db: Database;
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const audit = new MemoryAuditLog(clock);
  const master = new MasterKey(randomBytes(32));
  let replicas: CertificateAuthority[];

  beforeAll(async () => {
    ({ db } = await createMigratedDatabase());
    replicas = await Promise.all(
      [0, 1].map(() =>
        CertificateAuthority.start({ db, master, clock, audit, log: silent }, settings, {
          tick: false,
        }),
      ),
    );
  });
  afterAll(async () => {
    for (const ca of replicas) ca.stop();
    await db.close();
  });

  async function issue(ca: CertificateAuthority) {
    return await issueX509Svid({
      csrPem: csr,
      spiffeId: id,
      ttlSeconds: 3600,
      authority: ca.signingAuthority().authority,
      clock,
    });
  }

  function issuerOf(pem: string): string {
    return new X509Certificate(pem).issuer;
  }

  it('bootstraps exactly one CA although both replicas started at once', async () => {
    const rows = await db.query('SELECT status FROM ca_authorities');
    expect(rows.rows).toEqual([{ status: 'active' }]);
    expect(audit.records.filter((r) => r.action === 'ca.created')).toHaveLength(1);
    expect(replicas[0]?.signingAuthority().id).toBe(replicas[1]?.signingAuthority().id);
  });

  it('prepares the next CA at half-life, publishing it before it signs anything', async () => {
    const [a, b] = replicas as [CertificateAuthority, CertificateAuthority];
    const before = a.bundle();
    const oldSvid = await issue(a);
    clock.advance(30_000);
    const changed = await Promise.all([
      a.rotate({ wait: false, actor: 'system' }),
      b.rotate({ wait: false, actor: 'system' }),
    ]);
    expect(changed.filter(Boolean).length).toBeLessThanOrEqual(1);
    await Promise.all([a.reload(), b.reload()]);
    expect(audit.records.filter((r) => r.action === 'ca.prepared')).toHaveLength(1);
    const bundle = b.bundle();
    expect(bundle.certificatesPem).toHaveLength(2);
    expect(bundle.sequence).toBeGreaterThan(before.sequence);
    // Still signing with the old CA: the new one is only published.
    expect(issuerOf((await issue(b)).certificatePem)).toBe(issuerOf(oldSvid.certificatePem));

    clock.advance(20_000); // one sixth of the lifetime remains
    await Promise.all([
      a.rotate({ wait: false, actor: 'system' }),
      b.rotate({ wait: false, actor: 'system' }),
    ]);
    await Promise.all([a.reload(), b.reload()]);
    expect(audit.records.filter((r) => r.action === 'ca.activated')).toHaveLength(1);
    const newSvid = await issue(a);
    expect(issuerOf(newSvid.certificatePem)).not.toBe(issuerOf(oldSvid.certificatePem));
    // The new signer was in the bundle published before activation.
    expect(
      bundle.certificatesPem.some(
        (pem) => new X509Certificate(pem).subject === issuerOf(newSvid.certificatePem),
      ),
    ).toBe(true);
    // SVIDs from before the rotation still verify against the current bundle.
    const current = [...a.bundle().certificatesPem];
    expect(() => validateX509Svid(oldSvid.chainPem, current, clock)).not.toThrow();
    expect(() => validateX509Svid(newSvid.chainPem, current, clock)).not.toThrow();
    expect(new Date(oldSvid.notAfter).getTime()).toBeLessThanOrEqual(
      new Date(new X509Certificate(current[0] as string).validTo).getTime(),
    );
  });

  it('drops the old CA from the bundle once it has expired, and moves the sequence', async () => {
    const [a] = replicas as [CertificateAuthority];
    const first = a.authorities().find((ca) => ca.status === 'old') as { certificatePem: string };
    const sequence = a.bundle().sequence;
    expect(a.bundle().certificatesPem).toContain(first.certificatePem);
    clock.advance(11_000); // past the first CA's notAfter
    // Out of the bundle at its notAfter, before anything reloads the CAs.
    expect(a.bundle().certificatesPem).not.toContain(first.certificatePem);
    await a.rotate({ wait: false, actor: 'system' });
    await a.reload();
    expect(a.bundle().certificatesPem).not.toContain(first.certificatePem);
    expect(a.bundle().sequence).toBeGreaterThan(sequence);
  });

  it('rotates at once on operator request', async () => {
    const [a] = replicas as [CertificateAuthority];
    const signer = a.signingAuthority().id;
    expect(await a.rotate({ wait: true, force: true, actor: 'key:admin' })).toBe(true);
    expect(a.signingAuthority().id).not.toBe(signer);
    expect(
      audit.records.filter((r) => r.action === 'ca.activated' && r.actor === 'key:admin'),
    ).toHaveLength(1);
  });
});
