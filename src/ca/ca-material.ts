// Making a new CA: a key pair and its certificate, self-signed or under an operator's upstream CA.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock/index.js';
import { HallmarkError } from '../errors/index.js';
import type { KeyVault, NewKey } from '../keyring/index.js';
import { buildIntermediateCa, buildSelfSignedCa, type SigningAuthority } from '../x509/index.js';
import { splitPem } from './ca-store.js';

/** Key algorithms a Hallmark CA may use. */
export type CaKeyType = 'ec-p256' | 'ec-p384' | 'rsa-3072';

/** An operator-supplied CA that signs Hallmark's intermediate CAs. */
export interface UpstreamAuthority extends SigningAuthority {
  /** The root of the upstream chain: this, not Hallmark's intermediate, is the trust anchor. */
  rootPem: string;
}

/** A freshly made CA, not yet stored. */
export interface CaMaterial {
  certificatePem: string;
  chainPem: string[];
  /** The key pair: in this process (to be sealed) or in the PKCS#11 token. */
  key: NewKey;
}

/**
 * Generates a key pair in the vault (node:crypto, or the PKCS#11 token when one is configured)
 * and its CA certificate: self-signed through the new key's signer, or signed by the upstream
 * CA. If making the certificate fails, a token key is destroyed again.
 */
export async function createCaMaterial(
  settings: {
    trustDomain: string;
    keyType: CaKeyType;
    ttlSeconds: number;
    upstream: UpstreamAuthority | undefined;
  },
  clock: Clock,
  vault: KeyVault,
): Promise<CaMaterial> {
  const key = await vault.generate('ca', settings.keyType);
  try {
    const common = {
      trustDomain: settings.trustDomain,
      signer: key.signer,
      ttlSeconds: settings.ttlSeconds,
      clock,
    };
    if (settings.upstream) {
      const certificatePem = await buildIntermediateCa({ ...common, upstream: settings.upstream });
      // SVID chains carry our intermediate and the upstream's intermediates, never its root.
      const chainPem = [settings.upstream.certificatePem, ...settings.upstream.chainPem].filter(
        (pem) => pem !== settings.upstream?.rootPem,
      );
      return { certificatePem, chainPem, key };
    }
    return { certificatePem: await buildSelfSignedCa(common), chainPem: [], key };
  } catch (err) {
    await vault.discard(key).catch(() => undefined);
    throw err;
  }
}

/**
 * Reads `HALLMARK_UPSTREAM_CA_CERT` (the signing CA first, then any intermediates, ending at
 * the root) and `HALLMARK_UPSTREAM_CA_KEY`, and checks that the key belongs to the certificate.
 */
export async function loadUpstreamAuthority(files: {
  certPath: string;
  keyPath: string;
}): Promise<UpstreamAuthority> {
  const certs = splitPem(await readFile(files.certPath, 'utf8'));
  const [signer] = certs;
  if (signer === undefined)
    throw new HallmarkError('ERR_CA_UPSTREAM_INVALID', {
      detail: `${files.certPath} holds no certificate`,
    });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(files.keyPath, 'utf8'));
  } catch (cause) {
    throw new HallmarkError('ERR_CA_UPSTREAM_INVALID', {
      cause,
      detail: `${files.keyPath} is not a private key`,
    });
  }
  const certificate = new X509Certificate(signer);
  if (!certificate.ca || !certificate.checkPrivateKey(privateKey)) {
    throw new HallmarkError('ERR_CA_UPSTREAM_INVALID', {
      detail: 'upstream certificate is not a CA or does not match the key',
    });
  }
  return {
    certificatePem: signer,
    chainPem: certs.slice(1),
    privateKey,
    rootPem: certs.at(-1) as string,
  };
}
