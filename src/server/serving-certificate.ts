// The server's own HTTPS certificate: an SVID for spiffe://<td>/hallmark/server, renewed at half-life.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { CertificateAuthority } from '../ca/index.js';
import type { Clock } from '../clock/index.js';
import type { ServingTlsSource, TlsMaterial } from '../http/index.js';
import { SERVER_SPIFFE_PATH, spiffeIdFromPath } from '../spiffe/index.js';
import { generateKeyPair, issueServerSvid } from '../x509/index.js';

/** Lifetime of the serving certificate; short, because it is renewed in memory for free. */
const SERVING_TTL_SECONDS = 24 * 3600;

/**
 * Issues the serving certificate from the active CA with a fresh key that never leaves this
 * process, re-issues it at half-life and whenever the CA set changes, and tells listeners
 * (the HTTPS server swaps its secure context; no restart).
 */
export class ServingCertificate implements ServingTlsSource {
  #material: TlsMaterial;
  #renewAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly trustDomain: string,
    private readonly names: readonly string[],
    private readonly clock: Clock,
  ) {
    this.#material = this.#issue();
    this.#unsubscribe = ca.onChange(() => this.#bundleChanged());
    this.#timer = setInterval(() => {
      if (this.clock.now() >= this.#renewAt) this.renew();
    }, 30_000);
    this.#timer.unref();
  }

  current(): TlsMaterial {
    return this.#material;
  }

  /** When the current certificate is re-issued (epoch ms): half its lifetime after issuance. */
  renewAt(): number {
    return this.#renewAt;
  }

  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Issues a new certificate now and notifies listeners. */
  renew(): void {
    this.#material = this.#issue();
    for (const listener of this.#listeners) listener(this.#material);
  }

  /**
   * A new bundle always reaches the TLS context (client certificates are checked against it),
   * but the serving certificate is re-issued only if its own CA left the bundle: right after a
   * rotation, clients may not have fetched the new CA yet, and the old one stays published
   * until it expires, so the current certificate keeps verifying everywhere.
   */
  #bundleChanged(): void {
    const bundle = this.ca.bundle().certificatesPem;
    const issuer = new X509Certificate(this.#material.cert).issuer;
    if (!bundle.some((pem) => new X509Certificate(pem).subject === issuer)) {
      this.renew();
      return;
    }
    this.#material = { ...this.#material, ca: [...bundle] };
    for (const listener of this.#listeners) listener(this.#material);
  }

  #issue(): TlsMaterial {
    const { authority } = this.ca.signingAuthority();
    const keyPair = generateKeyPair('ec-p256');
    const svid = issueServerSvid({
      spiffeId: spiffeIdFromPath(this.trustDomain, SERVER_SPIFFE_PATH),
      publicKey: keyPair.publicKey,
      dnsNames: this.names.filter((name) => isIP(name) === 0),
      ipAddresses: this.names.filter((name) => isIP(name) !== 0),
      ttlSeconds: SERVING_TTL_SECONDS,
      authority,
      clock: this.clock,
    });
    const lifetime = svid.notAfter.getTime() - svid.notBefore.getTime();
    this.#renewAt = svid.notBefore.getTime() + lifetime / 2;
    return {
      key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      cert: svid.chainPem.join(''),
      ca: [...this.ca.bundle().certificatesPem],
    };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe();
  }
}
