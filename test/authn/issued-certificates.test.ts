// The issuance-record cache in front of the database: found records only, bounded.
import { describe, expect, it } from 'vitest';
import {
  cachedIssuedCertificates,
  type IssuedCertificateLookup,
  type IssuedCertificateRecord,
} from '../../src/authn/index.js';

function record(serial: string): IssuedCertificateRecord {
  return {
    serial,
    spiffeId: `spiffe://hallmark.local/ns/app/sa/${serial}`,
    caId: 1,
    publicKeyFingerprint: 'ab'.repeat(32),
    namespace: 'app',
    serviceAccount: serial,
    podName: `pod-${serial}`,
    podUid: `uid-${serial}`,
  };
}

/** A table the test writes to, counting the reads that reach it. */
function table() {
  const rows = new Map<string, IssuedCertificateRecord>();
  const reads: string[] = [];
  const lookup: IssuedCertificateLookup = {
    findBySerial: (serial) => {
      reads.push(serial);
      return Promise.resolve(rows.get(serial) ?? null);
    },
  };
  return { rows, reads, lookup };
}

describe('cachedIssuedCertificates', () => {
  it('reads a found record once, whatever case or leading zeros the serial is written in', async () => {
    const db = table();
    db.rows.set('0a1b', record('0a1b'));
    const cached = cachedIssuedCertificates(db.lookup);
    expect(await cached.findBySerial('0a1b')).toEqual(record('0a1b'));
    expect(await cached.findBySerial('000A1B')).toEqual(record('0a1b'));
    expect(db.reads).toEqual(['0a1b']);
  });

  it('asks again after a miss, so a record written since is found', async () => {
    const db = table();
    const cached = cachedIssuedCertificates(db.lookup);
    expect(await cached.findBySerial('ff01')).toBeNull();
    db.rows.set('ff01', record('ff01'));
    expect(await cached.findBySerial('ff01')).toEqual(record('ff01'));
    expect(db.reads).toEqual(['ff01', 'ff01']);
  });

  it('keeps at most maxEntries records, dropping the oldest', async () => {
    const db = table();
    for (const serial of ['01', '02', '03']) db.rows.set(serial, record(serial));
    const cached = cachedIssuedCertificates(db.lookup, 2);
    for (const serial of ['01', '02', '03']) await cached.findBySerial(serial);
    await cached.findBySerial('03');
    await cached.findBySerial('02');
    await cached.findBySerial('01');
    expect(db.reads).toEqual(['01', '02', '03', '01']);
  });

  it('shares one read between concurrent lookups of a serial, found or not', async () => {
    const db = table();
    db.rows.set('0a1b', record('0a1b'));
    const cached = cachedIssuedCertificates(db.lookup);
    const found = await Promise.all(Array.from({ length: 20 }, () => cached.findBySerial('0A1B')));
    expect(found.every((r) => r?.serial === '0a1b')).toBe(true);
    const missing = await Promise.all(Array.from({ length: 20 }, () => cached.findBySerial('ff')));
    expect(missing.every((r) => r === null)).toBe(true);
    expect(db.reads).toEqual(['0a1b', 'ff']);
  });
});
