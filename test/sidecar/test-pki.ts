// A throw-away trust domain for sidecar unit tests: a real root CA, real SVIDs, a real serving
// certificate for 127.0.0.1 — all made with the certificate engine.
import type { Clock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildSelfSignedCa,
  generateKeyPair,
  issueServerSvid,
  issueX509Svid,
} from '../../src/x509/index.js';
import type { SigningAuthority } from '../../src/x509/index.js';

/** A root CA and what tests need from it. */
export interface TestPki {
  readonly authority: SigningAuthority;
  /** The root certificate (PEM): the trust bundle. */
  readonly bundlePem: string;
  /** Serving certificate chain and key for https://127.0.0.1. */
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

/** Makes a root CA for `trustDomain` and a serving certificate for 127.0.0.1/localhost. */
export async function createTestPki(
  clock: Clock,
  trustDomain = 'hallmark.local',
): Promise<TestPki> {
  const keyPair = generateKeyPair('ec-p256');
  const bundlePem = await buildSelfSignedCa({ trustDomain, keyPair, ttlSeconds: 86_400, clock });
  const authority: SigningAuthority = {
    certificatePem: bundlePem,
    privateKey: keyPair.privateKey,
    chainPem: [],
  };
  const serverKey = generateKeyPair('ec-p256');
  const serving = await issueServerSvid({
    spiffeId: parseSpiffeId(`spiffe://${trustDomain}/hallmark/server`),
    publicKey: serverKey.publicKey,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
    authority,
    clock,
  });
  return {
    authority,
    bundlePem,
    serverCertPem: serving.chainPem.join(''),
    serverKeyPem: String(serverKey.privateKey.export({ type: 'pkcs8', format: 'pem' })),
  };
}

/** Issues an SVID for `csrPem` as the server would. */
export async function issueTestSvid(
  pki: TestPki,
  csrPem: string,
  spiffeId: string,
  ttlSeconds: number,
  clock: Clock,
): Promise<{ chainPem: string; notAfter: Date }> {
  const svid = await issueX509Svid({
    csrPem,
    spiffeId: parseSpiffeId(spiffeId),
    ttlSeconds,
    authority: pki.authority,
    clock,
  });
  return { chainPem: svid.chainPem.join(''), notAfter: svid.notAfter };
}
