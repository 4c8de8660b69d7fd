// The credentials a run handed out or was sent, collected as the run goes, for the leak search.
import { createPrivateKey } from 'node:crypto';
import type { Credential } from './leak-detector.js';

const JWT = /^[\w-]+\.[\w-]+\.[\w-]{40,}$/;

/** Every credential of one run, each with a label that says what it is (never its value). */
export class CredentialList {
  readonly all: Credential[] = [];

  /**
   * A secret string (also searched for in pieces) or bytes. A JWT is searched for whole and
   * its signature also in pieces: its header and claims are public, its signature is not.
   */
  add(label: string, value: string | Buffer): string | Buffer {
    const jwt = typeof value === 'string' && JWT.test(value);
    this.all.push({ label, value, partial: !jwt && typeof value === 'string' });
    if (jwt) {
      this.all.push({ label: `${label} (signature)`, value: value.split('.')[2]!, partial: true });
    }
    return value;
  }

  /**
   * A private key: its PEM, the DER inside it, and the private scalar (the only part secret
   * byte for byte: PKCS#8 starts with a constant prefix and carries the public key, which
   * certificates publish).
   */
  addPrivateKey(label: string, pem: string): void {
    this.all.push({ label, value: pem });
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    this.all.push({ label: `${label} (DER)`, value: Buffer.from(body, 'base64') });
    const { d } = createPrivateKey(pem).export({ format: 'jwk' });
    this.all.push({ label: `${label} (private scalar)`, value: Buffer.from(d ?? '', 'base64url') });
  }
}
