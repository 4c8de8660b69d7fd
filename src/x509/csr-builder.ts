// Building CSRs for the sidecar: an empty-subject PKCS#10 request signed with node:crypto.
import { HallmarkError } from '../errors/index.js';
import {
  bitString,
  encode,
  implicitConstructed,
  preEncoded,
  sequence,
  smallInteger,
} from './der-writer.js';
import type { KeyPair } from './key-pair.js';
import { encodePem } from './pem.js';
import { algorithmIdentifier, signData, signingAlgorithmFor } from './signature-algorithm.js';
import { describeKeyObject, isRefusal } from './subject-public-key.js';

/**
 * Builds a PEM PKCS#10 CSR for `keyPair`: version 0, empty subject, no attributes — the
 * server takes nothing from a CSR but its key. The CertificationRequestInfo is built with
 * node-forge's ASN.1 layer and signed with node:crypto (ECDSA SHA-256/384 for P-256/P-384,
 * sha256WithRSAEncryption, Ed25519).
 *
 * @throws HallmarkError `ERR_X509_TEMPLATE_INVALID` for a key type Hallmark does not accept.
 * @see RFC 2986 §4.1
 */
export function buildCsr(keyPair: KeyPair): string {
  const algorithm = signingAlgorithmFor(keyPair.privateKey);
  const keyInfo = describeKeyObject(keyPair.publicKey);
  if (algorithm === undefined || isRefusal(keyInfo)) {
    throw new HallmarkError('ERR_X509_TEMPLATE_INVALID', {
      detail: 'key type not accepted for a CSR',
    });
  }
  const info = encode(
    sequence([
      smallInteger(0),
      sequence([]),
      preEncoded(keyInfo.spkiDer),
      // attributes [0] IMPLICIT SET OF Attribute, present and empty
      implicitConstructed(0, []),
    ]),
  );
  const signature = signData(algorithm, keyPair.privateKey, info);
  const csr = encode(
    sequence([preEncoded(info), algorithmIdentifier(algorithm), bitString(signature)]),
  );
  return encodePem(csr, 'CERTIFICATE REQUEST');
}
