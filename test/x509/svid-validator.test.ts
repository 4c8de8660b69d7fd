// X509-SVID validation: leaf rules and the path to a bundle root, against well- and ill-formed chains.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildIntermediateCa,
  generateKeyPair,
  issueX509Svid,
  prepareAuthority,
  validateX509Svid,
  type SigningAuthority,
} from '../../src/x509/index.js';
import {
  buildTbsCertificate,
  certificateDer,
  randomSerial,
} from '../../src/x509/certificate-builder.js';
import { signData } from '../../src/x509/signature-algorithm.js';
import type { Asn1Node } from '../../src/x509/der-writer.js';
import { buildName, EMPTY_NAME_DER } from '../../src/x509/distinguished-name.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  extension,
  extKeyUsageExtension,
  KEY_USAGE,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from '../../src/x509/extension-builder.js';
import { booleanTrue, namedBits, sequence } from '../../src/x509/der-writer.js';
import { OID } from '../../src/x509/oids.js';
import { decodeSinglePem, encodePem } from '../../src/x509/pem.js';
import {
  describeKeyObject,
  keyIdentifier,
  type PublicKeyInfo,
} from '../../src/x509/subject-public-key.js';
import { caught, makeRoot, T0 } from './x509-helpers.js';
import { ManualClock } from '../doubles/manual-clock.js';

const NOW = new ManualClock(T0 + 120_000);
const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const root = await makeRoot('ec-p256');

async function issue(authority: SigningAuthority, clock = new ManualClock(T0 + 60_000)) {
  return await issueX509Svid({
    csrPem: buildCsr(generateKeyPair('ec-p256')),
    spiffeId: parseSpiffeId(ID),
    ttlSeconds: 3600,
    authority,
    clock,
  });
}

function invalid(chain: string[], bundle: string[], clock = NOW): string | undefined {
  const error = caught(() => validateX509Svid(chain, bundle, clock));
  expect(error.code).toBe('ERR_X509_SVID_INVALID');
  return error.detail;
}

const LEAF_KEY = describeKeyObject(generateKeyPair('ec-p256').publicKey) as PublicKeyInfo;

/** A certificate signed by `issuer` with exactly the extensions given (to build bad SVIDs). */
function craft(
  issuer: SigningAuthority,
  extensions: (defaults: Record<string, Asn1Node>) => Asn1Node[],
  options: { subjectDer?: Buffer; key?: PublicKeyInfo } = {},
): string {
  const authority = prepareAuthority(issuer);
  const key = options.key ?? LEAF_KEY;
  const defaults = {
    san: subjectAltNameExtension({ uris: [ID] }, true),
    ku: keyUsageExtension([KEY_USAGE.digitalSignature]),
    eku: extKeyUsageExtension([OID.serverAuth, OID.clientAuth]),
    bc: basicConstraintsExtension(false),
    ski: subjectKeyIdentifierExtension(keyIdentifier(key)),
    aki: authorityKeyIdentifierExtension(authority.keyId),
  };
  const tbs = buildTbsCertificate({
    serial: randomSerial(),
    signatureAlgorithm: authority.signatureAlgorithm,
    issuerDer: authority.certificate.subjectDer,
    subjectDer: options.subjectDer ?? EMPTY_NAME_DER,
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 3600_000),
    spkiDer: key.spkiDer,
    extensions: extensions(defaults),
  });
  return encodePem(
    certificateDer(
      tbs,
      authority.signatureAlgorithm,
      signData(authority.signatureAlgorithm, issuer.privateKey!, tbs),
    ),
    'CERTIFICATE',
  );
}

describe('validateX509Svid: valid chains', () => {
  it('accepts an SVID issued by a bundle root', async () => {
    const svid = await issue(root);
    const verified = validateX509Svid(svid.chainPem, [root.certificatePem], NOW);
    expect(verified.spiffeId.toString()).toBe(ID);
    expect(verified.serialHex).toBe(svid.serialHex);
    expect(verified.publicKeyFingerprint).toBe(svid.publicKeyFingerprint);
    expect(verified.notAfter).toEqual(svid.notAfter);
    expect(verified.pathLength).toBe(2);
  });

  it('accepts an SVID through an intermediate, in separate or concatenated PEM', async () => {
    const upstream = await makeRoot('rsa-2048', { td: 'corp.example' });
    const keyPair = generateKeyPair('ec-p384');
    const certificatePem = await buildIntermediateCa({
      trustDomain: 'hallmark.local',
      keyPair,
      upstream,
      ttlSeconds: 86_400,
      clock: new ManualClock(T0),
    });
    const svid = await issue({ certificatePem, privateKey: keyPair.privateKey, chainPem: [] });
    const verified = validateX509Svid(svid.chainPem, [upstream.certificatePem], NOW);
    expect(verified.pathLength).toBe(3);
    // The window in which every certificate of the path is valid, for results kept later.
    const path = [svid.certificatePem, certificatePem, upstream.certificatePem].map(
      (pem) => new X509Certificate(pem),
    );
    expect(verified.pathNotBefore.getTime()).toBe(
      Math.max(...path.map((c) => new Date(c.validFrom).getTime())),
    );
    expect(verified.pathNotAfter.getTime()).toBe(
      Math.min(...path.map((c) => new Date(c.validTo).getTime())),
    );
    expect(
      validateX509Svid([svid.chainPem.join('')], [upstream.certificatePem], NOW).pathLength,
    ).toBe(3);
    // the intermediate alone is not enough without the root, and is no root itself
    invalid([svid.certificatePem], [upstream.certificatePem]);
  });

  it('finds the right root in a bundle holding several (CA rotation)', async () => {
    const next = await makeRoot('ec-p256');
    const svid = await issue(next);
    const bundle = [root.certificatePem, next.certificatePem];
    expect(validateX509Svid(svid.chainPem, bundle, NOW).spiffeId.toString()).toBe(ID);
    expect(validateX509Svid((await issue(root)).chainPem, [bundle.join('')], NOW).pathLength).toBe(
      2,
    );
  });

  it('accepts SVIDs made outside the engine when they follow the rules', () => {
    expect(
      validateX509Svid([craft(root, (d) => Object.values(d))], [root.certificatePem], NOW)
        .pathLength,
    ).toBe(2);
  });
});

describe('validateX509Svid: trust and time', async () => {
  const svid = await issue(root);

  it('rejects another trust bundle and a missing bundle', async () => {
    invalid(svid.chainPem, [(await makeRoot('ec-p256')).certificatePem]);
    invalid(svid.chainPem, []);
  });

  it('rejects before notBefore and after notAfter, and accepts both ends', () => {
    invalid(svid.chainPem, [root.certificatePem], new ManualClock(svid.notBefore.getTime() - 1000));
    invalid(svid.chainPem, [root.certificatePem], new ManualClock(svid.notAfter.getTime() + 1000));
    expect(
      validateX509Svid(
        svid.chainPem,
        [root.certificatePem],
        new ManualClock(svid.notBefore.getTime()),
      ).pathLength,
    ).toBe(2);
    expect(
      validateX509Svid(
        svid.chainPem,
        [root.certificatePem],
        new ManualClock(svid.notAfter.getTime()),
      ).pathLength,
    ).toBe(2);
  });

  it('rejects a tampered signature or a tampered body', () => {
    const der = decodeSinglePem(svid.certificatePem, ['CERTIFICATE']);
    const badSignature = Buffer.from(der);
    badSignature[badSignature.length - 1]! ^= 0x01;
    invalid([encodePem(badSignature, 'CERTIFICATE')], [root.certificatePem]);
    const badBody = Buffer.from(der.toString('latin1').replace('payments', 'paymentz'), 'latin1');
    invalid([encodePem(badBody, 'CERTIFICATE')], [root.certificatePem]);
  });

  it('rejects malformed input', () => {
    invalid([], [root.certificatePem]);
    invalid(['not a certificate'], [root.certificatePem]);
    invalid(
      [svid.certificatePem],
      ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
    );
    invalid([svid.certificatePem.replace('CERTIFICATE', 'PRIVATE KEY')], [root.certificatePem]);
  });
});

describe('validateX509Svid: X509-SVID leaf rules', () => {
  const bundle = [root.certificatePem];
  const cases: [string, (d: Record<string, Asn1Node>) => Asn1Node[], { subjectDer?: Buffer }?][] = [
    [
      'two URI SANs',
      (d) => [subjectAltNameExtension({ uris: [ID, `${ID}2`] }, true), d.ku!, d.eku!, d.bc!],
    ],
    ['no SAN', (d) => [d.ku!, d.eku!, d.bc!]],
    [
      'a URI SAN that is not a SPIFFE ID',
      (d) => [subjectAltNameExtension({ uris: ['https://hallmark.local/x'] }, true), d.ku!, d.bc!],
    ],
    [
      'a SPIFFE ID without a path',
      (d) => [subjectAltNameExtension({ uris: ['spiffe://hallmark.local'] }, true), d.ku!, d.bc!],
    ],
    [
      'a non-critical SAN with an empty subject',
      (d) => [subjectAltNameExtension({ uris: [ID] }, false), d.ku!, d.bc!],
    ],
    ['cA true', (d) => [d.san!, d.ku!, basicConstraintsExtension(true)]],
    ['no keyUsage', (d) => [d.san!, d.eku!, d.bc!]],
    [
      'a non-critical keyUsage',
      (d) => [
        d.san!,
        extension(OID.keyUsage, false, namedBits([KEY_USAGE.digitalSignature])),
        d.bc!,
      ],
    ],
    [
      'keyUsage without digitalSignature',
      (d) => [d.san!, keyUsageExtension([KEY_USAGE.keyEncipherment]), d.bc!],
    ],
    [
      'keyUsage with keyCertSign',
      (d) => [d.san!, keyUsageExtension([0, KEY_USAGE.keyCertSign]), d.bc!],
    ],
    ['keyUsage with cRLSign', (d) => [d.san!, keyUsageExtension([0, KEY_USAGE.cRLSign]), d.bc!]],
    [
      'extKeyUsage without serverAuth',
      (d) => [d.san!, d.ku!, extKeyUsageExtension([OID.clientAuth]), d.bc!],
    ],
    [
      'an unknown critical extension',
      (d) => [...Object.values(d), extension('1.2.3.4.5', true, sequence([]))],
    ],
  ];
  it.each(cases)('rejects a leaf with %s', (_, extensions) => {
    invalid([craft(root, extensions)], bundle);
  });

  it('accepts an absent basicConstraints and a named subject with a non-critical SAN', () => {
    const pem = craft(
      root,
      (d) => [subjectAltNameExtension({ uris: [ID] }, false), d.ku!, d.eku!],
      {
        subjectDer: buildName({ commonName: 'api' }),
      },
    );
    expect(validateX509Svid([pem], bundle, NOW).spiffeId.toString()).toBe(ID);
  });
});

describe('validateX509Svid: signing certificates on the path', () => {
  it('rejects a leaf signed by another leaf', async () => {
    const leafKey = generateKeyPair('ec-p256');
    const leafCa: SigningAuthority = {
      ...(await issueForKey(leafKey)),
      privateKey: leafKey.privateKey,
      chainPem: [],
    };
    // prepareAuthority refuses a leaf as signer, so sign by hand with the leaf's key
    const pem = craftWithKey(leafKey.privateKey);
    invalid([pem, leafCa.certificatePem], [root.certificatePem]);
  });

  it('enforces pathLenConstraint', async () => {
    const keyPair = generateKeyPair('ec-p256');
    const inter1: SigningAuthority = {
      certificatePem: await buildIntermediateCa({
        trustDomain: 'hallmark.local',
        keyPair,
        upstream: root,
        ttlSeconds: 86_400,
        clock: new ManualClock(T0),
      }),
      privateKey: keyPair.privateKey,
      chainPem: [],
    };
    // inter1 has pathLenConstraint 0, yet here it signs a second intermediate
    const key2 = generateKeyPair('ec-p256');
    const info2 = describeKeyObject(key2.publicKey) as PublicKeyInfo;
    const inter2Pem = craft(
      inter1,
      (d) => [
        basicConstraintsExtension(true),
        keyUsageExtension([KEY_USAGE.keyCertSign]),
        subjectKeyIdentifierExtension(keyIdentifier(info2)),
        d.aki!,
      ],
      { subjectDer: buildName({ commonName: 'second' }), key: info2 },
    );
    const leafPem = craft(
      { certificatePem: inter2Pem, privateKey: key2.privateKey, chainPem: [] },
      (d) => Object.values(d),
    );
    expect(invalid([leafPem, inter2Pem, inter1.certificatePem], [root.certificatePem])).toContain(
      'no valid path',
    );
    // the same shape without the violation: inter1's leaf directly
    expect(
      validateX509Svid((await issue(inter1)).chainPem, [root.certificatePem], NOW).pathLength,
    ).toBe(3);
  });

  it('refuses a path through a CA with name constraints (not evaluated, so not trusted)', () => {
    const keyPair = generateKeyPair('ec-p256');
    const info = describeKeyObject(keyPair.publicKey) as PublicKeyInfo;
    const constrained = craft(
      root,
      (d) => [
        basicConstraintsExtension(true),
        keyUsageExtension([KEY_USAGE.keyCertSign]),
        subjectKeyIdentifierExtension(keyIdentifier(info)),
        d.aki!,
        extension(OID.nameConstraints, true, sequence([booleanTrue()])),
      ],
      { subjectDer: buildName({ commonName: 'constrained' }), key: info },
    );
    const leaf = craft(
      { certificatePem: constrained, privateKey: keyPair.privateKey, chainPem: [] },
      (d) => Object.values(d),
    );
    invalid([leaf, constrained], [root.certificatePem]);
  });
});

async function issueForKey(
  keyPair: ReturnType<typeof generateKeyPair>,
): Promise<{ certificatePem: string }> {
  const svid = await issueX509Svid({
    csrPem: buildCsr(keyPair),
    spiffeId: parseSpiffeId(`${ID}-signer`),
    ttlSeconds: 3600,
    authority: root,
    clock: new ManualClock(T0 + 60_000),
  });
  return { certificatePem: svid.certificatePem };
}

const ECDSA_SHA256 = {
  name: 'ecdsa-with-SHA256',
  oid: OID.ecdsaWithSha256,
  hash: 'sha256',
  keyFamily: 'ec',
} as const;

/** A leaf whose issuer name (empty) and signature point at a leaf holding `key`. */
function craftWithKey(key: SigningAuthority['privateKey']): string {
  const tbs = buildTbsCertificate({
    serial: randomSerial(),
    signatureAlgorithm: ECDSA_SHA256,
    issuerDer: EMPTY_NAME_DER,
    subjectDer: EMPTY_NAME_DER,
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 3600_000),
    spkiDer: LEAF_KEY.spkiDer,
    extensions: [subjectAltNameExtension({ uris: [ID] }, true), keyUsageExtension([0])],
  });
  return encodePem(
    certificateDer(tbs, ECDSA_SHA256, signData(ECDSA_SHA256, key!, tbs)),
    'CERTIFICATE',
  );
}
