// The bundle an operator hands over out of band to start an https_spiffe relationship: PEM CA
// certificates, or the peer's SPIFFE bundle document itself.
import { X509Certificate } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import { parseSpiffeBundle, type SpiffeBundle } from '../spiffe/index.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Reads a bootstrap bundle: if it has PEM blocks they must all be CA certificates (and there
 * must be nothing else but blank space); otherwise it is parsed as a SPIFFE bundle document.
 * Either way it has no sequence: the first bundle fetched replaces it (Federation §5.2.2.4).
 * @throws HallmarkError ERR_FEDERATION_BUNDLE_MALFORMED
 */
export function parseBootstrapBundle(text: string): SpiffeBundle {
  if (!text.includes('-----BEGIN')) {
    const bundle = parseSpiffeBundle(text);
    if (bundle.x509Authorities.length === 0) {
      throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
        detail: 'the bootstrap bundle has no X.509 authority to authenticate the endpoint',
      });
    }
    return { ...bundle, sequence: undefined };
  }
  const x509Authorities: Buffer[] = [];
  let rest = text;
  for (const match of text.matchAll(PEM_BLOCK)) {
    rest = rest.replace(match[0], '');
    if (match[1] !== 'CERTIFICATE') {
      throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
        detail: `the bootstrap bundle holds a ${match[1]}, not only certificates`,
      });
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(match[0]);
    } catch {
      throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
        detail: 'a certificate of the bootstrap bundle does not parse',
      });
    }
    if (!certificate.ca) {
      throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
        detail: 'a certificate of the bootstrap bundle is not a CA certificate',
      });
    }
    if (!x509Authorities.some((der) => der.equals(certificate.raw))) {
      x509Authorities.push(certificate.raw);
    }
  }
  if (rest.trim() !== '' || x509Authorities.length === 0) {
    throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
      detail: 'the bootstrap bundle must be PEM CA certificates or a SPIFFE bundle document',
    });
  }
  return {
    sequence: undefined,
    refreshHintSeconds: undefined,
    x509Authorities,
    jwtAuthorities: [],
  };
}
