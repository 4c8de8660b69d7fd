// Corpus: hostile CSRs on POST /v1/svid/x509 after a valid attestation, and CA requests that
// must still yield a plain leaf.
import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, type KeyPairKeyObjectResult } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import {
  MD5_WITH_RSA,
  REQUESTED_SPIFFE_ID,
  SHA256_WITH_RSA,
  caRequestingCsr,
  csrPem,
  pemToDer,
  withAlgorithm,
  withFlippedSignatureBit,
  withSwappedKey,
  withVersion,
} from './forged-csr.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { type RawRequest, type SecurityStack } from './security-stack.js';
import { auditHead, auditRowsAfter, snapshotState } from './state-snapshot.js';

const WORKLOAD_ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/x509/${name}`, import.meta.url), 'utf8');
const GOOD_CSR = buildCsr(generateKeyPair('ec-p256'));
// One RSA-2048 key for the cases that need one, made on first use (generation is slow).
let rsa: KeyPairKeyObjectResult | undefined;
const RSA = (): KeyPairKeyObjectResult =>
  (rsa ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));

/** The request with a valid projected token for the registered pod and `body`. */
async function csrRequest(fx: SecurityStack, body: unknown): Promise<RawRequest> {
  return {
    method: 'POST',
    path: '/v1/svid/x509',
    headers: { authorization: `Bearer ${await fx.projectedToken()}` },
    json: body,
  };
}

const csrCase = (
  name: string,
  csr: () => unknown,
  code: RefusalCase['code'],
  status = 400,
): RefusalCase => ({
  name,
  request: (fx) => csrRequest(fx, { csr: csr() }),
  status,
  code,
});

const CASES: RefusalCase[] = [
  csrCase('not PEM at all', () => 'hello', 'ERR_CSR_MALFORMED'),
  csrCase(
    'a certificate instead of a CSR',
    () => fixture('csr-p256.pem').replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'),
    'ERR_CSR_MALFORMED',
  ),
  csrCase(
    'PEM whose body is not base64',
    () => '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n',
    'ERR_CSR_MALFORMED',
  ),
  csrCase('truncated DER', () => csrPem(pemToDer(GOOD_CSR).subarray(0, 60)), 'ERR_CSR_MALFORMED'),
  csrCase(
    'trailing bytes after the DER',
    () => csrPem(Buffer.concat([pemToDer(GOOD_CSR), Buffer.from([0x05, 0x00])])),
    'ERR_CSR_MALFORMED',
  ),
  csrCase('two CSRs in one PEM', () => GOOD_CSR + GOOD_CSR, 'ERR_CSR_MALFORMED'),
  csrCase('version 1 (only 0 exists)', () => withVersion(GOOD_CSR, 1), 'ERR_CSR_MALFORMED'),
  csrCase(
    'wrong key: signed by one key, carrying another',
    () => withSwappedKey(GOOD_CSR, generateKeyPair('ec-p256').publicKey),
    'ERR_CSR_BAD_SIGNATURE',
  ),
  csrCase(
    'wrong key of another type (RSA-2048 key, ECDSA signature)',
    () => withSwappedKey(GOOD_CSR, RSA().publicKey),
    'ERR_CSR_BAD_SIGNATURE',
  ),
  csrCase(
    'one bit of the signature flipped',
    () => withFlippedSignatureBit(GOOD_CSR),
    'ERR_CSR_BAD_SIGNATURE',
  ),
  csrCase(
    'an RSA signature algorithm on an EC key',
    () => withAlgorithm(GOOD_CSR, SHA256_WITH_RSA),
    'ERR_CSR_BAD_SIGNATURE',
  ),
  csrCase(
    'md5WithRSAEncryption',
    () => withAlgorithm(fixture('csr-rsa3072.pem'), MD5_WITH_RSA),
    'ERR_CSR_UNSUPPORTED_ALGORITHM',
  ),
  csrCase('SHA-1 signature', () => fixture('csr-p256-sha1.pem'), 'ERR_CSR_UNSUPPORTED_ALGORITHM'),
  csrCase('RSA-1024 key', () => fixture('csr-rsa1024.pem'), 'ERR_CSR_UNSUPPORTED_KEY'),
  csrCase('secp256k1 key', () => fixture('csr-secp256k1.pem'), 'ERR_CSR_UNSUPPORTED_KEY'),
  csrCase('DSA key', () => fixture('csr-dsa.pem'), 'ERR_CSR_UNSUPPORTED_KEY'),
  csrCase('Ed448 key', () => fixture('csr-ed448.pem'), 'ERR_CSR_UNSUPPORTED_KEY'),
  csrCase(
    'P-256 with explicit curve parameters',
    () => fixture('csr-p256-explicit-params.pem'),
    'ERR_CSR_UNSUPPORTED_KEY',
  ),
  csrCase('RSASSA-PSS key OID', () => fixture('csr-rsassa-pss-key.pem'), 'ERR_CSR_UNSUPPORTED_KEY'),
  csrCase('an empty csr string', () => '', 'ERR_REQUEST_INVALID'),
  csrCase('csr is a number', () => 42, 'ERR_REQUEST_INVALID'),
  csrCase('csr is an array of PEMs', () => [GOOD_CSR], 'ERR_REQUEST_INVALID'),
  csrCase(
    'oversized: a 16 KiB + 1 csr (schema limit)',
    () => `${GOOD_CSR}${' '.repeat(16_385 - GOOD_CSR.length)}`,
    'ERR_REQUEST_INVALID',
  ),
  csrCase(
    'oversized: a 40 KiB body (route body limit)',
    () => 'A'.repeat(40 * 1024),
    'ERR_REQUEST_TOO_LARGE',
    413,
  ),
];

/** `openssl x509 -text` of a PEM certificate. */
function describeCertificate(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], {
    input: pem,
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe('bad-input corpus: CSRs on POST /v1/svid/x509', () => {
  const corpus = refusalCorpus();

  corpus.refuses(CASES);

  it.each([
    [
      'an OpenSSL CSR asking for CA:TRUE, keyCertSign, SANs and CN=admin',
      () => fixture('csr-p256-requests-ca-and-sans.pem'),
    ],
    [
      'a CSR asking for CA:TRUE with pathlen 3 and a foreign SPIFFE ID',
      () => caRequestingCsr(RSA().privateKey, RSA().publicKey),
    ],
  ])('issues %s as a plain leaf, never a CA', async (_name, csr) => {
    const { fx, tables } = corpus;
    const request = await csrRequest(fx, { csr: csr() });
    const before = await snapshotState(fx.stack, tables);
    const head = await auditHead(fx.stack);
    const response = await fx.send(request);
    expect(response.status).toBe(200);

    const chain = (response.body.svid as string).match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
    );
    const leaf = new X509Certificate(chain?.[0] ?? '');
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe(`URI:${WORKLOAD_ID}`);
    expect(leaf.subject ?? '').toBe(''); // node reports an empty subject as undefined
    const text = describeCertificate(chain?.[0] ?? '');
    expect(text).toContain('CA:FALSE');
    expect(text).not.toContain('CA:TRUE');
    expect(text).not.toContain('Certificate Sign');
    expect(text).not.toContain('CRL Sign');
    expect(text).not.toContain(REQUESTED_SPIFFE_ID);
    expect(text).not.toContain('admin');

    // The only state change is the issuance itself, with its one audit row.
    const after = await snapshotState(fx.stack, tables);
    const { issued_certificates: issuedAfter, ...restAfter } = after.tables;
    const { issued_certificates: issuedBefore, ...restBefore } = before.tables;
    expect(restAfter).toEqual(restBefore);
    expect(issuedAfter?.rows).toBe((issuedBefore?.rows ?? 0) + 1);
    expect({ ...after, tables: {} }).toEqual({ ...before, tables: {} });
    const rows = await auditRowsAfter(fx.stack, head);
    expect(rows.map((r) => [r.action, r.outcome, r.actor])).toEqual([
      ['svid.x509.issued', 'success', WORKLOAD_ID],
    ]);
  });
});
