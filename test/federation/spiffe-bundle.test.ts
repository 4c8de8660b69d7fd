import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import {
  decideBundleUpdate,
  parseBootstrapBundle,
  refreshDelayMs,
} from '../../src/federation/index.js';
import {
  bundleDocumentOf,
  checkBundleTrustDomain,
  parseSpiffeBundle,
  type SpiffeBundle,
} from '../../src/spiffe/index.js';
import { buildSelfSignedCa, generateKeyPair } from '../../src/x509/index.js';
import { createTestPki } from '../sidecar/test-pki.js';
import { createWebPki } from './web-pki.js';
import { codeOf } from '../helpers/error-code.js';

const caPem = (trustDomain: string): Promise<string> =>
  buildSelfSignedCa({
    trustDomain,
    keyPair: generateKeyPair('ec-p256'),
    ttlSeconds: 3600,
    clock: systemClock,
  });

function x509Entry(pem: string): Record<string, unknown> {
  const cert = new X509Certificate(pem);
  const jwk = cert.publicKey.export({ format: 'jwk' });
  return { ...jwk, use: 'x509-svid', x5c: [cert.raw.toString('base64')] };
}

function jwtEntry(kid: string, type: 'ec' | 'rsa' = 'ec'): Record<string, unknown> {
  const { publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...publicKey.export({ format: 'jwk' }), use: 'jwt-svid', kid };
}

const B_CA = await caPem('b.test');
const OTHER_B_CA = await caPem('b.test');
const B_LEAF = (await createTestPki(systemClock, 'b.test')).serverCertPem;
const JWT = jwtEntry('k1');
const doc = (extra: Record<string, unknown> = {}, keys: unknown[] = [x509Entry(B_CA), JWT]) =>
  JSON.stringify({ keys, spiffe_sequence: 7, spiffe_refresh_hint: 60, ...extra });

describe('parsing a SPIFFE bundle', () => {
  it('reads sequence, hint, X.509 and JWT authorities; ignores unknown uses and key types', () => {
    const bundle = parseSpiffeBundle(
      doc({}, [
        x509Entry(B_CA),
        JWT,
        { kty: 'EC', use: 'wit-svid', kid: 'w', crv: 'P-256', x: 'a', y: 'b' },
        { kty: 'OKP', use: 'jwt-svid', kid: 'ed', crv: 'Ed25519', x: 'abc' },
      ]),
    );
    expect(bundle.sequence).toBe(7);
    expect(bundle.refreshHintSeconds).toBe(60);
    expect(bundle.x509Authorities.map((der) => der.equals(new X509Certificate(B_CA).raw))).toEqual([
      true,
    ]);
    expect(bundle.jwtAuthorities.map((key) => key.kid)).toEqual(['k1']);
    // Written back with only the members each key needs.
    const again = bundleDocumentOf(bundle);
    expect(again).toMatchObject({ spiffe_sequence: 7, spiffe_refresh_hint: 60 });
    const keys = again['keys'] as Record<string, unknown>[];
    expect(keys[0]).toMatchObject({ use: 'x509-svid', kty: 'EC' });
    expect(keys[0]!['kid']).toBeUndefined();
    expect(keys[1]).toMatchObject({ use: 'jwt-svid', kid: 'k1', kty: 'EC', crv: 'P-256' });
    expect(parseSpiffeBundle(JSON.stringify(again))).toEqual(bundle);
  });

  it('accepts a bundle without sequence or hint, and an RSA JWT authority', () => {
    const bundle = parseSpiffeBundle(JSON.stringify({ keys: [jwtEntry('r', 'rsa')] }));
    expect(bundle.sequence).toBeUndefined();
    expect(bundle.refreshHintSeconds).toBeUndefined();
    expect(bundle.jwtAuthorities[0]).toMatchObject({ kid: 'r', kty: 'RSA' });
  });

  const other = x509Entry(OTHER_B_CA);
  it.each([
    ['not JSON', '{"keys": ['],
    ['not an object', '[]'],
    ['no keys', JSON.stringify({ spiffe_sequence: 1 })],
    ['keys not a list', JSON.stringify({ keys: {} })],
    ['negative sequence', doc({ spiffe_sequence: -1 })],
    ['sequence beyond 2^53', doc({ spiffe_sequence: 2 ** 60 })],
    ['fractional hint', doc({ spiffe_refresh_hint: 1.5 })],
    ['zero hint', doc({ spiffe_refresh_hint: 0 })],
    [
      'x5c of two certificates',
      doc({}, [{ ...other, x5c: [...(other['x5c'] as string[]), ...(other['x5c'] as string[])] }]),
    ],
    ['x5c empty', doc({}, [{ ...other, x5c: [] }])],
    ['x5c not DER', doc({}, [{ ...other, x5c: ['bm90IGEgY2VydA=='] }])],
    ['x5c a leaf, not a CA', doc({}, [x509Entry(B_LEAF)])],
    ['key members of another key', doc({}, [{ ...other, x: (JWT as { x: string }).x }])],
    ['jwt-svid without kid', doc({}, [{ ...JWT, kid: undefined }])],
    ['jwt-svid with an empty kid', doc({}, [{ ...JWT, kid: '' }])],
    ['duplicate kid', doc({}, [JWT, { ...jwtEntry('k1') }])],
    ['jwt-svid EC key off its curve', doc({}, [{ ...JWT, x: 'AAAA' }])],
    ['jwt-svid RSA key of 1024 bits', doc({}, [{ ...jwtEntry('s', 'rsa'), n: 'AQAB'.repeat(40) }])],
    ['private key members', doc({}, [{ ...JWT, d: 'c2VjcmV0' }])],
    ['no authority at all', doc({}, [])],
    ['a key without use', doc({}, [{ ...JWT, use: undefined }])],
  ])('refuses %s with ERR_FEDERATION_BUNDLE_MALFORMED', (_name, text) => {
    expect(codeOf(() => parseSpiffeBundle(text))).toBe('ERR_FEDERATION_BUNDLE_MALFORMED');
  });

  it('refuses a bundle whose CA names another trust domain; accepts one that names none', () => {
    const bundle = parseSpiffeBundle(doc());
    expect(() => checkBundleTrustDomain(bundle, 'b.test')).not.toThrow();
    expect(codeOf(() => checkBundleTrustDomain(bundle, 'a.test'))).toBe(
      'ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH',
    );
    const webRoot = parseSpiffeBundle(doc({}, [x509Entry(createWebPki().rootPem)]));
    expect(() => checkBundleTrustDomain(webRoot, 'a.test')).not.toThrow();
  });
});

describe('bootstrap bundles', () => {
  it('are PEM CA certificates or a bundle document, without a sequence', async () => {
    const second = await caPem('b.test');
    const pem = parseBootstrapBundle(`${B_CA}\n${second}`);
    expect(pem.x509Authorities).toHaveLength(2);
    expect(pem.sequence).toBeUndefined();
    const json = parseBootstrapBundle(doc());
    expect(json.sequence).toBeUndefined();
    expect(json.jwtAuthorities).toHaveLength(1);
  });

  it.each([
    [
      'a private key',
      generateKeyPair('ec-p256').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ],
    ['a leaf certificate', B_LEAF],
    ['text around the PEM', `hello\n${B_CA}`],
    ['a damaged certificate', B_CA.replace(/[A-Z]{8}/, 'AAAAAAAA')],
    ['JWT keys only', JSON.stringify({ keys: [JWT] })],
    ['nothing', ''],
  ])('refuse %s', (_name, text) => {
    expect(codeOf(() => parseBootstrapBundle(text))).toBe('ERR_FEDERATION_BUNDLE_MALFORMED');
  });
});

describe('keeping the newest bundle', () => {
  const at = (
    sequence: number | undefined,
    keys = [x509Entry(B_CA), JWT],
    hint = 60,
  ): SpiffeBundle =>
    parseSpiffeBundle(
      JSON.stringify({ keys, spiffe_sequence: sequence, spiffe_refresh_hint: hint }),
    );
  const kept = (bundle: SpiffeBundle, source: 'endpoint' | 'bootstrap' = 'endpoint') => ({
    bundle,
    source,
  });
  const rotated = [x509Entry(B_CA), x509Entry(OTHER_B_CA), JWT];

  it('stores the first bundle, anything after a bootstrap bundle, and higher sequences', () => {
    expect(decideBundleUpdate(undefined, at(3)).kind).toBe('store');
    expect(decideBundleUpdate(kept(at(9), 'bootstrap'), at(3)).kind).toBe('store');
    expect(decideBundleUpdate(kept(at(3)), at(4, rotated)).kind).toBe('store');
    expect(decideBundleUpdate(kept(at(undefined)), at(1)).kind).toBe('store');
  });

  it('never goes backwards', () => {
    const lower = decideBundleUpdate(kept(at(5)), at(4, rotated));
    expect(lower).toMatchObject({
      kind: 'refuse',
      code: 'ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED',
    });
    // Lower is refused even with the very same keys: a replay is a replay.
    expect(decideBundleUpdate(kept(at(5)), at(4))).toMatchObject({ kind: 'refuse' });
    expect(decideBundleUpdate(kept(at(5)), at(5, rotated))).toMatchObject({ kind: 'refuse' });
    expect(decideBundleUpdate(kept(at(5)), at(undefined, rotated))).toMatchObject({
      kind: 'refuse',
    });
  });

  it('leaves an identical bundle alone, and keeps a changed hint', () => {
    expect(decideBundleUpdate(kept(at(5)), at(5)).kind).toBe('unchanged');
    expect(decideBundleUpdate(kept(at(5)), at(5, undefined, 30)).kind).toBe('store');
    expect(decideBundleUpdate(kept(at(undefined)), at(undefined)).kind).toBe('unchanged');
    expect(decideBundleUpdate(kept(at(undefined)), at(undefined, rotated)).kind).toBe('store');
  });

  it('fetches again at half the hint, 5 minutes without one, within 5 s and an hour', () => {
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(undefined)).toBe(150_000);
    expect(refreshDelayMs(1)).toBe(5_000);
    expect(refreshDelayMs(28 * 86_400)).toBe(3_600_000);
  });
});
