// CSR parsing and proof of possession: accepted keys, refused keys, malformed input, bad signatures.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildCsr,
  generateKeyPair,
  KEY_TYPES,
  MAX_CSR_PEM_LENGTH,
  verifyCsr,
} from '../../src/x509/index.js';
import { derChildren } from '../../src/x509/der-reader.js';
import { bitString, encode, oid, preEncoded, sequence } from '../../src/x509/der-writer.js';
import { decodeSinglePem, encodePem } from '../../src/x509/pem.js';
import { caught, fixture, hasOpenssl, openssl } from './x509-helpers.js';

const LABEL = 'CERTIFICATE REQUEST';

/** Rebuilds a CSR from (possibly altered) info, algorithm and signature DER. */
function reassemble(info: Buffer, algorithm: Buffer, signature: Buffer): string {
  return encodePem(
    encode(sequence([preEncoded(info), preEncoded(algorithm), bitString(signature)])),
    LABEL,
  );
}

function partsOf(pem: string): { info: Buffer; algorithm: Buffer; signature: Buffer } {
  const [info, algorithm, signatureBits] = derChildren(decodeSinglePem(pem, [LABEL]));
  // BIT STRING: tag, length, unused-bits byte, then the signature bytes
  const sig = derChildren(encode(sequence([preEncoded(signatureBits!)])))[0]!;
  const headerLength = sig[1]! & 0x80 ? 2 + (sig[1]! & 0x7f) : 2;
  return { info: info!, algorithm: algorithm!, signature: sig.subarray(headerLength + 1) };
}

describe('verifyCsr: keys Hallmark accepts', () => {
  it.each([
    ['csr-p256.pem', 'ec-p256', 256],
    ['csr-p384-sha384.pem', 'ec-p384', 384],
    ['csr-rsa3072.pem', 'rsa', 3072],
    ['csr-rsa2048-pss.pem', 'rsa', 2048],
    ['csr-ed25519.pem', 'ed25519', 256],
    ['csr-p256-requests-ca-and-sans.pem', 'ec-p256', 256],
  ])('accepts OpenSSL CSR %s', (name, kind, bits) => {
    const csr = verifyCsr(fixture(name));
    expect(csr.publicKeyInfo.kind).toBe(kind);
    expect(csr.publicKeyInfo.bits).toBe(bits);
    // the key node:crypto holds is the one the certificate will carry
    expect(csr.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      csr.publicKeyInfo.spkiDer,
    );
  });

  it.each(KEY_TYPES)('accepts what buildCsr makes for %s', (type) => {
    const keyPair = generateKeyPair(type);
    const pem = buildCsr(keyPair);
    const csr = verifyCsr(pem);
    expect(csr.publicKeyInfo.spkiDer).toEqual(
      keyPair.publicKey.export({ type: 'spki', format: 'der' }),
    );
  });

  it.skipIf(!hasOpenssl).each(KEY_TYPES)(
    'buildCsr output for %s passes openssl req -verify',
    (type) => {
      const pem = buildCsr(generateKeyPair(type));
      const text = openssl(['req', '-noout', '-verify', '-text'], pem);
      expect(text).toContain('Version: 1 (0x0)');
      // the CSR asks for nothing: no subject attributes, no requested extensions
      expect(text).toMatch(/Attributes:\s*\(none\)/);
      expect(text).not.toContain('X509v3');
      expect(text).toMatch(/Subject:\s*\n/);
    },
  );
});

describe('verifyCsr: refused keys and algorithms', () => {
  it.each([
    ['csr-secp256k1.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-rsa1024.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-p256-explicit-params.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-p256-compressed-point.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-rsassa-pss-key.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-ed448.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-dsa.pem', 'ERR_CSR_UNSUPPORTED_KEY'],
    ['csr-p256-sha1.pem', 'ERR_CSR_UNSUPPORTED_ALGORITHM'],
  ])('%s → %s', (name, code) => {
    expect(caught(() => verifyCsr(fixture(name))).code).toBe(code);
  });

  it('refuses an RSA key with public exponent 3', () => {
    const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    expect(caught(() => verifyCsr(buildCsrUnchecked(keyPair))).code).toBe(
      'ERR_CSR_UNSUPPORTED_KEY',
    );
  });
});

describe('verifyCsr: RSA public exponent bounds (Go crypto/rsa: odd, at most 2^31-1)', () => {
  it('refuses a real RSA-3072 key whose exponent has 3071 bits, though its signature verifies', () => {
    const keyPair = rsa3072WithExponentBits(3071);
    expect(caught(() => verifyCsr(buildCsrUnchecked(keyPair))).code).toBe(
      'ERR_CSR_UNSUPPORTED_KEY',
    );
  });

  it('refuses the exponent before verifying anything: a junk signature is not even looked at', () => {
    const keyPair = rsa3072WithExponentBits(3071);
    const { info, algorithm, signature } = partsOf(buildCsrUnchecked(keyPair));
    const junk = reassemble(info, algorithm, randomBytes(signature.length));
    // were the signature checked first, this would be ERR_CSR_BAD_SIGNATURE (after ~100x the CPU)
    expect(caught(() => verifyCsr(junk)).code).toBe('ERR_CSR_UNSUPPORTED_KEY');
  });

  it('refuses an exponent of 33 bits and accepts 31 bits', () => {
    expect(caught(() => verifyCsr(buildCsrUnchecked(rsa3072WithExponentBits(33)))).code).toBe(
      'ERR_CSR_UNSUPPORTED_KEY',
    );
    const accepted = verifyCsr(buildCsrUnchecked(rsa3072WithExponentBits(31)));
    expect(accepted.publicKeyInfo.kind).toBe('rsa');
  });

  it('still accepts an ordinary RSA-3072 key with exponent 65537', () => {
    const keyPair = generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 65537 });
    const csr = verifyCsr(buildCsrUnchecked(keyPair));
    expect(csr.publicKeyInfo).toMatchObject({ kind: 'rsa', bits: 3072 });
    expect(csr.publicKeyInfo.jwk.e).toBe('AQAB');
  });
});

const toBigInt = (b64url: string) =>
  BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex')}`);
const toB64url = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

/**
 * A working RSA-3072 key pair whose public exponent has exactly `bits` bits: node:crypto
 * makes the primes, the test picks a random odd e coprime to λ(n) and derives d, so the
 * key signs and verifies like any other (only more slowly).
 */
function rsa3072WithExponentBits(bits: number): { publicKey: KeyObject; privateKey: KeyObject } {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({
    format: 'jwk',
  });
  const p = toBigInt(jwk.p!);
  const q = toBigInt(jwk.q!);
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  let e: bigint;
  do {
    const random = toBigInt(randomBytes(Math.ceil(bits / 8)).toString('base64url'));
    e = (random & ((1n << BigInt(bits - 1)) - 1n)) | (1n << BigInt(bits - 1)) | 1n;
  } while (gcd(e, lambda) !== 1n);
  const d = modInverse(e, lambda);
  const privateKey = createPrivateKey({
    format: 'jwk',
    key: {
      ...jwk,
      e: toB64url(e),
      d: toB64url(d),
      dp: toB64url(d % (p - 1n)),
      dq: toB64url(d % (q - 1n)),
    },
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

// buildCsr refuses keys we do not accept, so odd keys get a hand-made CSR (same layout).
function buildCsrUnchecked(keyPair: { publicKey: KeyObject; privateKey: KeyObject }): string {
  const spki = keyPair.publicKey.export({ type: 'spki', format: 'der' });
  const reference = partsOf(buildCsr(generateKeyPair('rsa-2048')));
  const info = encode(
    sequence([
      preEncoded(Buffer.from([0x02, 0x01, 0x00])),
      sequence([]),
      preEncoded(spki),
      preEncoded(Buffer.from([0xa0, 0x00])),
    ]),
  );
  return reassemble(info, reference.algorithm, sign('sha256', info, keyPair.privateKey));
}

describe('verifyCsr: malformed input', () => {
  const good = fixture('csr-p256.pem');
  const der = decodeSinglePem(good, [LABEL]);
  const cases: [string, string][] = [
    ['empty string', ''],
    ['no PEM block', 'hello'],
    ['a certificate, not a CSR', encodePem(der, 'CERTIFICATE')],
    ['two CSRs', good + good],
    ['base64 with junk characters', good.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1!*')],
    ['mismatched labels', good.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE')],
    ['truncated DER', encodePem(der.subarray(0, der.length - 10), LABEL)],
    ['trailing bytes', encodePem(Buffer.concat([der, Buffer.from([0])]), LABEL)],
    ['random bytes', encodePem(Buffer.from('30820100deadbeef', 'hex'), LABEL)],
    [
      'indefinite length',
      encodePem(
        Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(2), Buffer.from([0, 0])]),
        LABEL,
      ),
    ],
    ['too large', `${good}${' '.repeat(MAX_CSR_PEM_LENGTH)}`],
  ];
  it.each(cases)('%s → ERR_CSR_MALFORMED', (_, pem) => {
    expect(caught(() => verifyCsr(pem)).code).toBe('ERR_CSR_MALFORMED');
  });

  it('refuses a CSR whose version is not 0', () => {
    const { info, algorithm, signature } = partsOf(good);
    const altered = Buffer.from(info);
    const versionAt = altered.indexOf(Buffer.from([0x02, 0x01, 0x00]));
    altered[versionAt + 2] = 1;
    expect(caught(() => verifyCsr(reassemble(altered, algorithm, signature))).code).toBe(
      'ERR_CSR_MALFORMED',
    );
  });

  it('refuses a value that is not a string', () => {
    expect(caught(() => verifyCsr(42 as unknown as string)).code).toBe('ERR_CSR_MALFORMED');
  });
});

describe('verifyCsr: signatures', () => {
  it('refuses a flipped signature bit', () => {
    const { info, algorithm, signature } = partsOf(fixture('csr-p256.pem'));
    const bad = Buffer.from(signature);
    bad[bad.length - 1]! ^= 0x01;
    expect(caught(() => verifyCsr(reassemble(info, algorithm, bad))).code).toBe(
      'ERR_CSR_BAD_SIGNATURE',
    );
  });

  it('refuses an altered subject', () => {
    const { info, algorithm, signature } = partsOf(fixture('csr-p256.pem'));
    const altered = Buffer.from(info.toString('latin1').replace('fixture', 'fixturf'), 'latin1');
    expect(caught(() => verifyCsr(reassemble(altered, algorithm, signature))).code).toBe(
      'ERR_CSR_BAD_SIGNATURE',
    );
  });

  it.each(KEY_TYPES)('refuses a %s CSR signed by another key of the same type', (type) => {
    const { info, algorithm } = partsOf(buildCsr(generateKeyPair(type)));
    const other = generateKeyPair(type).privateKey;
    const hash = type === 'ed25519' ? null : type === 'ec-p384' ? 'sha384' : 'sha256';
    const pem = reassemble(info, algorithm, sign(hash, info, other));
    expect(caught(() => verifyCsr(pem)).code).toBe('ERR_CSR_BAD_SIGNATURE');
  });

  it('refuses a signature algorithm that does not fit the key', () => {
    const { info, signature } = partsOf(fixture('csr-p256.pem'));
    const rsaAlgorithm = encode(sequence([oid('1.2.840.113549.1.1.11')]));
    expect(caught(() => verifyCsr(reassemble(info, rsaAlgorithm, signature))).code).toBe(
      'ERR_CSR_BAD_SIGNATURE',
    );
  });

  it('refuses an unknown signature algorithm', () => {
    const { info, signature } = partsOf(fixture('csr-p256.pem'));
    const unknown = encode(sequence([oid('1.2.3.4')]));
    expect(caught(() => verifyCsr(reassemble(info, unknown, signature))).code).toBe(
      'ERR_CSR_UNSUPPORTED_ALGORITHM',
    );
  });
});
