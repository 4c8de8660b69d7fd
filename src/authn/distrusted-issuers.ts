// SVIDs signed by a CA an operator distrusted: recognised by their chain or their issuance record.
import type { X509Certificate } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';

/** A distrusted CA: its database id (issuance records carry it) and its certificate. */
export interface DistrustedIssuer {
  readonly id: number;
  readonly certificate: X509Certificate;
}

/** The distrusted CAs as the CA service has them now (empty almost always). */
export type DistrustedIssuers = () => readonly DistrustedIssuer[];

/**
 * The distrusted CA a presented chain leads to: one of its certificates is that CA, or was
 * signed by it. The chain is checked before anything else, so the refusal names the reason
 * even after TLS stopped trusting the CA (the server's CA list left it with the bundle).
 */
export function distrustedIssuerOf(
  chain: readonly X509Certificate[],
  distrusted: readonly DistrustedIssuer[],
): DistrustedIssuer | undefined {
  for (const issuer of distrusted) {
    for (const certificate of chain) {
      if (certificate.raw.equals(issuer.certificate.raw)) return issuer;
      // @see RFC 5280 §6.1.3 (a)(1), (a)(4): issued by it means its name and its signature.
      if (
        certificate.checkIssued(issuer.certificate) &&
        certificate.verify(issuer.certificate.publicKey)
      ) {
        return issuer;
      }
    }
  }
  return undefined;
}

/** The refusal of an SVID whose CA was distrusted: the holder must obtain a new SVID. */
export function distrustedSvidError(caId: number, serialHex: string): HallmarkError {
  return new HallmarkError('ERR_AUTHN_CA_DISTRUSTED', {
    detail: `SVID ${serialHex} was signed by distrusted CA ${caId}`,
  });
}
