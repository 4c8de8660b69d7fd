// The TLS identity of the bench's stand-in servers: a throwaway P-256 CA and a serving
// certificate for 127.0.0.1, as Hallmark's own listener has.
import { systemClock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { buildSelfSignedCa, generateKeyPair, issueServerSvid } from '../../src/x509/index.js';

/** PEM key and certificate for a listener, and the CA clients trust. */
export interface BenchTls {
  key: string;
  cert: string;
  bundlePem: string;
}

/** A fresh CA and a one-hour serving certificate for `127.0.0.1` naming `spiffeId`. */
export async function benchTls(spiffeId: string): Promise<BenchTls> {
  const caKeys = generateKeyPair('ec-p256');
  const bundlePem = await buildSelfSignedCa({
    trustDomain: 'bench.local',
    keyPair: caKeys,
    ttlSeconds: 3600,
    clock: systemClock,
  });
  const keys = generateKeyPair('ec-p256');
  const serving = await issueServerSvid({
    spiffeId: parseSpiffeId(spiffeId),
    publicKey: keys.publicKey,
    dnsNames: [],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
    authority: { certificatePem: bundlePem, privateKey: caKeys.privateKey, chainPem: [] },
    clock: systemClock,
  });
  return {
    key: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    cert: serving.certificatePem,
    bundlePem,
  };
}
