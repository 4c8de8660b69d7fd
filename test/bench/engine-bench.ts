// Certificate-engine throughput: raw P-256 signing as the machine's yardstick, and CSR → SVID.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { systemClock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildSelfSignedCa,
  generateKeyPair,
  issueX509Svid,
  prepareAuthority,
  verifyCsr,
} from '../../src/x509/index.js';
// Internals of the engine, timed on their own (not part of its public surface).
import { checkIssuedLeaf, type IntendedLeaf } from '../../src/x509/issued-leaf-check.js';
import { parseCertificate } from '../../src/x509/parsed-certificate.js';
import { decodeSinglePem } from '../../src/x509/pem.js';

/**
 * Operations run before a measured engine or ceiling figure, as many as the routes get: V8
 * and OpenSSL take thousands of issuances to settle (the first 500 cost about three times
 * the settled CPU), so a short run measured cold would mostly time the warm-up.
 */
export const WARM_UP = 2000;

/** Operations per second measured over roughly `durationMs`. */
export interface Rate {
  opsPerSec: number;
}

// Benchmarks measure elapsed time, which is not the "current time" the Clock module owns.
function measure(durationMs: number, batch: number, op: (i: number) => void): Rate {
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) op(done + i);
    done += batch;
    elapsed = performance.now() - start;
  } while (elapsed < durationMs);
  return { opsPerSec: Math.round((done * 1000) / elapsed) };
}

/**
 * Like {@link measure} for asynchronous operations: `inFlight` workers, each awaiting its
 * operation before starting the next, for roughly `durationMs`.
 */
export async function measureAsync(
  durationMs: number,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<Rate> {
  let done = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - start < durationMs) await op(done++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { opsPerSec: Math.round((done * 1000) / (performance.now() - start)) };
}

/**
 * Raw `crypto.sign` rate with a P-256 key over a fixed 200-byte buffer (about the size of an
 * SVID's TBSCertificate): the ceiling any certificate engine on this machine works under.
 */
export async function measureRawSign(durationMs: number): Promise<Rate> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tbs = randomBytes(200);
  for (let i = 0; i < 50; i++) sign('sha256', tbs, privateKey); // warm-up
  return measure(durationMs, 50, () => sign('sha256', tbs, privateKey));
}

/**
 * The two OpenSSL operations every issuance adds to its signature: verifying the CSR's
 * signature, and importing the CSR's public key (as a JWK, the fastest synchronous path).
 * Each is timed alone, and then as the engine must run them: a key imported afresh and a
 * signature verified under it, over 64 distinct keys. The first use of a just-imported key
 * costs more than a verify with a long-lived key (OpenSSL 3 converts the imported key to its
 * provider form then), so only the pair bounds the engine: no code around it can beat
 * `1 / (1/sign + 1/importAndVerify)`. The CPU of a sign and of the pair is read as well, to
 * set beside the engine's own CPU per SVID when a busy machine makes the rates wander.
 */
export async function measureCsrFloor(
  durationMs: number,
  warmUp = WARM_UP,
): Promise<{
  verify: Rate;
  keyImport: Rate;
  importAndVerify: Rate;
  cpu: { sign: number; importAndVerify: number };
}> {
  const keys = Array.from({ length: 64 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const tbs = randomBytes(200);
  const signatures = keys.map(({ privateKey }) => sign('sha256', tbs, privateKey));
  const jwks = keys.map(({ publicKey }) => publicKey.export({ format: 'jwk' }));
  const { publicKey } = keys[0]!;
  const signature = signatures[0]!;
  const importAndVerify = (i: number): void => {
    const key = createPublicKey({ key: jwks[i % jwks.length]!, format: 'jwk' });
    if (!verify('sha256', tbs, key, signatures[i % signatures.length]!)) {
      throw new Error('verify failed');
    }
  };
  for (let i = 0; i < warmUp; i++) importAndVerify(i);
  const verifyRate = measure(durationMs / 4, 50, () => {
    if (!verify('sha256', tbs, publicKey, signature)) throw new Error('verify failed');
  });
  const importRate = measure(durationMs / 4, 50, (i) =>
    createPublicKey({ key: jwks[i % jwks.length]!, format: 'jwk' }),
  );
  const pairRate = measure(durationMs / 4, 50, importAndVerify);
  const cpu = {
    sign: cpuPerCall(durationMs / 8, () => sign('sha256', tbs, keys[0]!.privateKey)),
    importAndVerify: cpuPerCall(durationMs / 8, importAndVerify),
  };
  return { verify: verifyRate, keyImport: importRate, importAndVerify: pairRate, cpu };
}

/** CPU (user + system) µs per call of `op`, over about `durationMs` of wall time. */
function cpuPerCall(durationMs: number, op: (i: number) => void): number {
  let done = 0;
  const before = process.cpuUsage();
  const start = performance.now();
  do {
    for (let i = 0; i < 20; i++) op(done + i);
    done += 20;
  } while (performance.now() - start < durationMs);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / done;
}

/** Like {@link cpuPerCall} for an asynchronous `op`, each call awaited before the next. */
async function cpuPerCallAsync(
  durationMs: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  const before = process.cpuUsage();
  const start = performance.now();
  do {
    for (let i = 0; i < 20; i++) await op(done + i);
    done += 20;
  } while (performance.now() - start < durationMs);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / done;
}

/** Where one issuance's CPU goes (µs per SVID), each part timed on its own. */
export interface EngineParts {
  /** The whole issuance, as the route calls it. */
  total: number;
  /** PEM decode, DER parse, JWK import of the key and the signature check. */
  csr: number;
  /** The issued leaf parsed again and every field checked against the intent. */
  leafCheck: number;
}

/**
 * Engine rate: CSR PEM in → signed, validated SVID PEM out, with a P-256 CA and a pool of
 * pre-made P-256 CSRs (each CSR is parsed and its signature verified on every issuance;
 * nothing is cached per CSR); and the CPU of its parts, read from `process.cpuUsage` so a
 * busy machine's waits do not count.
 */
export async function measureEngine(
  durationMs: number,
  warmUp = WARM_UP,
): Promise<Rate & { parts: EngineParts }> {
  const keyPair = generateKeyPair('ec-p256');
  const certificatePem = await buildSelfSignedCa({
    trustDomain: 'bench.local',
    keyPair,
    ttlSeconds: 86_400,
    clock: systemClock,
  });
  const authority = prepareAuthority({
    certificatePem,
    privateKey: keyPair.privateKey,
    chainPem: [],
  });
  const pool = Array.from({ length: 64 }, () => buildCsr(generateKeyPair('ec-p256')));
  const ids = pool.map((_, i) => parseSpiffeId(`spiffe://bench.local/ns/bench/sa/workload-${i}`));
  const issue = async (i: number) =>
    await issueX509Svid({
      csrPem: pool[i % pool.length]!,
      spiffeId: ids[i % ids.length]!,
      ttlSeconds: 3600,
      authority,
      clock: systemClock,
    });
  for (let i = 0; i < warmUp; i++) await issue(i);
  // Issuance is asynchronous (the CA may sign in a token): each SVID is awaited, one at a time.
  const rate = await measureAsync(durationMs, 1, issue);
  // One issued leaf per CSR of the pool, and what the issuer meant each to say.
  const leaves: { der: Buffer; intended: IntendedLeaf }[] = [];
  for (const [i, csrPem] of pool.entries()) {
    const svid = await issue(i);
    const der = decodeSinglePem(svid.certificatePem, ['CERTIFICATE']);
    const intended: IntendedLeaf = {
      authority,
      spiffeId: svid.spiffeId,
      serial: parseCertificate(der).serial,
      notBefore: svid.notBefore,
      notAfter: svid.notAfter,
      keyInfo: verifyCsr(csrPem).publicKeyInfo,
      dnsNames: [],
      ipAddresses: [],
    };
    checkIssuedLeaf(der, intended); // a leaf that fails here would make the figure meaningless
    leaves.push({ der, intended });
  }
  const part = durationMs / 3;
  const parts: EngineParts = {
    total: await cpuPerCallAsync(part, issue),
    csr: cpuPerCall(part, (i) => verifyCsr(pool[i % pool.length]!)),
    leafCheck: cpuPerCall(part, (i) => {
      const leaf = leaves[i % leaves.length]!;
      checkIssuedLeaf(leaf.der, leaf.intended);
    }),
  };
  return { ...rate, parts };
}
